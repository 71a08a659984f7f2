/**
 * curl writes from SLURM jobs (Authorization: Bearer <token>):
 *   PUT  /runs/{dataset}/{name}          config.json -> a new attempt (RUNNING); 201, or 200 for a repeat
 *   POST /runs/{dataset}/{name}/metrics  metric points (see metric-uploads.ts)
 *   POST /runs/{dataset}/{name}/end      {"status", "error"?, "end_time"?}
 * Each answers `{"run_id": <mlflow uuid>, "name": <run id>, "attempt": N, ...}`. Metrics and ends
 * go to the attempt named by that run_id (`?run_id=` or the X-Run-Id header), else to the latest.
 */
import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import type { MetricUpload } from "../domain/metric-sources/index";
import { pythonStr } from "../domain/params";
import { type PyJson, parsePythonJsonWithSource, SourceNumber } from "../domain/python-json";
import { deriveRunTags } from "../domain/tags";
import type { AppEnv, Db } from "../env";
import { invalidParameter, notFound } from "../errors";
import { write } from "../http/access";
import { bodyText, jsonBody, queryParams } from "../http/validate";
import { appendMetricPoints, endAttempt, startAttempt } from "../store/pipeline-runs";
import { type AttemptRef, assertActive, getAttemptIn, type RunRow } from "../store/runs";
import type { AttemptAnswer, EndResponse, MetricsUploadResponse } from "./contract";
import { parseMetricUpload, UPLOAD_FORMATS } from "./metric-uploads";
import { attemptRunId, experimentName, namedAttempt, pathRunId, queryInt, RUN_ID_HEADER, requireExperimentId } from "./run-path";

const attemptBody = (run: RunRow): AttemptAnswer => ({ run_id: run.runUuid, name: run.name, attempt: run.attempt });

/**
 * The attempt a metrics upload or an end writes to: the one the request names by its run_id, which
 * must be an attempt of this run id (superseded or not: a requeued job's old copy still logs to and
 * ends its own attempt), else the latest.
 */
function attemptRef(c: Context<AppEnv>, runId: string, { experiment, run_id }: { experiment: string; run_id?: string }): AttemptRef {
  return { experiment, name: runId, runUuid: namedAttempt(run_id, c.req.header(RUN_ID_HEADER)) };
}

/** The attempt a ref names if it may be written to; else the error that says why not. */
async function targetAttempt(db: Db, ref: AttemptRef): Promise<RunRow> {
  const run = await getAttemptIn(db, ref);
  if (run) return assertActive(run);
  await requireExperimentId(db, ref.experiment);
  if (ref.runUuid !== undefined) throw notFound(`No attempt with run_id ${ref.runUuid} of ${ref.name} in experiment '${ref.experiment}'.`);
  throw notFound(`No run ${ref.name} in experiment '${ref.experiment}'; start it with PUT first.`);
}

const idempotencyKey = z.string().check(z.minLength(1), z.maxLength(LIMITS.maxKeyLength), z.regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"));

function badKey(key: string): never {
  throw invalidParameter(`Invalid Idempotency-Key '${excerpt(key)}': 1-${LIMITS.maxKeyLength} printable ASCII characters without spaces.`);
}

function parseConfig(text: string): Record<string, PyJson> {
  let config: PyJson;
  try {
    config = parsePythonJsonWithSource(text);
  } catch {
    throw invalidParameter("Malformed JSON in request body: send the stage's config.json.");
  }
  if (typeof config !== "object" || config === null || Array.isArray(config) || config instanceof SourceNumber) {
    throw invalidParameter("The body must be a JSON object (the stage's config.json).");
  }
  return config;
}

export const runWrites = new Hono<AppEnv>()
  .put("/runs/:dataset/:name", write(), queryParams(z.strictObject({ experiment: experimentName, start_time: z.optional(queryInt) })), async (c) => {
    const runId = pathRunId(c.req.param());
    const query = c.req.valid("query");
    const key = c.req.header("Idempotency-Key");
    if (key !== undefined && !idempotencyKey.safeParse(key).success) badKey(key);
    const config = parseConfig(await bodyText(c.req));
    const startTime = query.start_time ?? Date.now();
    const { run, created } = await startAttempt(c.get("db"), {
      experiment: query.experiment,
      name: runId,
      params: Object.entries(config).map(([k, v]) => ({ key: k, value: pythonStr(v) })),
      // start_time and end_time tags are ISO 8601 (UTC), as Python's datetime.isoformat writes them.
      tags: Object.entries({ ...deriveRunTags(runId, config), start_time: new Date(startTime).toISOString(), status: "running" }).map(([k, v]) => ({ key: k, value: v })),
      startTime,
      startTimeIsExplicit: query.start_time !== undefined,
      idempotencyKey: key,
    });
    return c.json(attemptBody(run), created ? 201 : 200);
  })
  .post(
    "/runs/:dataset/:name/metrics",
    write(LIMITS.maxUploadBytes),
    queryParams(
      z.strictObject({
        experiment: experimentName,
        format: z.optional(z.enum(UPLOAD_FORMATS)),
        timestamp: z.optional(queryInt),
        step: z.optional(queryInt),
        run_id: z.optional(attemptRunId),
      }),
    ),
    async (c) => {
      const db = c.get("db");
      const runId = pathRunId(c.req.param());
      const query = c.req.valid("query");
      const ref = attemptRef(c, runId, query);
      const parse = (text: string, timestamp?: number) => parseMetricUpload(text, query.format, c.req.header("Content-Type") ?? "", { timestamp, step: query.step ?? 0 });
      // Parsed before the attempt is known (so that the write is one D1 round trip), but a refused
      // upload to a missing attempt is refused for the attempt, as when it was looked up first.
      let text = "";
      let upload: MetricUpload;
      try {
        text = await bodyText(c.req);
        upload = parse(text, query.timestamp);
      } catch (error) {
        await targetAttempt(db, ref);
        throw error;
      }
      // Points with and without their own timestamps: their order depends on the start time.
      if (upload.timestamps === "mixed") upload = parse(text, (await targetAttempt(db, ref)).startTime);
      const written = await appendMetricPoints(db, ref, upload.points, upload.timestamps === "start", () => targetAttempt(db, ref));
      return c.json({ run_id: written.runUuid, name: runId, attempt: written.attempt, points: upload.points.length } satisfies MetricsUploadResponse);
    },
  )
  .post(
    "/runs/:dataset/:name/end",
    write(),
    queryParams(z.strictObject({ experiment: experimentName, run_id: z.optional(attemptRunId) })),
    jsonBody(
      z.strictObject({
        status: z.enum(["FINISHED", "FAILED", "KILLED"]),
        error: z.optional(z.string().check(z.maxLength(LIMITS.maxTagValueLength))),
        end_time: z.optional(z.int().check(z.nonnegative())),
      }),
    ),
    async (c) => {
      const runId = pathRunId(c.req.param());
      const body = c.req.valid("json");
      const run = await targetAttempt(c.get("db"), attemptRef(c, runId, c.req.valid("query")));
      const ended = await endAttempt(c.get("db"), run, { status: body.status, endTime: body.end_time ?? Date.now(), error: body.error });
      return c.json({ ...attemptBody(ended), status: ended.status, end_time: ended.endTime } satisfies EndResponse);
    },
  );
