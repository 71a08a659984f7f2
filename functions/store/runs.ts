import { and, desc, eq, is, ne, SQL, sql } from "drizzle-orm";
import { experiments, latestMetrics, metrics, params, type RunStatus, runs, tags } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import { toHex } from "../domain/hex";
import { LIMITS } from "../domain/limits";
import { parseRunId } from "../domain/run-id";
import type { Db } from "../env";
import { invalidParameter, notFound } from "../errors";
import { runGuarded } from "./guard";
import { dedupeLastWins, type KeyValue, paramAndTagStatements, validateKeyValue } from "./key-values";
import { siteChanged } from "./site-state";
import { inValues, rowFrom, runAtomically, type Statement } from "./sql";

export type RunRow = typeof runs.$inferSelect;

export const RUN_NAME_TAG = "mlflow.runName";

export function newRunUuid(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * A run uuid derived from what identifies a create request, so that retried or concurrent copies of
 * that request collide on the run's primary key and create one run (see createRun).
 */
export async function derivedRunUuid(...identity: Array<string | number>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(identity)));
  return toHex(new Uint8Array(digest).slice(0, 16));
}

/** The KD-GAT columns of a run, parsed from its name (all null when it is not a KD-GAT run id). */
export function identityColumns(name: string) {
  const parts = parseRunId(name);
  return {
    dataset: parts?.dataset ?? null,
    modelSize: parts?.modelSize ?? null,
    stage: parts?.stage ?? null,
    kd: parts ? parts.kd : null,
  };
}

export interface NewRun {
  experimentId: number;
  name: string;
  userId?: string;
  startTime: number;
  status?: RunStatus;
  tags?: KeyValue[];
  /** Params written in the same transaction (the /api/v1 PUT logs the whole config at once). */
  params?: KeyValue[];
  /**
   * A uuid derived from what identifies the request (e.g. its Idempotency-Key): two concurrent
   * copies of that request then create one run, since the second insert finds the first's row.
   */
  runUuid?: string;
}

/**
 * Creates a run (a new attempt of its name) atomically in the experiment of this name, which the
 * same transaction creates first when it is missing (`createIfMissing`: experimentIfMissing; the
 * caller found an existing one active): the run row, its tags (with mlflow.runName) and params, and
 * the latest-attempt flag moved from the previous attempt to this one. One D1 round trip; a second only when a concurrent copy of the
 * request (same derived runUuid) wrote the run first and it is read back.
 */
export async function createRunInNamed(db: Db, experimentName: string, createIfMissing: Statement[], input: Omit<NewRun, "experimentId">): Promise<RunRow> {
  const named = (column: SQL) => sql`(select ${column} from ${experiments} where ${experiments.name} = ${experimentName})`;
  const experiment = { id: named(sql`${experiments.experimentId}`), artifactLocation: named(sql`${experiments.artifactLocation}`) };
  return (await writeRun(db, input, experiment, createIfMissing)).run;
}

/** createRunInNamed into an experiment given by id, which must exist and be active (read first). */
export async function createRun(db: Db, input: NewRun): Promise<RunRow> {
  return (await insertRun(db, input)).run;
}

/**
 * createRun (MLflow's runs/create), answered with the run's data as getRunData would read it, in
 * two D1 round trips: a new run's data is what was just written (its tags in the order they were
 * inserted, which is the order they are read in; no params, no metrics); only a concurrent copy's
 * run is read back.
 */
export async function createRunWithData(db: Db, input: Omit<NewRun, "params">) {
  const { run, tags: written } = await insertRun(db, input);
  if (written) return { info: run, params: [], tags: written, metrics: [] };
  return { info: run, ...(await getRunData(db, run.runUuid)) };
}

/** Inserts a run into an experiment given by id, read first (see writeRun). */
async function insertRun(db: Db, input: NewRun): Promise<{ run: RunRow; tags?: KeyValue[] }> {
  const experiment = await db
    .select({ artifactLocation: experiments.artifactLocation, lifecycleStage: experiments.lifecycleStage })
    .from(experiments)
    .where(eq(experiments.experimentId, input.experimentId))
    .get();
  if (!experiment) throw notFound(`No Experiment with id=${input.experimentId} exists`);
  assertActiveExperiment(input.experimentId, experiment.lifecycleStage);
  return writeRun(db, input, { id: input.experimentId, artifactLocation: experiment.artifactLocation });
}

/** MLflow's refusal of a run in an experiment that is not active. */
export function assertActiveExperiment(experimentId: number, lifecycleStage: string): void {
  if (lifecycleStage !== "active") {
    throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${lifecycleStage}.`);
  }
}

/** The experiment a run goes into: its id and artifact location, as values or as scalar subqueries. */
interface RunExperiment {
  id: number | SQL;
  artifactLocation: string | SQL;
}

/**
 * Writes a run in one transaction, after `lead` (statements that must come first, such as creating
 * its experiment); `tags` are the tags written, in order, when this call created it.
 */
async function writeRun(db: Db, input: Omit<NewRun, "experimentId">, experiment: RunExperiment, lead: Statement[] = []): Promise<{ run: RunRow; tags?: KeyValue[] }> {
  for (const p of input.params ?? []) validateKeyValue("param", p, LIMITS.maxParamValueLength);
  for (const t of input.tags ?? []) validateKeyValue("tag", t, LIMITS.maxTagValueLength);
  const runUuid = input.runUuid ?? newRunUuid();
  const artifacts = `/${runUuid}/artifacts`;
  const row = {
    runUuid,
    experimentId: experiment.id,
    name: input.name,
    userId: input.userId ?? "",
    status: input.status ?? ("RUNNING" as const),
    startTime: input.startTime,
    endTime: null,
    artifactUri: is(experiment.artifactLocation, SQL) ? sql`${experiment.artifactLocation} || ${artifacts}` : `${experiment.artifactLocation}${artifacts}`,
    lifecycleStage: "active" as const,
    deletedTime: null,
    ...identityColumns(input.name),
    isLatest: true,
  };
  const runTags = dedupeLastWins([...(input.tags ?? []).filter((t) => t.key !== RUN_NAME_TAG), { key: RUN_NAME_TAG, value: input.name }]);
  const sameName = and(eq(runs.experimentId, experiment.id), eq(runs.name, input.name));
  // Insert first (a no-op when a concurrent copy of this request won), then move the latest flag.
  const results = await runAtomically(db, [
    ...lead,
    db
      .insert(runs)
      .values({ ...row, attempt: sql`(select count(*) + 1 from ${runs} where ${sameName})` })
      .onConflictDoNothing({ target: runs.runUuid })
      .returning(),
    db
      .update(runs)
      .set({ isLatest: false })
      .where(and(sameName, eq(runs.isLatest, true), ne(runs.runUuid, runUuid))),
    ...paramAndTagStatements(runUuid, input.params ?? [], runTags),
  ]);
  // The inserted row as stored; a concurrent copy's row must be read.
  const inserted = results[lead.length].results[0] as Record<string, unknown> | undefined;
  return inserted === undefined ? { run: await getRun(db, runUuid) } : { run: rowFrom(runs, inserted), tags: runTags };
}

/** A run by its MLflow uuid; RESOURCE_DOES_NOT_EXIST (MLflow's wording) when there is none. */
export async function getRun(db: Db, runUuid: string): Promise<RunRow> {
  const row = await db.select().from(runs).where(eq(runs.runUuid, runUuid)).get();
  if (!row) throw notFound(`Run with id=${runUuid} not found`);
  return row;
}

/** A run that may still be written to (MLflow refuses writes to deleted runs). */
export async function getActiveRun(db: Db, runUuid: string): Promise<RunRow> {
  return assertActive(await getRun(db, runUuid));
}

export function assertActive(row: RunRow): RunRow {
  if (row.lifecycleStage !== "active") {
    throw invalidParameter(`The run ${row.runUuid} must be in the 'active' state. Current state is ${row.lifecycleStage}.`);
  }
  return row;
}

/** The newest attempt of a run name in an experiment, if any. */
export async function getLatestAttempt(db: Db, experimentId: number, name: string): Promise<RunRow | undefined> {
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.experimentId, experimentId), eq(runs.name, name)))
    .orderBy(desc(runs.isLatest), desc(runs.attempt))
    .limit(1)
    .get();
}

/** Names one attempt of a run name in an experiment given by name: the one with this uuid (latest or not), or without a uuid the latest. */
export interface AttemptRef {
  experiment: string;
  name: string;
  runUuid?: string;
}

/** The uuid of the attempt a ref names, as a scalar subquery (one index walk, the newest first); also for statements that write to it. */
export function attemptUuidQuery(db: Db, ref: AttemptRef): SQL {
  const query = db
    .select({ runUuid: runs.runUuid })
    .from(runs)
    .innerJoin(experiments, eq(experiments.experimentId, runs.experimentId))
    .where(and(eq(experiments.name, ref.experiment), eq(runs.name, ref.name), ref.runUuid === undefined ? undefined : eq(runs.runUuid, ref.runUuid)))
    .orderBy(desc(runs.isLatest), desc(runs.attempt))
    .limit(1);
  return sql`(${query})`;
}

/** An attempt of a run name in an experiment given by name, in one query (see AttemptRef). */
export async function getAttemptIn(db: Db, ref: AttemptRef): Promise<RunRow | undefined> {
  return db
    .select()
    .from(runs)
    .where(eq(runs.runUuid, attemptUuidQuery(db, ref)))
    .get();
}

/** Params, tags and latest metrics of one run, in insertion order like MLflow. */
export async function getRunData(db: Db, runUuid: string) {
  const [paramRows, tagRows, metricRows] = await db.batch([
    db.select({ key: params.key, value: params.value }).from(params).where(eq(params.runUuid, runUuid)).orderBy(sql`rowid`),
    db.select({ key: tags.key, value: tags.value }).from(tags).where(eq(tags.runUuid, runUuid)).orderBy(sql`rowid`),
    db.select().from(latestMetrics).where(eq(latestMetrics.runUuid, runUuid)).orderBy(sql`rowid`),
  ]);
  return { params: paramRows, tags: tagRows, metrics: metricRows };
}

export interface RunInfoChanges {
  status?: RunStatus;
  endTime?: number | null;
  name?: string;
}

/** The UPDATE for a run's status, end time or name (a rename also re-derives its KD-GAT columns). */
export function runInfoUpdate(db: Db, runUuid: string, changes: RunInfoChanges) {
  return db
    .update(runs)
    .set({
      ...(changes.status !== undefined && { status: changes.status }),
      ...(changes.endTime !== undefined && { endTime: changes.endTime }),
      ...(changes.name !== undefined && { name: changes.name, ...identityColumns(changes.name) }),
    })
    .where(eq(runs.runUuid, runUuid));
}

/**
 * Applies run info changes, with any extra statements (e.g. tags), to an active run in one
 * transaction that also reads the run back: one D1 round trip unless the run is missing or deleted.
 */
export async function updateRunInfo(db: Db, runUuid: string, changes: RunInfoChanges, extra: Statement[] = []): Promise<RunRow> {
  const hasChanges = changes.status !== undefined || changes.endTime !== undefined || changes.name !== undefined;
  // A new status, end time or name changes what the site shows.
  const statements = [...(hasChanges ? [runInfoUpdate(db, runUuid, changes), siteChanged(db)] : []), ...extra, db.select().from(runs).where(eq(runs.runUuid, runUuid))];
  const results = await runGuarded(db, { runUuid }, statements, async () => void (await getActiveRun(db, runUuid)));
  return rowFrom(runs, results.at(-1)!.results[0] as Record<string, unknown>);
}

/** Soft delete (lifecycle "deleted", with the time) or restore of one run. */
export async function setRunLifecycle(db: Db, runUuid: string, stage: "active" | "deleted"): Promise<void> {
  await getRun(db, runUuid);
  await runAtomically(db, [
    db
      .update(runs)
      .set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? Date.now() : null })
      .where(eq(runs.runUuid, runUuid)),
    siteChanged(db),
  ]);
}

/** Removes a tag of an active run; RESOURCE_DOES_NOT_EXIST when the run has no such tag. */
export async function deleteRunTag(db: Db, runUuid: string, key: string): Promise<void> {
  await getActiveRun(db, runUuid);
  const deleted = await db
    .delete(tags)
    .where(and(eq(tags.runUuid, runUuid), eq(tags.key, key)))
    .returning({ key: tags.key });
  if (deleted.length === 0) throw notFound(`No tag with name: ${excerpt(key)} in run with id ${runUuid}`);
}

const pointFields = { key: metrics.key, value: metrics.value, isNan: metrics.isNan, timestamp: metrics.timestamp, step: metrics.step };

/**
 * Points per page of a metric history: what MLflow's client asks for (GET_METRIC_HISTORY_MAX_RESULTS,
 * 25,000) and follows next_page_token past, so that a 1,000,000-point history never has to fit
 * one answer (bench/scale.mjs measures it).
 */
export const HISTORY_PAGE_POINTS = 25_000;

/** The last point of a page, in history order: (step, timestamp, value, is_nan). */
export type HistoryCursor = [step: number, timestamp: number, value: number, isNan: number];

/**
 * One page of the points of one metric of a run, by step, timestamp, value (empty for an unknown
 * run or key): the points after `after`, at most `limit`, read in the metrics primary key's order;
 * `next` is set when more follow.
 */
export async function getMetricHistory(db: Db, runUuid: string, key: string, after?: HistoryCursor, limit = HISTORY_PAGE_POINTS) {
  const rows = await db
    .select(pointFields)
    .from(metrics)
    .where(
      and(
        eq(metrics.runUuid, runUuid),
        eq(metrics.key, key),
        after && sql`(${metrics.step}, ${metrics.timestamp}, ${metrics.value}, ${metrics.isNan}) > (${after[0]}, ${after[1]}, ${after[2]}, ${after[3]})`,
      ),
    )
    .orderBy(metrics.step, metrics.timestamp, metrics.value, metrics.isNan)
    .limit(limit + 1);
  const points = rows.slice(0, limit);
  const last = points.at(-1);
  const next: HistoryCursor | undefined = rows.length > limit && last ? [last.step, last.timestamp, last.value, last.isNan ? 1 : 0] : undefined;
  return { points, next };
}

/** The distinct steps at which each of these runs logged a metric (one index range per run). */
export async function metricStepsOfRuns(db: Db, runUuids: string[], key: string): Promise<Map<string, number[]>> {
  const rows = await db
    .selectDistinct({ runUuid: metrics.runUuid, step: metrics.step })
    .from(metrics)
    .where(and(inValues(metrics.runUuid, runUuids), eq(metrics.key, key)))
    .orderBy(metrics.runUuid, metrics.step)
    .all();
  const steps = new Map<string, number[]>();
  for (const row of rows) {
    const list = steps.get(row.runUuid) ?? [];
    if (list.length === 0) steps.set(row.runUuid, list);
    list.push(row.step);
  }
  return steps;
}

/** A run's points of one metric at these steps, by step, timestamp and value, at most `limit`. */
export async function metricPointsAtSteps(db: Db, runUuid: string, key: string, steps: number[], limit: number) {
  return db
    .select(pointFields)
    .from(metrics)
    .where(and(eq(metrics.runUuid, runUuid), eq(metrics.key, key), inValues(metrics.step, steps)))
    .orderBy(metrics.step, metrics.timestamp, metrics.value)
    .limit(limit)
    .all();
}
