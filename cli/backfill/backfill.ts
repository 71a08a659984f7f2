/**
 * Logging run folders in the tracker through /api/v1, as finished runs.
 *
 * Idempotency: a backfilled attempt starts at the folder's oldest file mtime (`?start_time=`), and
 * every metric point has a timestamp derived from it (metrics.json: the start time; metrics.csv row
 * i: start time + i), so re-sending stores nothing twice. A run id whose latest attempt has that
 * start time and is finished is left alone ("already backfilled": nothing is sent); one still
 * RUNNING was cut short (a crash, a kill) and is completed; a run id tracked with another start
 * time was logged live by the pipeline and is never shadowed by an older copy from disk.
 */
import { readFileSync } from "node:fs";
import type { RunListResponse, RunSummary } from "../../functions/api/contract.js";
import { flattenMetrics, parsePythonJson } from "../../functions/domain/index.js";
import { encodeRunId, type ApiClient } from "../api-client.js";
import { mapConcurrent } from "../concurrency.js";
import { readRunFolder } from "./run-folder.js";

const REQUESTS_IN_FLIGHT = 6;
/** Bytes of one metrics.csv upload: half the API's 8 MB upload limit. */
const CSV_BYTES_PER_REQUEST = 4 * 1024 * 1024;

export type BackfillStatus = "backfilled" | "completed" | "already-backfilled" | "already-tracked" | "skipped" | "would-send" | "failed";

export interface BackfillResult {
  run_id: string;
  status: BackfillStatus;
  detail?: string;
}

export class Backfiller {
  readonly results: BackfillResult[] = [];

  private constructor(
    private readonly client: ApiClient,
    private readonly root: string,
    private readonly tracked: Map<string, RunSummary>,
    private readonly dryRun: boolean,
  ) {}

  /** Reads the tracker's run list once (a dry run sends nothing and reads nothing). */
  static async create(client: ApiClient, root: string, options: { dryRun?: boolean } = {}): Promise<Backfiller> {
    const tracked = options.dryRun ? new Map<string, RunSummary>() : await loadTrackedRuns(client);
    return new Backfiller(client, root, tracked, options.dryRun ?? false);
  }

  /** Backfills the run ids, a few requests in flight; onEach is called as each one ends (progress). */
  async run(runIds: readonly string[], onEach?: () => void): Promise<BackfillResult[]> {
    const results = await mapConcurrent(runIds, REQUESTS_IN_FLIGHT, async (runId) => {
      const result = await this.backfillOne(runId).catch((error: Error): BackfillResult => ({ run_id: runId, status: "failed", detail: error.message }));
      onEach?.();
      return result;
    });
    this.results.push(...results);
    return results;
  }

  private async backfillOne(runId: string): Promise<BackfillResult> {
    const folder = readRunFolder(this.root, runId);
    if (!folder.configPath || folder.startTime === undefined) {
      return { run_id: runId, status: "skipped", detail: "No config.json - skipping backfill" };
    }
    const existing = this.tracked.get(runId);
    const resume = existing?.start_time === folder.startTime && existing.status === "RUNNING";
    if (existing && existing.start_time === folder.startTime && !resume) return { run_id: runId, status: "already-backfilled" };
    if (existing && !resume) {
      return { run_id: runId, status: "already-tracked", detail: `tracked with another start time (attempt ${existing.attempt}, ${existing.status}): not backfilled` };
    }
    const csvChunks = splitCsvFiles(folder.metricsCsvPaths.map((path) => readFileSync(path, "utf8")));
    if (this.dryRun) return { run_id: runId, status: "would-send", detail: describe(folder, csvChunks) };

    const path = `/api/v1/runs/${encodeRunId(runId)}`;
    // Metrics and the end name this attempt (?run_id=), so that none lands on one started meanwhile.
    const attemptUuid = resume
      ? existing.mlflow_run_id
      : (await this.client.json<{ run_id: string }>("PUT", path, { query: { start_time: folder.startTime }, body: readFileSync(folder.configPath), contentType: "application/json" })).run_id;
    if (folder.metricsJsonPath) {
      await this.client.json("POST", `${path}/metrics`, { query: { format: "metrics.json", run_id: attemptUuid }, body: readFileSync(folder.metricsJsonPath), contentType: "application/json" });
    }
    for (const chunk of csvChunks) {
      // Row i of the run's CSV history gets start time + i: ordered, and the same on every re-send.
      await this.client.json("POST", `${path}/metrics`, { query: { timestamp: folder.startTime + chunk.firstRow, run_id: attemptUuid }, body: chunk.body, contentType: "text/csv" });
    }
    await this.client.json("POST", `${path}/end`, { query: { run_id: attemptUuid }, body: { status: "FINISHED", end_time: folder.endTime } });
    return { run_id: runId, status: resume ? "completed" : "backfilled" };
  }
}

async function loadTrackedRuns(client: ApiClient): Promise<Map<string, RunSummary>> {
  const tracked = new Map<string, RunSummary>();
  let pageToken: string | undefined;
  do {
    const page = await client.json<RunListResponse>("GET", "/api/v1/runs", { query: { limit: 1000, page_token: pageToken }, auth: false });
    for (const run of page.runs) tracked.set(run.run_id, run);
    pageToken = page.next_page_token;
  } while (pageToken);
  return tracked;
}

export interface CsvUpload {
  body: string;
  /** Index of the upload's first data row among all rows of the run's CSV files. */
  firstRow: number;
}

/** The run's metrics.csv files as uploads of at most CSV_BYTES_PER_REQUEST, each with its header. */
export function splitCsvFiles(files: readonly string[]): CsvUpload[] {
  const uploads: CsvUpload[] = [];
  let row = 0;
  for (const text of files) {
    const [header, ...rows] = text.split(/\r?\n/).filter((line) => line !== "");
    let lines: string[] = [];
    let bytes = 0;
    const flush = () => {
      if (lines.length > 0) uploads.push({ body: `${[header, ...lines].join("\n")}\n`, firstRow: row - lines.length });
      lines = [];
      bytes = 0;
    };
    for (const line of rows) {
      if (bytes + line.length > CSV_BYTES_PER_REQUEST) flush();
      lines.push(line);
      bytes += line.length + 1;
      row++;
    }
    flush();
  }
  return uploads;
}

function describe(folder: ReturnType<typeof readRunFolder>, csvChunks: CsvUpload[]): string {
  const params = Object.keys(parsePythonJson(readFileSync(folder.configPath!, "utf8")) as object).length;
  const parts = [`PUT config.json (${params} params, start ${new Date(folder.startTime!).toISOString()})`];
  if (folder.metricsJsonPath) parts.push(`metrics.json (${flattenMetrics(parsePythonJson(readFileSync(folder.metricsJsonPath, "utf8"))).size} metrics)`);
  if (folder.metricsCsvPaths.length > 0) parts.push(`${folder.metricsCsvPaths.length} metrics.csv in ${csvChunks.length} upload(s)`);
  parts.push(`end FINISHED at ${new Date(folder.endTime!).toISOString()}`);
  return parts.join(", ");
}

export function printBackfillReport(results: readonly BackfillResult[]): void {
  const lines = results.map((r) => `${r.status.padEnd(18)} ${r.run_id}${r.detail ? `: ${r.detail}` : ""}`);
  const count = (status: BackfillStatus) => results.filter((r) => r.status === status).length;
  lines.push(
    `Backfill: total ${results.length}, backfilled ${count("backfilled") + count("completed")}, unchanged ${count("already-backfilled") + count("already-tracked")}, skipped ${count("skipped")}, ${count("would-send") ? `would send ${count("would-send")}, ` : ""}failed ${count("failed")}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
