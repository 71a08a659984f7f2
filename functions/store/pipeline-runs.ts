/**
 * Writes of the /api/v1 curl API: experiments created on demand, attempts started from a
 * config.json (with retry detection), bulk metric uploads and run ends.
 */
import { and, desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { experiments, params, type RunStatus, runs, tags } from "../db/schema";
import { LIMITS } from "../domain/limits";
import type { Db } from "../env";
import { invalidParameter } from "../errors";
import { createExperiment, experimentIfMissing } from "./experiments";
import { runGuarded } from "./guard";
import { type KeyValue, paramAndTagStatements, validateKeyValue } from "./key-values";
import { type MetricPointInput, metricStatements, tooManyKeys } from "./log-batch";
import { type AttemptRef, assertActiveExperiment, attemptUuidQuery, createRunInNamed, derivedRunUuid, type RunRow, runInfoUpdate } from "./runs";
import { siteChanged } from "./site-state";
import { runAtomically, type Statement } from "./sql";

/** Tag holding the Idempotency-Key of the PUT that started an attempt. */
export const IDEMPOTENCY_TAG = "kdgat.idempotency_key";

/** An identical PUT without a key is a retry only while its attempt is this young and untouched. */
export const RETRY_WINDOW_MS = 10 * 60_000;

/** Points per bulk statement: keeps each bound JSON array well under D1's 2 MB value limit. */
const POINTS_PER_STATEMENT = 10_000;

export async function findExperimentId(db: Db, name: string): Promise<number | undefined> {
  const row = await db.select({ id: experiments.experimentId }).from(experiments).where(eq(experiments.name, name)).get();
  return row?.id;
}

/** The experiment of this name, created when missing (a concurrent creation is not an error). */
export async function ensureExperiment(db: Db, name: string): Promise<number> {
  const existing = await findExperimentId(db, name);
  if (existing !== undefined) return existing;
  try {
    return await createExperiment(db, name, []);
  } catch (error) {
    const created = await findExperimentId(db, name);
    if (created === undefined) throw error;
    return created;
  }
}

export interface StartAttempt {
  /** Experiment name: created when missing, once the request is known to be valid. */
  experiment: string;
  name: string;
  params: KeyValue[];
  tags: KeyValue[];
  startTime: number;
  /** Whether the request gave the start time (a backfill), which then identifies the attempt. */
  startTimeIsExplicit: boolean;
  idempotencyKey?: string;
}

/**
 * Starts a new attempt of a run id, unless the request repeats one already made. A PUT that is
 * retried (curl --retry, a resubmitted script) must not create a second attempt, while a real
 * re-run of the stage must. So an existing attempt is returned when:
 *   - the request has an Idempotency-Key and an attempt of this run id was started with it (a
 *     different config under the same key is refused: the key names one request);
 *   - else the request gives `start_time` (backfill) and an attempt of this run id started at that
 *     time with the same config exists: backfilling twice stores everything once;
 *   - else the latest attempt has the same config, is still RUNNING, has logged no metric and
 *     started within RETRY_WINDOW_MS: nothing can tell it from a retried request.
 * Anything else is a new attempt (attempt N+1, now the latest).
 */
export async function startAttempt(db: Db, input: StartAttempt): Promise<{ run: RunRow; created: boolean }> {
  for (const p of input.params) validateKeyValue("param", p, LIMITS.maxParamValueLength);
  for (const t of input.tags) validateKeyValue("tag", t, LIMITS.maxTagValueLength);
  const { experiment, repeated } = await findRepeatedAttempt(db, input);
  if (repeated) return { run: repeated, created: false };
  if (experiment) assertActiveExperiment(experiment.id, experiment.lifecycleStage);
  const extraTags = input.idempotencyKey ? [{ key: IDEMPOTENCY_TAG, value: input.idempotencyKey }] : [];
  // The experiment is created in the same transaction when it is missing.
  const run = await createRunInNamed(db, input.experiment, experimentIfMissing(db, input.experiment), {
    name: input.name,
    startTime: input.startTime,
    params: input.params,
    tags: [...input.tags, ...extraTags],
    runUuid: await attemptUuid(input),
  });
  return { run, created: true };
}

/**
 * The check above cannot see a concurrent copy of the same request (both pass it before either
 * writes). When the request says who it is (its Idempotency-Key, or a backfill's start_time and
 * config), the attempt's uuid is derived from that and the experiment's name (its id may not exist
 * yet: the write creates the experiment), so such copies collide on the run's primary key and
 * create one attempt. A request with neither gets a random uuid.
 */
async function attemptUuid(input: StartAttempt): Promise<string | undefined> {
  if (input.idempotencyKey) return derivedRunUuid(input.experiment, input.name, "key", input.idempotencyKey);
  if (input.startTimeIsExplicit) return derivedRunUuid(input.experiment, input.name, "start", input.startTime, JSON.stringify(input.params));
  return undefined;
}

/**
 * The experiment of the start's name (when it exists) and the attempt the start repeats (see
 * startAttempt), in one D1 round trip: the experiment, the candidate attempts (the one started with
 * the Idempotency-Key; the backfill's attempts started at that time; else the latest attempt) with
 * whether each has logged a metric, and their params.
 */
async function findRepeatedAttempt(db: Db, input: StartAttempt): Promise<{ experiment?: { id: number; lifecycleStage: string }; repeated?: RunRow }> {
  const experimentId = sql`(select ${experiments.experimentId} from ${experiments} where ${experiments.name} = ${input.experiment})`;
  const sameName = and(eq(runs.experimentId, experimentId), eq(runs.name, input.name));
  const candidateUuids = input.idempotencyKey
    ? db
        .select({ runUuid: runs.runUuid })
        .from(runs)
        .innerJoin(tags, and(eq(tags.runUuid, runs.runUuid), eq(tags.key, IDEMPOTENCY_TAG)))
        .where(and(sameName, eq(tags.value, input.idempotencyKey)))
    : input.startTimeIsExplicit
      ? db
          .select({ runUuid: runs.runUuid })
          .from(runs)
          .where(and(sameName, eq(runs.startTime, input.startTime)))
      : db.select({ runUuid: runs.runUuid }).from(runs).where(sameName).orderBy(desc(runs.isLatest), desc(runs.attempt)).limit(1);
  const [experimentRows, candidates, paramRows] = await db.batch([
    db.select({ id: experiments.experimentId, lifecycleStage: experiments.lifecycleStage }).from(experiments).where(eq(experiments.name, input.experiment)),
    db
      .select({ ...getTableColumns(runs), logged: sql<number>`exists (select 1 from latest_metrics m where m.run_uuid = runs.run_uuid)`.mapWith(Number) })
      .from(runs)
      .where(inArray(runs.runUuid, candidateUuids))
      .orderBy(desc(runs.isLatest), desc(runs.attempt)),
    db.select({ runUuid: params.runUuid, key: params.key, value: params.value }).from(params).where(inArray(params.runUuid, candidateUuids)),
  ]);
  const experiment = experimentRows[0];
  const sameParams = (runUuid: string) =>
    hasParams(
      paramRows.filter((p) => p.runUuid === runUuid),
      input.params,
    );
  const attempts = candidates.map(({ logged, ...run }) => ({ run, logged: logged === 1 }));
  if (input.idempotencyKey) {
    const keyed = attempts[0]?.run;
    if (keyed && !sameParams(keyed.runUuid)) {
      throw invalidParameter(`Idempotency-Key '${input.idempotencyKey}' was already used for ${input.name} with a different config.`);
    }
    return { experiment, repeated: keyed };
  }
  if (input.startTimeIsExplicit) return { experiment, repeated: attempts.find((a) => sameParams(a.run.runUuid))?.run };
  const latest = attempts[0];
  if (latest?.run.status !== "RUNNING" || Date.now() - latest.run.startTime > RETRY_WINDOW_MS || latest.logged) return { experiment };
  return { experiment, repeated: sameParams(latest.run.runUuid) ? latest.run : undefined };
}

/** Whether the stored params are exactly these. */
function hasParams(stored: KeyValue[], expected: KeyValue[]): boolean {
  const wanted = new Map(expected.map((p) => [p.key, p.value]));
  return stored.length === wanted.size && stored.every((p) => wanted.get(p.key) === p.value);
}

/**
 * Appends metric points to the attempt `ref` names, in one transaction and, when all is well, one D1
 * round trip, however many points: chunked statements in one batch, led by the guard (the attempt
 * exists and is active, the key cap) and ending with a read of the attempt's uuid and number. With
 * `fromStart`, the points' timestamps are offsets from the attempt's start time, added in SQL.
 * `explain` finds the attempt, throwing the error to answer when there is none or it is not active;
 * it runs only when the guard refuses.
 */
export async function appendMetricPoints(
  db: Db,
  ref: AttemptRef,
  points: MetricPointInput[],
  fromStart: boolean,
  explain: () => Promise<RunRow>,
): Promise<{ runUuid: string; attempt: number }> {
  const keys = [...new Set(points.map((p) => p.key))];
  if (keys.length > LIMITS.maxMetricKeysPerRun) tooManyKeys((await explain()).runUuid);
  const runUuid = attemptUuidQuery(db, ref);
  const startTime = fromStart ? sql`(select ${runs.startTime} from ${runs} where ${runs.runUuid} = ${runUuid})` : undefined;
  const statements: Statement[] = [];
  for (let i = 0; i < points.length; i += POINTS_PER_STATEMENT) {
    statements.push(...metricStatements(runUuid, points.slice(i, i + POINTS_PER_STATEMENT), startTime));
  }
  statements.push(db.select({ runUuid: runs.runUuid, attempt: runs.attempt }).from(runs).where(eq(runs.runUuid, runUuid)));
  const results = await runGuarded(db, { runUuid, keys }, statements, async (failure) => {
    const run = await explain();
    if (failure === "keys") tooManyKeys(run.runUuid);
  });
  const target = results.at(-1)!.results[0] as { run_uuid: string; attempt: number };
  return { runUuid: target.run_uuid, attempt: target.attempt };
}

export type EndStatus = Extract<RunStatus, "FINISHED" | "FAILED" | "KILLED">;

/** The pipeline's `status` tag for each terminal MLflow status. */
export const STATUS_TAG: Record<EndStatus, string> = { FINISHED: "complete", FAILED: "failed", KILLED: "killed" };

/**
 * Ends an attempt: MLflow status and end time with the tags `status`, `end_time` (ISO 8601) and
 * `error_msg`, in one transaction. Ending it again with the same status changes nothing.
 */
export async function endAttempt(db: Db, run: RunRow, end: { status: EndStatus; endTime: number; error?: string }): Promise<RunRow> {
  if (run.status === end.status && run.endTime !== null) return run;
  const endTags = [
    { key: "status", value: STATUS_TAG[end.status] },
    { key: "end_time", value: new Date(end.endTime).toISOString() },
    ...(end.error !== undefined ? [{ key: "error_msg", value: end.error }] : []),
  ];
  const changes = { status: end.status, endTime: end.endTime };
  // The caller read this attempt and found it active: write without reading it again.
  // The site shows how runs end: it is stale from this write on (store/site-state.ts).
  await runAtomically(db, [runInfoUpdate(db, run.runUuid, changes), ...paramAndTagStatements(run.runUuid, [], endTags), siteChanged(db)]);
  return { ...run, ...changes };
}
