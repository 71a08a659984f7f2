/** Runs the built CLI (`dist/cli/kdgat.js`, built on demand) as a real child process. */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const KDGAT = join(ROOT, "dist", "cli", "kdgat.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Builds the CLI when a source file is newer than the built entry point. */
export function ensureCliBuilt(): void {
  const built = (() => {
    try {
      return statSync(KDGAT).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const sources = [join(ROOT, "cli"), join(ROOT, "functions", "domain")];
  const newest = Math.max(...sources.flatMap((dir) => readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, String(f))).mtimeMs)));
  if (newest <= built) return;
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.cli.json"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`building the CLI failed:\n${result.stdout}${result.stderr}`);
}

export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [KDGAT, ...args], {
      cwd: options.cwd ?? ROOT,
      // No $COLUMNS from the shell that runs the tests: a test that wants a width sets it.
      env: { ...process.env, KDGAT_API: "", KDGAT_TOKEN: "", KDGAT_ADMIN_TOKEN: "", COLUMNS: "", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolveRun({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
