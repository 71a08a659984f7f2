/**
 * vitest global setup of the projects that run real processes: builds the CLI (dist/, from cli/ and
 * the functions/ modules it shares) once before any test file when a source is newer than the build,
 * so that a test never runs a stale CLI and files running side by side never rebuild it under each other.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildCli, CLI_SOURCES } from "../../scripts/build-cli.mjs";
import { ROOT } from "../../scripts/local-server.mjs";

const BUILT = join(ROOT, "dist", "cli", "kdgat.js");

const modified = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

export default async function setup(): Promise<void> {
  const newest = Math.max(...CLI_SOURCES.flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true }).map((file) => modified(join(ROOT, dir, String(file))))));
  if (newest > modified(BUILT)) await buildCli();
}
