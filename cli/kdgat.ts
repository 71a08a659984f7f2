#!/usr/bin/env node
/** kdgat: the KD-GAT tracker's companion CLI (migrate, backfill, query, tokens, export/import). */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { UnreachableError } from "../functions/client/index.js";
import { TrackerError } from "./api-client.js";
import { registerBackfill } from "./commands/backfill.js";
import { registerExport } from "./commands/export.js";
import { registerGc } from "./commands/gc.js";
import { registerImport } from "./commands/import.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerQuery } from "./commands/query.js";
import { registerToken } from "./commands/token.js";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { terminalSafe } from "./output.js";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("kdgat")
  .description("Companion CLI of kdgat-tracker: migrate experimentruns/, backfill and query the tracker")
  .version(packageJson.version)
  .showHelpAfterError("(run with --help for usage)")
  // Parser errors become exceptions, so that every usage error exits with 2.
  .exitOverride();

registerMigrate(program);
registerBackfill(program);
registerQuery(program);
registerToken(program);
registerExport(program);
registerImport(program);
registerGc(program);

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
