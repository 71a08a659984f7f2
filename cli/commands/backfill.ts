/** `kdgat backfill`: every new-layout run folder becomes a finished run in the tracker. */
import type { Command } from "commander";
import { ApiClient, type ConnectionFlags, withConnectionOptions } from "../api-client.js";
import { printArtifactReport, uploadRunArtifacts } from "../backfill/artifacts.js";
import { Backfiller, type BackfillResult, printBackfillReport } from "../backfill/backfill.js";
import { findNewLayoutRuns } from "../backfill/run-folder.js";
import { EXIT_FAILED, EXIT_OK } from "../errors.js";
import { startProgress } from "../progress.js";
import { resolveRoot, withRootOption } from "./root-option.js";

interface BackfillFlags extends ConnectionFlags {
  root: string;
  dryRun?: boolean;
  json?: boolean;
  artifacts?: boolean;
}

export function registerBackfill(program: Command): void {
  const command = withRootOption(program.command("backfill").description("log every {dataset}/{name}/ run folder under --root in the tracker (config, metrics, times); safe to re-run"))
    .option("--dry-run", "show what would be sent; send nothing")
    .option("--json", "print the report as JSON")
    .option(
      "--artifacts",
      "also upload each run folder's checkpoints (*.pt), slurm.out/.err and lightning_logs/ as artifacts of its latest attempt; files already stored with the same size and SHA-256 are skipped (resumable)",
    );
  withConnectionOptions(command).action(async (flags: BackfillFlags) => {
    process.exitCode = await backfill(flags);
  });
}

async function backfill(flags: BackfillFlags): Promise<number> {
  const root = resolveRoot(flags.root);
  const { runIds, skipped } = findNewLayoutRuns(root);
  const backfiller = await Backfiller.create(ApiClient.fromFlags(flags), root, { dryRun: flags.dryRun });
  const progress = flags.json ? undefined : startProgress("backfilling", runIds.length);
  await backfiller.run(runIds, () => progress?.increment());
  progress?.stop();
  const results: BackfillResult[] = [...skipped.map((s) => ({ run_id: s.path, status: "skipped" as const, detail: s.reason })), ...backfiller.results];
  const artifacts = flags.artifacts && !flags.dryRun ? await uploadRunArtifacts(ApiClient.fromFlags(flags), root, runIds, { quiet: flags.json }) : undefined;
  if (flags.json) process.stdout.write(`${JSON.stringify({ root, runs: results, ...(artifacts && { artifacts }) }, null, 2)}\n`);
  else {
    printBackfillReport(results);
    if (artifacts) printArtifactReport(artifacts);
  }
  return results.some((r) => r.status === "failed") || artifacts?.some((a) => a.failed) ? EXIT_FAILED : EXIT_OK;
}
