/** Runs the built CLI (`dist/cli/kdgat.js`, built before the tests by test/support/build-cli.ts) as a real child process. */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const KDGAT = join(ROOT, "dist", "cli", "kdgat.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
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
