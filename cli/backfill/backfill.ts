/**
 * Logging run folders in the tracker through /api/v1, as finished runs, all or nothing per run.
 *
 * Idempotency: a backfilled attempt starts at the folder's oldest file mtime (`?start_time=`), and
 * every metric point has a timestamp derived from it (metrics.json: the start time; metrics.csv row
 * i: start time + i), so re-sending stores nothing twice. A run id whose latest attempt has that
 * start time and is finished is left alone ("already backfilled": nothing is sent); one still
 * RUNNING was cut short (a crash, a kill) and is completed; a run id tracked with another start
 * time was logged live by the pipeline and is never shadowed by an older copy from disk.
 *
 * All or nothing: every file is read and parsed (metrics.csv by the tracker's own parser) before the first write. A run with
 * a malformed metrics.json or metrics.csv (found here, or refused by the tracker) is logged with its
 * config and ended FAILED with `<file>: <reason>` in error_msg and in the tag BACKFILL_ERROR_TAG.
 * Once the file is fixed, the next backfill completes that same attempt: back to RUNNING, the two
 * tags removed, everything sent, FINISHED (the attempt count does not change). A FAILED or KILLED
 * attempt without the tag was ended live, not by backfill, and is never turned into FINISHED.
 */
import type { RunDetailResponse, RunSummary } from "../../functions/api/contract.js";
import { pages } from "../../functions/client/index.js";
import { mapConcurrent } from "../../functions/domain/concurrency.js";
import {
  csvRow,
  expectsMetricsJson,
  flattenMetrics,
  formatCsv,
  isJsonObject,
  type LightningCsv,
  MetricSourceError,
  NO_METRICS_TAG,
  PointClock,
  parsePythonJson,
  readLightningCsv,
  rowPoints,
} from "../../functions/domain/index.js";
import { LIMITS } from "../../functions/domain/limits.js";
import { type ApiClient, answer, encodeRunId, TrackerError } from "../api-client.js";
import { terminalSafe } from "../output.js";
import { type RunFile, type RunFolder, readRunFolder, SYMLINKED_FOLDER } from "./run-folder.js";

const REQUESTS_IN_FLIGHT = 6;
/** Bytes of one metrics.csv upload: half the API's 8 MB upload limit. */
const CSV_BYTES_PER_REQUEST = 4 * 1024 * 1024;
/** Marks an attempt that backfill ended FAILED because a file was malformed (the value: file and reason). */
export const BACKFILL_ERROR_TAG = "kdgat.backfill_error";
/** error_msg holds the file and the reason; a parser's message can be long. */
const MAX_ERROR_LENGTH = 1000;

export type BackfillStatus = "backfilled" | "completed" | "already-backfilled" | "already-tracked" | "skipped" | "would-send" | "failed";

export interface BackfillResult {
  run_id: string;
  status: BackfillStatus;
  detail?: string;
  /** An evaluation run logged FINISHED without a metrics.json (tagged NO_METRICS_TAG). */
  no_metrics?: true;
}

const NO_METRICS_NOTE = `finished, no metrics (no metrics.json: tagged ${NO_METRICS_TAG}=true)`;

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
    if (!folder) return { run_id: runId, status: "skipped", detail: SYMLINKED_FOLDER };
    const withNotes = (detail?: string) => [detail, ...folder.skipped].filter(Boolean).join("; ") || undefined;
    if (!folder.config || folder.startTime === undefined) {
      return { run_id: runId, status: "skipped", detail: withNotes("No config.json - skipping backfill") };
    }
    const existing = this.tracked.get(runId);
    if (existing && existing.start_time !== folder.startTime) {
      return { run_id: runId, status: "already-tracked", detail: `tracked with another start time (attempt ${existing.attempt}, ${existing.status}): not backfilled` };
    }
    const repair = existing?.status === "FAILED" && (await this.failedByBackfill(existing));
    if (existing && existing.status !== "RUNNING" && !repair) {
      return { run_id: runId, status: "already-backfilled", ...(existing.status !== "FINISHED" && { detail: `${existing.status} when logged live: left as it is` }) };
    }
    const config = parseJsonObject(folder.config);
    if (config.problem !== undefined) return { run_id: runId, status: "failed", detail: withNotes(`${config.problem}: nothing sent`) };
    const metrics = folder.metricsJson && parseJsonObject(folder.metricsJson);
    const csv = csvUploadsOf(folder.metricsCsvs);
    if (this.dryRun) return { run_id: runId, status: "would-send", detail: withNotes(describe(folder, config.value, metrics, csv)) };

    const path = `/api/v1/runs/${encodeRunId(runId)}`;
    let attempt: { run_id: string };
    try {
      attempt = await this.client.json("PUT", path, { query: { start_time: folder.startTime }, body: folder.config.bytes, contentType: "application/json" });
    } catch (error) {
      const reason = refusal(error);
      throw reason === undefined ? error : new Error(`config.json: ${reason}: nothing sent`);
    }
    // The same start time and config name the attempt backfill ended FAILED: reopen it, so that
    // anything that stops this backfill leaves it RUNNING, which the next one completes.
    if (repair && attempt.run_id === existing?.mlflow_run_id) await this.client.json("POST", "/api/2.0/mlflow/runs/update", { body: { run_id: attempt.run_id, status: "RUNNING" } });
    // Metrics and the end name this attempt (?run_id=), so that none lands on one started meanwhile.
    const failure = metrics?.problem ?? csv.problem ?? (await this.sendMetrics(path, attempt.run_id, folder, csv.uploads!));
    if (failure) {
      await this.endFailed(path, attempt.run_id, failure, folder.endTime!);
      return { run_id: runId, status: "failed", detail: withNotes(`ended FAILED: ${failure}`) };
    }
    if (existing) await this.clearBackfillError(attempt.run_id);
    const noMetrics = !folder.metricsJson && expectsMetricsJson(runId);
    if (noMetrics) await this.client.json("POST", "/api/2.0/mlflow/runs/set-tag", { body: { run_id: attempt.run_id, key: NO_METRICS_TAG, value: "true" } });
    await this.client.json("POST", `${path}/end`, { query: { run_id: attempt.run_id }, body: { status: "FINISHED", end_time: folder.endTime } });
    const status = existing ? "completed" : "backfilled";
    return noMetrics ? { run_id: runId, status, detail: withNotes(NO_METRICS_NOTE), no_metrics: true } : { run_id: runId, status, detail: withNotes() };
  }

  /** Whether this FAILED attempt was ended by a backfill (a malformed file), not by the job that ran it. */
  private async failedByBackfill(attempt: RunSummary): Promise<boolean> {
    const detail = await this.client.json<RunDetailResponse>("GET", `/api/v1/runs/${encodeRunId(attempt.run_id)}`, { auth: false });
    return detail.run.mlflow_run_id === attempt.mlflow_run_id && BACKFILL_ERROR_TAG in detail.tags;
  }

  /** Sends the run's metrics; a file the tracker refuses is answered with `<file>: <reason>`. */
  private async sendMetrics(path: string, runUuid: string, folder: RunFolder, csvUploads: CsvUpload[]): Promise<string | undefined> {
    if (folder.metricsJson) {
      const refused = await refusalOf(
        this.client.json("POST", `${path}/metrics`, { query: { format: "metrics.json", run_id: runUuid }, body: folder.metricsJson.bytes, contentType: "application/json" }),
      );
      if (refused) return `${folder.metricsJson.name}: ${refused}`;
    }
    for (const upload of csvUploads) {
      // Row i of the run's CSV history gets start time + i: ordered, and the same on every re-send.
      const sent = this.client.json("POST", `${path}/metrics`, { query: { timestamp: folder.startTime! + upload.firstRow, run_id: runUuid }, body: upload.body, contentType: "text/csv" });
      const refused = await refusalOf(sent);
      if (refused) return `${upload.file}: ${refused}${upload.firstLine > 2 ? ` (in the upload from line ${upload.firstLine})` : ""}`;
    }
    return undefined;
  }

  private async endFailed(path: string, runUuid: string, failure: string, endTime: number): Promise<void> {
    const error = failure.slice(0, MAX_ERROR_LENGTH);
    // The tag first: an attempt that backfill ended FAILED is always recognisable as such.
    await this.client.json("POST", "/api/2.0/mlflow/runs/set-tag", { body: { run_id: runUuid, key: BACKFILL_ERROR_TAG, value: error } });
    await this.client.json("POST", `${path}/end`, { query: { run_id: runUuid }, body: { status: "FAILED", error, end_time: endTime } });
  }

  /** Removes what an earlier backfill's FAILED end left on the attempt (nothing, for most). */
  private async clearBackfillError(runUuid: string): Promise<void> {
    for (const key of ["error_msg", BACKFILL_ERROR_TAG]) {
      const deleted = this.client.json("POST", "/api/2.0/mlflow/runs/delete-tag", { body: { run_id: runUuid, key } });
      await deleted.catch((error: unknown) => {
        if (!(error instanceof TrackerError && error.status === 404)) throw error;
      });
    }
  }
}

/** The latest attempt of every run id in the tracker (one paged list read). */
export async function loadTrackedRuns(client: ApiClient): Promise<Map<string, RunSummary>> {
  const tracked = new Map<string, RunSummary>();
  for await (const page of pages((page_token) => answer(client.publicV1.runs.$get({ query: { limit: "1000", page_token } })))) {
    for (const run of page.runs) tracked.set(run.run_id, run);
  }
  return tracked;
}

/** The tracker's reason when it refused a request as invalid (a 400: the file is at fault), else undefined. */
function refusal(error: unknown): string | undefined {
  return error instanceof TrackerError && error.status === 400 ? error.reason : undefined;
}

async function refusalOf(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
    return undefined;
  } catch (error) {
    const reason = refusal(error);
    if (reason === undefined) throw error;
    return reason;
  }
}

type ParsedJson = { value: Record<string, unknown>; problem?: undefined } | { value?: undefined; problem: string };

/** A JSON object file parsed as the tracker parses it, or why it is not one. */
function parseJsonObject(file: RunFile): ParsedJson {
  let value: unknown;
  try {
    value = parsePythonJson(file.bytes.toString("utf8"));
  } catch (error) {
    return { problem: `${file.name}: malformed JSON (${(error as Error).message})` };
  }
  return isJsonObject(value) ? { value } : { problem: `${file.name}: not a JSON object` };
}

export interface CsvUpload {
  /** The metrics.csv it is part of, relative to the run folder. */
  file: string;
  body: string;
  /** Index of the upload's first data row among all rows of the run's CSV files. */
  firstRow: number;
  /** Line of the file that the upload's first data row starts on. */
  firstLine: number;
}

type CsvUploads = { uploads: CsvUpload[]; problem?: undefined } | { uploads?: undefined; problem: string };

/**
 * The run's metrics.csv files read as the tracker reads them (the core's Lightning source), so a
 * malformed one is found before anything is sent, then cut at record boundaries into uploads of at
 * most CSV_BYTES_PER_REQUEST and LIMITS.maxPointsPerUpload points, each with its header.
 */
export function csvUploadsOf(files: readonly RunFile[]): CsvUploads {
  const uploads: CsvUpload[] = [];
  let row = 0;
  for (const file of files) {
    const text = file.bytes.toString("utf8");
    if (text.trim() === "") continue;
    let csv: LightningCsv;
    const sizes: Array<{ bytes: number; points: number }> = [];
    try {
      csv = readLightningCsv(text);
      // Only the count matters here; the tracker gives the points their timestamps.
      const clock = new PointClock({ step: 0 });
      for (const [i, record] of csv.rows.entries()) sizes.push({ bytes: Buffer.byteLength(csvRow(record.cells)) + 2, points: rowPoints(csv, i, clock).length });
    } catch (error) {
      if (error instanceof MetricSourceError) return { problem: `${file.name}: ${error.message}` };
      throw error;
    }
    let first = 0;
    let bytes = 0;
    let points = 0;
    const flush = (end: number) => {
      if (end > first) {
        const body = formatCsv(
          csv.header,
          csv.rows.slice(first, end).map((record) => record.cells),
        );
        uploads.push({ file: file.name, body, firstRow: row + first, firstLine: csv.rows[first].line });
      }
      first = end;
      bytes = 0;
      points = 0;
    };
    sizes.forEach((size, i) => {
      if (bytes + size.bytes > CSV_BYTES_PER_REQUEST || points + size.points > LIMITS.maxPointsPerUpload) flush(i);
      bytes += size.bytes;
      points += size.points;
    });
    flush(csv.rows.length);
    row += csv.rows.length;
  }
  return { uploads };
}

function describe(folder: RunFolder, config: Record<string, unknown>, metrics: ParsedJson | undefined, csv: CsvUploads): string {
  const parts = [`PUT config.json (${Object.keys(config).length} params, start ${new Date(folder.startTime!).toISOString()})`];
  const problem = metrics?.problem ?? csv.problem;
  if (problem !== undefined) return [...parts, `end FAILED: ${problem}`].join(", ");
  if (metrics) parts.push(`metrics.json (${flattenMetrics(metrics.value).size} metrics)`);
  else if (expectsMetricsJson(folder.runId)) parts.push(`no metrics.json (tag ${NO_METRICS_TAG}=true)`);
  if (folder.metricsCsvs.length > 0) parts.push(`${folder.metricsCsvs.length} metrics.csv in ${csv.uploads!.length} upload(s)`);
  parts.push(`end FINISHED at ${new Date(folder.endTime!).toISOString()}`);
  return parts.join(", ");
}

/** The human report: run ids and details come from folder names and the tracker, so each is made terminal-safe. */
export function printBackfillReport(results: readonly BackfillResult[]): void {
  const lines = results.map((r) => `${r.status.padEnd(18)} ${terminalSafe(r.run_id)}${r.detail ? `: ${terminalSafe(r.detail)}` : ""}`);
  const count = (status: BackfillStatus) => results.filter((r) => r.status === status).length;
  const noMetrics = results.filter((r) => r.no_metrics).length;
  lines.push(
    `Backfill: total ${results.length}, backfilled ${count("backfilled") + count("completed")}${noMetrics ? ` (${noMetrics} finished, no metrics)` : ""}, unchanged ${count("already-backfilled") + count("already-tracked")}, skipped ${count("skipped")}, ${count("would-send") ? `would send ${count("would-send")}, ` : ""}failed ${count("failed")}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
