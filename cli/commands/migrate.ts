/** `kdgat migrate`: old 8-level layout -> new 2-level layout, with dry run, crash-safe execute and rollback. */
import type { Command } from "commander";
import { OLD_LAYOUT_ROOT } from "../../functions/domain/layout.js";
import { type ConnectionFlags, withConnectionOptions } from "../api-client.js";
import type { BackfillResult } from "../backfill/backfill.js";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../errors.js";
import { executeMigration, type FolderResult, rollbackMigration } from "../migrate/apply.js";
import { ConfinedRoot } from "../migrate/confine.js";
import { foldMoves, Journal } from "../migrate/journal.js";
import { lexists } from "../migrate/move-folder.js";
import { type LinkWarning, linksThatWouldBreak, planMigration } from "../migrate/plan.js";
import { terminalSafe } from "../output.js";
import { startProgress } from "../progress.js";
import { resolveRoot, withRootOption } from "./root-option.js";

interface MigrateFlags extends ConnectionFlags {
  root: string;
  dryRun?: boolean;
  execute?: boolean;
  rollback?: boolean;
  backfill?: boolean;
  json?: boolean;
}

export function registerMigrate(program: Command): void {
  const command = withRootOption(program.command("migrate").description("move experimentruns/ from the old automotive/... layout to {dataset}/{run name}/"))
    .option("--dry-run", "list what would move, conflicts and unmappable folders; change nothing")
    .option("--execute", "move the folders (journaled: re-run after a crash to finish)")
    .option("--rollback", "put every moved folder back where it was")
    .option("--backfill", "with --execute: log each migrated run in the tracker as it is moved")
    .option("--json", "print a machine-readable plan or report");
  withConnectionOptions(command).action(async (flags: MigrateFlags) => {
    process.exitCode = await migrate(flags);
  });
}

async function migrate(flags: MigrateFlags): Promise<number> {
  const modes = [flags.dryRun, flags.execute, flags.rollback].filter(Boolean).length;
  if (modes !== 1) throw new UsageError("choose exactly one of --dry-run, --execute, --rollback");
  if (flags.backfill && !flags.execute) throw new UsageError("--backfill goes with --execute");
  const root = resolveRoot(flags.root);
  const confined = new ConfinedRoot(root);
  const hasJournal = Journal.exists(confined);
  if (!flags.rollback && !lexists(confined.path(OLD_LAYOUT_ROOT)) && !hasJournal) {
    throw new UsageError(`${root} has no ${OLD_LAYOUT_ROOT}/ folder: --root must be the experimentruns folder`);
  }
  const mode = flags.dryRun ? "dry-run" : flags.execute ? "execute" : "rollback";
  const progress = flags.json ? undefined : (total: number) => startProgress(flags.rollback ? "restoring" : "moving", total);

  if (flags.dryRun) {
    const pending = [...foldMoves(Journal.read(confined)).values()].filter((m) => m.state === "intent" || m.state === "undo-intent");
    const plan = planMigration(confined);
    return report({ mode, root, results: plan, linkWarnings: linksThatWouldBreak(confined, plan), pendingFromCrash: pending.length }, flags.json);
  }
  if (flags.rollback) {
    if (!hasJournal) {
      return report({ mode, root, results: [], note: `no migration journal in ${root}: nothing to roll back` }, flags.json);
    }
    const { results, complete } = await rollbackMigration(confined, { progress });
    const note = complete ? "the tree is as before the migration (folder times included); the journal is removed" : "some folders could not be restored: fix them and run --rollback again";
    return report({ mode, root, results, note }, flags.json);
  }
  const backfiller = flags.backfill ? await startBackfill(flags, root) : undefined;
  const results = await executeMigration(confined, { progress, onMoved: backfiller ? (runIds) => backfiller.run(runIds).then(() => undefined) : undefined });
  return report({ mode, root, results, backfill: backfiller?.results }, flags.json);
}

/** The backfill's modules (the HTTP client, the contract's schemas) are loaded only when it is asked for. */
async function startBackfill(flags: MigrateFlags, root: string) {
  const [{ ApiClient }, { Backfiller }] = await Promise.all([import("../api-client.js"), import("../backfill/backfill.js")]);
  return Backfiller.create(ApiClient.fromFlags(flags), root);
}

interface MigrationReport {
  mode: "dry-run" | "execute" | "rollback";
  root: string;
  results: FolderResult[];
  linkWarnings?: LinkWarning[];
  pendingFromCrash?: number;
  note?: string;
  backfill?: BackfillResult[];
}

const LABELS: Record<FolderResult["status"], string> = {
  move: "would move",
  moved: "moved",
  restored: "restored",
  "target-exists": "skipped",
  symlink: "skipped",
  "not-a-folder": "skipped",
  ignored: "ignored",
  duplicate: "failed",
  unmappable: "failed",
  failed: "failed",
};

/** Hidden entries are noted, not counted: they were never run folders. */
function summarize(results: FolderResult[]) {
  const count = (label: string) => results.filter((r) => LABELS[r.status] === label).length;
  return {
    total: results.length - count("ignored"),
    migrated: count("would move") + count("moved") + count("restored"),
    skipped: count("skipped"),
    failed: count("failed"),
  };
}

async function report(outcome: MigrationReport, json = false): Promise<number> {
  const summary = summarize(outcome.results);
  const backfillFailed = outcome.backfill?.some((r) => r.status === "failed") ?? false;
  const exitCode = summary.failed > 0 || backfillFailed ? EXIT_FAILED : EXIT_OK;
  if (json) {
    const folders = outcome.results.map(({ from, to, status, reason }) => ({ from, to, status, ...(reason ? { reason } : {}) }));
    const warnings = outcome.linkWarnings?.length ? { link_warnings: outcome.linkWarnings } : {};
    process.stdout.write(
      `${JSON.stringify({ mode: outcome.mode, root: outcome.root, folders, ...warnings, summary, ...(outcome.note ? { note: outcome.note } : {}), ...(outcome.pendingFromCrash ? { pending_from_crash: outcome.pendingFromCrash } : {}), ...(outcome.backfill ? { backfill: outcome.backfill } : {}) }, null, 2)}\n`,
    );
    return exitCode;
  }
  // Folder names are anyone's bytes: printed with their control characters escaped.
  const lines = outcome.results.map((r) => {
    const target = r.to ? ` -> ${r.to}` : "";
    return terminalSafe(`${LABELS[r.status].padEnd(10)} ${r.from}${target}${r.reason ? `: ${r.reason}` : ""}`);
  });
  for (const warning of outcome.linkWarnings ?? []) lines.push(terminalSafe(`${"warning".padEnd(10)} ${warning.link} -> ${warning.target}: ${warning.reason}`));
  if (outcome.pendingFromCrash) lines.push(`note: an interrupted migration left ${outcome.pendingFromCrash} move(s) open; --execute finishes them, --rollback undoes them`);
  if (outcome.note) lines.push(terminalSafe(outcome.note));
  const verb = outcome.mode === "dry-run" ? "to migrate" : outcome.mode === "rollback" ? "restored" : "migrated";
  const ignored = outcome.results.length - summary.total;
  lines.push(`Summary: total ${summary.total}, ${verb} ${summary.migrated}, skipped ${summary.skipped}, failed ${summary.failed}${ignored > 0 ? `, ignored ${ignored} hidden` : ""}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  if (outcome.backfill) (await import("../backfill/backfill.js")).printBackfillReport(outcome.backfill);
  printNextSteps(outcome, summary.migrated);
  return exitCode;
}

function printNextSteps(outcome: MigrationReport, migrated: number): void {
  const root = JSON.stringify(outcome.root);
  const steps =
    outcome.mode === "dry-run"
      ? [`kdgat migrate --root ${root} --execute            # move them (re-run it if interrupted)`]
      : outcome.mode === "execute" && migrated > 0
        ? [
            ...(outcome.backfill ? [] : [`kdgat backfill --root ${root}             # log the migrated runs in the tracker`]),
            `kdgat migrate --root ${root} --rollback           # put every moved folder back`,
            `when satisfied, delete ${outcome.root}/${OLD_LAYOUT_ROOT}/ yourself (what is left there was not migrated)`,
          ]
        : [];
  if (steps.length > 0) process.stdout.write(`Next steps:\n${steps.map((s) => `  ${terminalSafe(s)}`).join("\n")}\n`);
}
