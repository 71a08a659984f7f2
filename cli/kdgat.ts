#!/usr/bin/env node
/** kdgat: the KD-GAT tracker's companion CLI (migrate, backfill, query, tokens, export/import). */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { UnreachableError } from "../functions/client/index.js";
import { TrackerError } from "./api-client.js";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { terminalSafe } from "./output.js";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("kdgat")
  .description("Companion CLI of kdgat-tracker: migrate experimentruns/, backfill and query the tracker")
  .version(packageJson.version)
  .showHelpAfterError("(run with --help for usage)")
  // Parser errors become exceptions, so that every usage error exits with 2.
  .exitOverride();

/**
 * Each command's module, in the order of --help. Only the named command's is loaded (all of them for
 * --help or a mistyped name): `kdgat migrate`, which SLURM scripts and the crash tests start hundreds
 * of times, then starts without the HTTP client, zod and the progress bar.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  migrate: async () => (await import("./commands/migrate.js")).registerMigrate,
  backfill: async () => (await import("./commands/backfill.js")).registerBackfill,
  query: async () => (await import("./commands/query.js")).registerQuery,
  token: async () => (await import("./commands/token.js")).registerToken,
  export: async () => (await import("./commands/export.js")).registerExport,
  import: async () => (await import("./commands/import.js")).registerImport,
  gc: async () => (await import("./commands/gc.js")).registerGc,
};
const named = Object.hasOwn(COMMANDS, process.argv[2] ?? "") ? [COMMANDS[process.argv[2]]] : Object.values(COMMANDS);
for (const register of await Promise.all(named.map((load) => load()))) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version also arrive here, with exit code 0.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`kdgat: ${terminalSafe(error.message)}\n`);
    return EXIT_USAGE;
  }
  const message =
    error instanceof TrackerError
      ? `the tracker answered ${error.message}`
      : error instanceof UnreachableError
        ? `cannot reach the tracker at ${error.url} (${error.reason})`
        : (error as Error).message;
  process.stderr.write(`kdgat: ${terminalSafe(message)}\n`);
  return EXIT_FAILED;
}
