/** `kdgat query`: runs (newest first, filtered), the leaderboard, group comparisons; tables, JSON or CSV. */
import { type Command, Option } from "commander";
import type { CompareResponse, LeaderboardResponse, RunSummary } from "../../functions/api/contract.js";
import { pages } from "../../functions/client/index.js";
import { DEFAULT_LEADERBOARD_METRIC, STAGE_NAMES } from "../../functions/domain/index.js";
import { ApiClient, answer, type ConnectionFlags, withConnectionOptions } from "../api-client.js";
import { UsageError } from "../errors.js";
import { type Column, columnFormat, formatDuration, formatTime, renderCsv, renderTable, terminalSafe } from "../output.js";
import { unknownNameMessage } from "../suggest.js";

interface QueryFlags extends ConnectionFlags {
  all?: boolean;
  dataset?: string;
  stage?: string;
  size?: string;
  kd?: boolean;
  running?: boolean;
  failed?: boolean;
  limit?: number;
  leaderboard?: boolean;
  metric?: string;
  top?: number;
  compare?: string[];
  json?: boolean;
  csv?: boolean;
}

export function registerQuery(program: Command): void {
  const command = program
    .command("query")
    .description("list runs (newest first), the leaderboard, or compare two groups per dataset")
    .option("--all", "every run, newest first (the default)")
    .option("--dataset <dataset>", "only this dataset, e.g. hcrl_sa")
    .option("--stage <stage>", "only this stage, e.g. curriculum")
    .option("--size <size>", "only this model size, e.g. student")
    .option("--kd", "only knowledge-distilled runs")
    .option("--no-kd", "only runs without knowledge distillation")
    .option("--running", "only runs still running")
    .option("--failed", "only failed runs")
    .option("--limit <n>", "at most n runs", positiveInteger)
    .option("--leaderboard", "evaluation runs ranked by --metric")
    .option("--metric <key>", "metric to rank or compare by (default: the tracker's, an F1)")
    .option("--top <n>", "leaderboard length", positiveInteger)
    .option("--compare <groups...>", "compare two groups per dataset with the delta, e.g. --compare teacher student_kd")
    .addOption(new Option("--json", "print JSON").conflicts("csv"))
    .option("--csv", "print CSV (values exactly as stored)")
    .addHelpText("after", OLD_TOOL_HELP);
  withConnectionOptions(command).action(async (flags: QueryFlags) => {
    const views = [flags.leaderboard, flags.compare !== undefined, flags.running || flags.failed || flags.all].filter(Boolean).length;
    if (views > 1) throw new UsageError("--leaderboard, --compare and the run list (--all/--running/--failed) are separate views: pick one");
    if (flags.running && flags.failed) throw new UsageError("--running and --failed exclude each other");
    if (flags.compare && flags.compare.length !== 2) throw new UsageError("--compare takes two groups, e.g. --compare teacher student_kd");
    const client = ApiClient.fromFlags(flags);
    if (flags.leaderboard) return leaderboard(client, flags);
    if (flags.compare) return compare(client, flags, flags.compare[0], flags.compare[1]);
    return listRuns(client, flags);
  });
}

const OLD_TOOL_HELP = `
The old query tool's commands work unchanged (same flags, same meaning):
  old tool                            kdgat
  query --all                         kdgat query --all
  query --dataset D --stage S         kdgat query --dataset D --stage S
  query --leaderboard --top N         kdgat query --leaderboard --top N
  query --compare teacher student_kd  kdgat query --compare teacher student_kd
  query --running                     kdgat query --running
Filters also take --size Z and --kd / --no-kd. Metric names are the flattened
metrics.json keys: the default F1 is ${DEFAULT_LEADERBOARD_METRIC} (also fusion_f1, ...); an unknown
--metric or --stage lists the known names and the closest, and exits 2.
New here: --failed, --limit N, --json, --csv (exact values). Tables fit the
terminal ($COLUMNS): run ids are never cut; other columns are cut or dropped
first, and a note below the table says which.`;

type Format = "table" | "json" | "csv";
const formatOf = (flags: QueryFlags): Format => (flags.json ? "json" : flags.csv ? "csv" : "table");

/** Tables for people, CSV (its own columns, exact values) and JSON for scripts. */
function print<T>(format: Format, columns: { table: Column<T>[]; csv: Column<T>[] }, rows: T[], json: unknown): void {
  if (format === "json") process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else if (format === "csv") process.stdout.write(`${renderCsv(columns.csv, rows)}\n`);
  else process.stdout.write(rows.length === 0 ? "no runs match\n" : `${renderTable(columns.table, rows)}\n`);
}

/**
 * Nothing matched: if a stage or metric the user typed is one the tracker has never seen, that is a
 * usage error naming the known ones and the closest (a typo, or the old tool's `f1`), not an empty answer.
 */
async function explainMiss(client: ApiClient, names: { stage?: string; metric?: string }): Promise<void> {
  if (names.stage !== undefined) {
    const summary = await answer(client.publicV1.summary.$get({ query: {} }));
    const stages = [...new Set([...STAGE_NAMES, ...Object.keys(summary.by_stage)])];
    if (!stages.includes(names.stage)) throw new UsageError(unknownNameMessage("stage", names.stage, stages, `${client.baseUrl}/api/v1/summary`));
  }
  if (names.metric !== undefined) {
    const { keys, truncated } = await answer(client.publicV1["metric-keys"].$get({ query: {} }));
    // Past the listing's limit a name may exist unlisted: then the empty answer stands.
    if (!keys.includes(names.metric) && !truncated) throw new UsageError(unknownNameMessage("metric", names.metric, keys, `${client.baseUrl}/api/v1/metric-keys`));
  }
}

async function listRuns(client: ApiClient, flags: QueryFlags): Promise<void> {
  const status = flags.running ? "RUNNING" : flags.failed ? "FAILED" : undefined;
  const runs: RunSummary[] = [];
  const kd = flags.kd === undefined ? undefined : flags.kd ? "true" : "false";
  const query = { dataset: flags.dataset, stage: flags.stage, size: flags.size, kd, status, limit: "1000" } as const;
  for await (const page of pages((page_token) => answer(client.publicV1.runs.$get({ query: { ...query, page_token } })))) {
    runs.push(...page.runs);
    if (flags.limit !== undefined && runs.length >= flags.limit) break;
  }
  runs.sort((a, b) => b.start_time - a.start_time || a.run_id.localeCompare(b.run_id));
  const shown = flags.limit === undefined ? runs : runs.slice(0, flags.limit);
  if (shown.length === 0) await explainMiss(client, { stage: flags.stage });
  print(formatOf(flags), { table: RUN_COLUMNS, csv: RUN_CSV_COLUMNS }, shown, { runs: shown });
}

/**
 * Run ids are never cut (cut ones look alike): when space is short the error message is cut, then
 * duration, start, attempt and teacher are dropped, in that order.
 */
const RUN_COLUMNS: Column<RunSummary>[] = [
  { header: "RUN ID", value: (r) => r.run_id, identifier: true },
  { header: "STATUS", value: (r) => r.status },
  { header: "ATTEMPT", value: (r) => String(r.attempt), align: "right", dropOrder: 3 },
  { header: "STARTED (UTC)", value: (r) => formatTime(r.start_time), dropOrder: 2 },
  { header: "DURATION", value: (r) => formatDuration(r.start_time, r.end_time), align: "right", dropOrder: 1 },
  { header: "TEACHER", value: (r) => r.teacher_run_id ?? "", dropOrder: 4 },
  { header: "ERROR", value: (r) => (r.error_msg ?? "").replace(/\s+/g, " ") },
];

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());
const RUN_CSV_COLUMNS: Column<RunSummary>[] = [
  { header: "run_id", value: (r) => r.run_id },
  { header: "status", value: (r) => r.status },
  { header: "attempt", value: (r) => String(r.attempt) },
  { header: "dataset", value: (r) => r.dataset ?? "" },
  { header: "model_size", value: (r) => r.model_size ?? "" },
  { header: "stage", value: (r) => r.stage ?? "" },
  { header: "kd", value: (r) => (r.kd === null ? "" : String(r.kd)) },
  { header: "start_time", value: (r) => iso(r.start_time) },
  { header: "end_time", value: (r) => iso(r.end_time) },
  { header: "teacher_run_id", value: (r) => r.teacher_run_id ?? "" },
  { header: "error_msg", value: (r) => r.error_msg ?? "" },
  { header: "mlflow_run_id", value: (r) => r.mlflow_run_id },
];

async function leaderboard(client: ApiClient, flags: QueryFlags): Promise<void> {
  const top = flags.top === undefined ? undefined : String(flags.top);
  const board = await answer(client.publicV1.leaderboard.$get({ query: { metric: flags.metric, dataset: flags.dataset, stage: flags.stage, top } }));
  if (board.entries.length === 0) await explainMiss(client, { stage: flags.stage, metric: flags.metric });
  type Entry = LeaderboardResponse["entries"][number];
  const value = columnFormat(board.entries.map((e) => e.value));
  const table: Column<Entry>[] = [
    { header: "RANK", value: (e) => String(e.rank), align: "right" },
    { header: "RUN ID", value: (e) => e.run.run_id, identifier: true },
    { header: board.metric, value: (e) => value(e.value), align: "right" },
    { header: "STATUS", value: (e) => e.run.status, dropOrder: 2 },
    { header: "STARTED (UTC)", value: (e) => formatTime(e.run.start_time), dropOrder: 1 },
  ];
  const csv: Column<Entry>[] = [
    { header: "rank", value: (e) => String(e.rank) },
    { header: "run_id", value: (e) => e.run.run_id },
    { header: board.metric, value: (e) => String(e.value) },
    { header: "status", value: (e) => e.run.status },
    { header: "start_time", value: (e) => iso(e.run.start_time) },
  ];
  if (formatOf(flags) === "table") process.stdout.write(`${terminalSafe(`${board.stage} runs by ${board.metric} (${board.direction === "desc" ? "higher" : "lower"} is better)`)}\n`);
  print(formatOf(flags), { table, csv }, board.entries, board);
}

async function compare(client: ApiClient, flags: QueryFlags, a: string, b: string): Promise<void> {
  const result = await answer(client.publicV1.compare.$get({ query: { a, b, metric: flags.metric, stage: flags.stage } }));
  const rows = flags.dataset ? result.datasets.filter((d) => d.dataset === flags.dataset) : result.datasets;
  if (rows.length === 0) await explainMiss(client, { stage: flags.stage, metric: flags.metric });
  type Row = CompareResponse["datasets"][number];
  // Both sides and the delta share one format, so that the delta shown is b - a as shown.
  const numbers = rows.flatMap((d) => [d.a?.value, d.b?.value, d.delta]);
  const [value, delta] = [columnFormat(numbers), columnFormat(numbers, { signed: true })];
  // The dataset tells the rows apart; the run ids are `{dataset}/...` and go first when space is short.
  const table: Column<Row>[] = [
    { header: "DATASET", value: (d) => d.dataset, identifier: true },
    { header: `${a.toUpperCase()} RUN`, value: (d) => d.a?.run_id ?? "", dropOrder: 1 },
    { header: a, value: (d) => value(d.a?.value), align: "right" },
    { header: `${b.toUpperCase()} RUN`, value: (d) => d.b?.run_id ?? "", dropOrder: 2 },
    { header: b, value: (d) => value(d.b?.value), align: "right" },
    { header: "DELTA", value: (d) => delta(d.delta), align: "right" },
  ];
  const exact = (value: number | string | null | undefined) => (value === null || value === undefined ? "" : String(value));
  const csv: Column<Row>[] = [
    { header: "dataset", value: (d) => d.dataset },
    { header: `${a}_run_id`, value: (d) => d.a?.run_id ?? "" },
    { header: a, value: (d) => exact(d.a?.value) },
    { header: `${b}_run_id`, value: (d) => d.b?.run_id ?? "" },
    { header: b, value: (d) => exact(d.b?.value) },
    { header: "delta", value: (d) => exact(d.delta) },
  ];
  if (formatOf(flags) === "table")
    process.stdout.write(`${terminalSafe(`${result.stage}: delta = ${b} - ${a} by ${result.metric} (${result.direction === "desc" ? "higher" : "lower"} is better)`)}\n`);
  print(formatOf(flags), { table, csv }, rows, { ...result, datasets: rows });
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`'${text}' is not a positive integer`);
  return n;
}
