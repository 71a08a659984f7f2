/** `--root <dir>`, the experimentruns folder that `migrate` and `backfill` work in. */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../errors.js";

export function withRootOption(command: Command): Command {
  return command.requiredOption("--root <dir>", "the experimentruns folder (absolute or relative)");
}

/** The --root folder as an absolute path; a usage error when it is no folder. */
export function resolveRoot(root: string): string {
  const path = resolve(root);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`--root ${root}: no such folder`);
  return path;
}
