/**
 * Public run reads:
 *   GET /runs[?format=csv], /runs.csv      latest attempt per run id, newest first, paged
 *   GET /runs/{dataset}/{name}             RunDetailResponse (`?attempt=N` for an older attempt)
 *   GET /runs/{dataset}/{name}/metrics/{key}  full history of one metric (key may hold `/` and `.`)
 */
import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { RUN_STATUSES } from "../db/schema";
import { formatCsv } from "../domain/csv";
import { RUN_ID_SEGMENT, RUN_UUID } from "../domain/run-id";
import type { AppEnv, Db } from "../env";
import { notFound } from "../errors";
import { publicRead } from "../http/access";
import { queryParams } from "../http/validate";
import { decodePageToken, encodePageToken, historyCursor } from "../search/cursor-token";
import { validateKey } from "../store/key-values";
import { findExperimentId } from "../store/pipeline-runs";
import { listAttempts, listLatestRuns, listStudents } from "../store/reads";
import type { MetricHistoryResponse, RunDetailResponse, RunListResponse, RunSummary } from "./contract";
import { metricHistory, runRecords, summarize } from "./presenters";
import { experimentName, pathRunId, queryInt, requireExperimentId } from "./run-path";

export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 100;

/** A dataset, stage or model size in a query: the shape of a run id segment. */
export const segmentQuery = z.string().check(z.regex(RUN_ID_SEGMENT, "expected a run id segment (letters, digits, '.', '_', '-')"));

const listQuery = z.strictObject({
  experiment: experimentName,
  dataset: z.optional(segmentQuery),
  stage: z.optional(segmentQuery),
  size: z.optional(segmentQuery),
  kd: z.optional(
    z.pipe(
      z.enum(["true", "false"]),
      z.transform((v) => v === "true"),
    ),
  ),
  status: z.optional(z.enum(RUN_STATUSES)),
  limit: z._default(z.pipe(queryInt, z.number().check(z.minimum(1), z.maximum(MAX_LIST_LIMIT))), DEFAULT_LIST_LIMIT),
  page_token: z.optional(z.string().check(z.maxLength(500))),
  format: z._default(z.enum(["json", "csv"]), "json"),
});

const listCursor = z.tuple([z.int(), z.string().check(z.regex(RUN_UUID))]);

async function runList(db: Db, query: z.output<typeof listQuery>): Promise<RunListResponse> {
  const after = query.page_token === undefined ? undefined : decodePageToken(query.page_token, listCursor);
  const experimentId = await findExperimentId(db, query.experiment);
  if (experimentId === undefined) return { runs: [] };
  const page = await listLatestRuns(
    db,
    { experimentId, dataset: query.dataset, stage: query.stage, modelSize: query.size, kd: query.kd, status: query.status },
    query.limit,
    after && { startTime: after[0], runUuid: after[1] },
  );
  return {
    runs: await summarize(db, page.rows, query.experiment),
    ...(page.next && { next_page_token: encodePageToken([page.next.startTime, page.next.runUuid]) }),
  };
}

const CSV_COLUMNS = [
  "run_id",
  "mlflow_run_id",
  "experiment",
  "dataset",
  "model_size",
  "stage",
  "kd",
  "status",
  "start_time",
  "end_time",
  "attempt",
  "teacher_run_id",
  "error_msg",
] as const satisfies ReadonlyArray<keyof RunSummary>;

/** The list as CSV; the next page's token travels in the X-Next-Page-Token header. */
function csvResponse(c: Context<AppEnv>, list: RunListResponse) {
  if (list.next_page_token) c.header("X-Next-Page-Token", list.next_page_token);
  c.header("Content-Disposition", 'attachment; filename="runs.csv"');
  // A text answer to a typed client (hc), sent as CSV.
  return c.text(
    formatCsv(
      CSV_COLUMNS,
      list.runs.map((run) => CSV_COLUMNS.map((column) => run[column])),
    ),
    200,
    { "Content-Type": "text/csv; charset=utf-8" },
  );
}

const attemptQuery = z.strictObject({ experiment: experimentName, attempt: z.optional(queryInt) });

/** The requested attempt of a run id (the latest by default) and all its attempts. */
async function findAttempt(db: Db, experiment: string, runId: string, attempt: number | undefined) {
  const attempts = await listAttempts(db, await requireExperimentId(db, experiment), runId);
  const run = attempt === undefined ? (attempts.find((a) => a.isLatest) ?? attempts.at(-1)) : attempts.find((a) => a.attempt === attempt);
  if (!run) throw notFound(attempt === undefined ? `No run ${runId} in experiment '${experiment}'.` : `Run ${runId} has no attempt ${attempt}.`);
  return { run, attempts };
}

export const runReads = new Hono<AppEnv>()
  .get("/runs", publicRead(), queryParams(listQuery), async (c) => {
    const query = c.req.valid("query");
    const list = await runList(c.get("db"), query);
    return query.format === "csv" ? csvResponse(c, list) : c.json(list);
  })
  .get("/runs.csv", publicRead(), queryParams(z.omit(listQuery, { format: true })), async (c) => {
    return csvResponse(c, await runList(c.get("db"), { ...c.req.valid("query"), format: "csv" }));
  })
  .get("/runs/:dataset/:name", publicRead(), queryParams(attemptQuery), async (c) => {
    const db = c.get("db");
    const query = c.req.valid("query");
    const runId = pathRunId(c.req.param());
    const { run, attempts } = await findAttempt(db, query.experiment, runId, query.attempt);
    const [summary] = await summarize(db, [run], query.experiment);
    const records = await runRecords(db, run.runUuid);
    const body: RunDetailResponse = {
      run: summary,
      ...records,
      metric_keys: Object.keys(records.metrics),
      attempts: attempts.map((a) => ({ mlflow_run_id: a.runUuid, attempt: a.attempt, status: a.status, start_time: a.startTime, end_time: a.endTime })),
      students: await listStudents(db, run.experimentId, runId),
    };
    return c.json(body);
  })
  .get("/runs/:dataset/:name/metrics/:key{.+}", publicRead(), queryParams(z.extend(attemptQuery, { page_token: z.optional(z.string()) })), async (c) => {
    const db = c.get("db");
    const query = c.req.valid("query");
    const runId = pathRunId(c.req.param());
    const key = c.req.param("key");
    validateKey("metric", key);
    const after = query.page_token === undefined ? undefined : decodePageToken(query.page_token, historyCursor);
    const { run } = await findAttempt(db, query.experiment, runId, query.attempt);
    const { points, next } = await metricHistory(db, run.runUuid, key, after);
    const body: MetricHistoryResponse = { run_id: runId, mlflow_run_id: run.runUuid, key, points, ...(next && { next_page_token: encodePageToken(next) }) };
    return c.json(body);
  });
