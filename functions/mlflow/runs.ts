/** runs/*: create, get, update, delete, restore, search, log-metric, log-parameter, set-tag, delete-tag, log-batch. */
import { Hono } from "hono";
import * as z from "zod/mini";
import { RUN_STATUSES } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import type { AppEnv, Db } from "../env";
import { invalidParameter } from "../errors";
import { publicRead, publicSearch, write } from "../http/access";
import { type FastParse, jsonBody, queryParams } from "../http/validate";
import { decodePageToken, encodePageToken, runSearchCursor } from "../search/cursor-token";
import { RUN_SEARCH } from "../search/filter";
import { parseExperimentId } from "../store/experiments";
import { inputsOfRuns, logInputs } from "../store/inputs";
import { cutValue, type KeyValue, paramAndTagStatements, validateKeyValue } from "../store/key-values";
import { type LogBatchInput, logBatch } from "../store/log-batch";
import { createRunWithData, deleteRunTag, derivedRunUuid, getActiveRun, getRun, getRunData, RUN_NAME_TAG, runInfoUpdate, setRunLifecycle, updateRunInfo } from "../store/runs";
import { searchRuns } from "../store/search";
import { id, int64, keyValue, metricValue, repeatedString, searchFields, VIEW_TYPES } from "./fields";
import { generateRunName } from "./run-names";
import { parseSearchRequest } from "./search-request";
import { repeated, runInfoJson, runJson } from "./wire";

const runRef = z.object({ run_id: z.string() });
const metricPoint = z.object({ key: z.string(), value: metricValue, timestamp: int64, step: z._default(int64, 0) });
const logBatchRest = z.extend(runRef, { params: z.optional(z.array(keyValue)), tags: z.optional(z.array(keyValue)) });
/** runs/log-batch's body (exported for bench/log-batch-cpu.ts and its test). */
export const logBatchRequest = z.extend(logBatchRest, { metrics: z.optional(z.array(metricPoint)) });

/**
 * log-batch's body when its metrics have the shape clients send (key a string, value a JSON number,
 * timestamp and step safe integers, step maybe absent), read without zod: zod costs ~0.5 ms per
 * 1000 points, ~10% of the local server's CPU per batch (bench/README.md, "Writes side by side
 * with MLflow"); the rest of the body still goes through the schema. Any other input gives
 * undefined, and logBatchRequest reads the whole body: numeric strings, "NaN", and every error stay
 * the schema's (test/worker/log-batch-fast-parse.test.ts checks that both agree).
 */
export const plainLogBatch: FastParse<typeof logBatchRequest> = (input) => {
  if (typeof input !== "object" || input === null || !("metrics" in input) || !Array.isArray(input.metrics)) return undefined;
  const metrics: Array<z.output<typeof metricPoint>> = [];
  for (const point of input.metrics as unknown[]) {
    if (typeof point !== "object" || point === null) return undefined;
    const { key, value, timestamp, step } = point as Record<string, unknown>;
    if (typeof key !== "string" || typeof value !== "number" || !Number.isSafeInteger(timestamp) || !(step === undefined || Number.isSafeInteger(step))) return undefined;
    metrics.push({ key, value, timestamp: timestamp as number, step: (step as number | undefined) ?? 0 });
  }
  const rest = logBatchRest.safeParse(input);
  return rest.success ? { ...rest.data, metrics } : undefined;
};
const runName = z.string().check(z.maxLength(LIMITS.maxRunNameLength));

const createRequest = z.object({
  experiment_id: z._default(id, "0"),
  user_id: z.optional(z.string()),
  run_name: z.optional(runName),
  start_time: z.optional(int64),
  tags: z.optional(z.array(keyValue)),
});

const searchRequest = z.object({
  ...searchFields,
  experiment_ids: z.optional(repeatedString),
  run_view_type: z._default(z.enum(VIEW_TYPES), "ACTIVE_ONLY"),
});

/** MLflow's dataset and input tag limits (mlflow/utils/validation.py). */
const sized = (limit: number) => z.string().check(z.maxLength(limit, `exceeds the maximum length of ${limit} characters`));
const logInputsRequest = z.object({
  run_id: z.string(),
  datasets: z
    .array(
      z.object({
        tags: z.optional(z.array(z.object({ key: sized(255), value: sized(500) }))),
        dataset: z.object({
          name: z._default(sized(500), ""),
          digest: z._default(sized(36), ""),
          source_type: z._default(z.string(), ""),
          source: z._default(sized(65535), ""),
          schema: z.optional(z.string()),
          profile: z.optional(z.string()),
        }),
      }),
    )
    .check(z.maxLength(LIMITS.maxBatchEntries)),
});

/** The run's name comes from run_name, else from an `mlflow.runName` tag, else it is invented. */
function chooseRunName(runNameField: string | undefined, tags: KeyValue[]): string {
  const tagged = tags.findLast((t) => t.key === RUN_NAME_TAG)?.value;
  if (runNameField && tagged !== undefined && tagged !== runNameField) {
    throw invalidParameter(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${runNameField}', mlflow.runName='${tagged}').`);
  }
  return runNameField || tagged || generateRunName();
}

/** Logs to an active run; a `mlflow.runName` tag renames the run too, in the same transaction. */
async function logToRun(db: Db, runUuid: string, input: LogBatchInput) {
  const newName = input.tags?.findLast((t) => t.key === RUN_NAME_TAG)?.value;
  return logBatch(db, runUuid, input, newName === undefined ? [] : [runInfoUpdate(db, runUuid, { name: newName })]);
}

async function runWithData(db: Db, runUuid: string) {
  const info = await getRun(db, runUuid);
  return { info, ...(await getRunData(db, runUuid)) };
}

export const runsApi = new Hono<AppEnv>()
  .post("/create", write(), jsonBody(createRequest), async (c) => {
    const db = c.get("db");
    const body = c.req.valid("json");
    const tags = body.tags ?? [];
    const name = chooseRunName(body.run_name, tags);
    const experimentId = parseExperimentId(body.experiment_id);
    if (experimentId === undefined) throw invalidParameter(`Invalid experiment id '${excerpt(String(body.experiment_id))}'.`);
    // The client sets start_time itself, so a retried create (its answer lost) repeats it: with a
    // name, that makes the request identifiable, and its copies create one run, not two.
    const runUuid =
      body.start_time !== undefined && (body.run_name || tags.some((t) => t.key === RUN_NAME_TAG))
        ? await derivedRunUuid(experimentId, name, body.start_time, body.user_id ?? "")
        : undefined;
    const run = await createRunWithData(db, { experimentId, name, userId: body.user_id, startTime: body.start_time ?? Date.now(), tags, runUuid });
    return c.json({ run: runJson(run, "omit") });
  })
  .get("/get", publicRead(), queryParams(runRef), async (c) => {
    const db = c.get("db");
    const runId = c.req.valid("query").run_id;
    const run = await runWithData(db, runId);
    return c.json({ run: runJson(run, (await inputsOfRuns(db, [runId])).get(runId) ?? []) });
  })
  .post("/update", write(), jsonBody(z.extend(runRef, { status: z.optional(z.enum(RUN_STATUSES)), end_time: z.optional(int64), run_name: z.optional(runName) })), async (c) => {
    const body = c.req.valid("json");
    const name = body.run_name || undefined;
    const renameTag = name === undefined ? [] : paramAndTagStatements(body.run_id, [], [{ key: RUN_NAME_TAG, value: name }]);
    const run = await updateRunInfo(c.get("db"), body.run_id, { status: body.status, endTime: body.end_time, name }, renameTag);
    return c.json({ run_info: runInfoJson(run) });
  })
  .post("/delete", write(), jsonBody(runRef), async (c) => {
    await setRunLifecycle(c.get("db"), c.req.valid("json").run_id, "deleted");
    return c.json({});
  })
  .post("/restore", write(), jsonBody(runRef), async (c) => {
    await setRunLifecycle(c.get("db"), c.req.valid("json").run_id, "active");
    return c.json({});
  })
  .post("/search", publicSearch(), jsonBody(searchRequest), async (c) => {
    const body = c.req.valid("json");
    const { page: after, ...query } = parseSearchRequest(body, RUN_SEARCH, (token) => (token ? decodePageToken(token, runSearchCursor) : undefined));
    const experimentIds = (body.experiment_ids ?? []).flatMap((e) => parseExperimentId(e) ?? []);
    const db = c.get("db");
    const { runs, next } = await searchRuns(db, { ...query, after, experimentIds, viewType: body.run_view_type });
    const token = next && encodePageToken(next);
    return c.json({
      ...repeated(
        "runs",
        runs.map((run) => runJson(run, run.inputs)),
      ),
      ...(token && { next_page_token: token }),
    });
  })
  .post("/log-metric", write(), jsonBody(z.extend(runRef, metricPoint.shape)), async (c) => {
    const { run_id, ...point } = c.req.valid("json");
    await logToRun(c.get("db"), run_id, { metrics: [point] });
    return c.json({});
  })
  .post("/log-parameter", write(), jsonBody(z.extend(runRef, keyValue.shape)), async (c) => {
    const db = c.get("db");
    const { run_id, ...logged } = c.req.valid("json");
    const param = cutValue(logged, LIMITS.maxParamValueLength);
    validateKeyValue("param", param, LIMITS.maxParamValueLength);
    await logBatch(db, run_id, { params: [param] }, [], (runUuid, [changed]) =>
      invalidParameter(
        `Changing param values is not allowed. Param with key='${changed.key}' was already logged with value='${changed.old_value}' for run ID='${runUuid}'. Attempted logging new value '${changed.new_value}'.`,
      ),
    );
    return c.json({});
  })
  .post("/set-tag", write(), jsonBody(z.extend(runRef, keyValue.shape)), async (c) => {
    const { run_id, ...tag } = c.req.valid("json");
    await logToRun(c.get("db"), run_id, { tags: [cutValue(tag, LIMITS.maxTagValueLength)] });
    return c.json({});
  })
  .post("/delete-tag", write(), jsonBody(z.extend(runRef, { key: z.string() })), async (c) => {
    const body = c.req.valid("json");
    await deleteRunTag(c.get("db"), body.run_id, body.key);
    return c.json({});
  })
  .post("/log-inputs", write(), jsonBody(logInputsRequest), async (c) => {
    const db = c.get("db");
    const body = c.req.valid("json");
    const run = await getActiveRun(db, body.run_id);
    const datasetInputs = body.datasets.map(({ dataset: d, tags }) => ({
      dataset: { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source, schema: d.schema, profile: d.profile },
      tags: tags ?? [],
    }));
    await logInputs(db, run.experimentId, run.runUuid, datasetInputs);
    return c.json({});
  })
  .post("/log-batch", write(), jsonBody(logBatchRequest, plainLogBatch), async (c) => {
    const { run_id, metrics, params, tags } = c.req.valid("json");
    await logToRun(c.get("db"), run_id, {
      metrics,
      params: params?.map((p) => cutValue(p, LIMITS.maxParamValueLength)),
      tags: tags?.map((t) => cutValue(t, LIMITS.maxTagValueLength)),
    });
    return c.json({});
  });
