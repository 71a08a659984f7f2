/** `kdgat query`: runs (newest first, filtered), the leaderboard, group comparisons; tables, JSON or CSV. */
import { Option, type Command } from "commander";
import type { CompareResponse, LeaderboardResponse, RunListResponse, RunSummary } from "../../functions/api/contract.js";
import { ApiClient, withConnectionOptions, type ConnectionFlags } from "../api-client.js";
import { UsageError } from "../errors.js";
import { formatDuration, formatTime, formatValue, renderCsv, renderTable, terminalSafe, type Column } from "../output.js";

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
    .option("--csv", "print CSV");
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

type Format = "table" | "json" | "csv";
const formatOf = (flags: QueryFlags): Format => (flags.json ? "json" : flags.csv ? "csv" : "table");

function print<T>(format: Format, columns: Column<T>[], rows: T[], json: unknown): void {
  if (format === "json") process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else if (format === "csv") process.stdout.write(`${renderCsv(columns, rows)}\n`);
  else process.stdout.write(rows.length === 0 ? "no runs match\n" : `${renderTable(columns, rows)}\n`);
}

async function listRuns(client: ApiClient, flags: QueryFlags): Promise<void> {
  const status = flags.running ? "RUNNING" : flags.failed ? "FAILED" : undefined;
  const runs: RunSummary[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.json<RunListResponse>("GET", "/api/v1/runs", {
      query: { dataset: flags.dataset, stage: flags.stage, size: flags.size, kd: flags.kd, status, limit: 1000, page_token: pageToken },
      auth: false,
    });
    runs.push(...page.runs);
    pageToken = page.next_page_token;
  } while (pageToken && (flags.limit === undefined || runs.length < flags.limit));
  runs.sort((a, b) => b.start_time - a.start_time || a.run_id.localeCompare(b.run_id));
  const shown = flags.limit === undefined ? runs : runs.slice(0, flags.limit);
  const format = formatOf(flags);
  print(format, format === "csv" ? RUN_CSV_COLUMNS : RUN_COLUMNS, shown, { runs: shown });
}

const RUN_COLUMNS: Column<RunSummary>[] = [
  { header: "RUN ID", value: (r) => r.run_id },
  { header: "STATUS", value: (r) => r.status },
  { header: "ATTEMPT", value: (r) => String(r.attempt), align: "right" },
  { header: "STARTED (UTC)", value: (r) => formatTime(r.start_time) },
  { header: "DURATION", value: (r) => formatDuration(r.start_time, r.end_time), align: "right" },
  { header: "TEACHER", value: (r) => r.teacher_run_id ?? "" },
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
  const board = await client.json<LeaderboardResponse>("GET", "/api/v1/leaderboard", {
    query: { metric: flags.metric, dataset: flags.dataset, stage: flags.stage, top: flags.top },
    auth: false,
  });
  type Entry = LeaderboardResponse["entries"][number];
  const columns: Column<Entry>[] = [
    { header: "RANK", value: (e) => String(e.rank), align: "right" },
    { header: "RUN ID", value: (e) => e.run.run_id },
    { header: board.metric, value: (e) => formatValue(e.value), align: "right" },
    { header: "STATUS", value: (e) => e.run.status },
    { header: "STARTED (UTC)", value: (e) => formatTime(e.run.start_time) },
  ];
  if (formatOf(flags) === "table") process.stdout.write(terminalSafe(`${board.stage} runs by ${board.metric} (${board.direction === "desc" ? "higher" : "lower"} is better)`) + "\n");
  print(formatOf(flags), columns, board.entries, board);
}

async function compare(client: ApiClient, flags: QueryFlags, a: string, b: string): Promise<void> {
  const result = await client.json<CompareResponse>("GET", "/api/v1/compare", { query: { a, b, metric: flags.metric, stage: flags.stage }, auth: false });
  const rows = flags.dataset ? result.datasets.filter((d) => d.dataset === flags.dataset) : result.datasets;
  type Row = CompareResponse["datasets"][number];
  const columns: Column<Row>[] = [
    { header: "DATASET", value: (d) => d.dataset },
    { header: `${a.toUpperCase()} RUN`, value: (d) => d.a?.run_id ?? "" },
    { header: a, value: (d) => formatValue(d.a?.value), align: "right" },
    { header: `${b.toUpperCase()} RUN`, value: (d) => d.b?.run_id ?? "" },
    { header: b, value: (d) => formatValue(d.b?.value), align: "right" },
    { header: "DELTA", value: (d) => (d.delta === null ? "" : `${d.delta >= 0 ? "+" : ""}${d.delta.toFixed(4)}`), align: "right" },
  ];
  if (formatOf(flags) === "table") process.stdout.write(terminalSafe(`${result.stage}: ${b} vs ${a} by ${result.metric} (delta = ${b} - ${a}; ${result.direction === "desc" ? "higher" : "lower"} is better)`) + "\n");
  print(formatOf(flags), columns, rows, { ...result, datasets: rows });
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`'${text}' is not a positive integer`);
  return n;
}
