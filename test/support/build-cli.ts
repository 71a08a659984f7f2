/**
 * vitest global setup of the projects that run real processes: builds the CLI (dist/, from cli/ and
 * the functions/ modules it shares) once before any test file when a source is newer than the build,
 * so that a test never runs a stale CLI and files running side by side never rebuild it under each other.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/local-server.mjs";

const SOURCES = ["cli", "functions/domain", "functions/client"];
const BUILT = join(ROOT, "dist", "cli", "kdgat.js");

const modified = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

export default function setup(): void {
  const newest = Math.max(...SOURCES.flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true }).map((file) => modified(join(ROOT, dir, String(file))))));
  if (newest <= modified(BUILT)) return;
  const result = spawnSync(process.execPath, [join(ROOT, "scripts", "build-cli.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`building the CLI failed:\n${result.stdout}${result.stderr}`);
}
