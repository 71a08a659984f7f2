import { and, desc, eq, ne, sql } from "drizzle-orm";
import { experiments, latestMetrics, metrics, params, runs, tags, type RunStatus } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import { parseRunId } from "../domain/run-id";
import type { Db } from "../env";
import { invalidParameter, notFound } from "../errors";
import { dedupeLastWins, paramAndTagStatements, validateKeyValue, type KeyValue } from "./key-values";
import { siteChanged } from "./site-state";
import { runAtomically, type Statement } from "./sql";

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
  return [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
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
 * Creates a run (a new attempt of its name) atomically: the run row, its tags (with mlflow.runName)
 * and params, and the latest-attempt flag moved from the previous attempt to this one.
 */
export async function createRun(db: Db, input: NewRun): Promise<RunRow> {
  const experiment = await db
    .select({ artifactLocation: experiments.artifactLocation, lifecycleStage: experiments.lifecycleStage })
    .from(experiments)
    .where(eq(experiments.experimentId, input.experimentId))
    .get();
  if (!experiment) throw notFound(`No Experiment with id=${input.experimentId} exists`);
  if (experiment.lifecycleStage !== "active") {
    throw invalidParameter(`The experiment ${input.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
  }
  for (const p of input.params ?? []) validateKeyValue("param", p, LIMITS.maxParamValueLength);
  for (const t of input.tags ?? []) validateKeyValue("tag", t, LIMITS.maxTagValueLength);
  const runUuid = input.runUuid ?? newRunUuid();
  const row = {
    runUuid,
    experimentId: input.experimentId,
    name: input.name,
    userId: input.userId ?? "",
    status: input.status ?? ("RUNNING" as const),
    startTime: input.startTime,
    endTime: null,
    artifactUri: `${experiment.artifactLocation}/${runUuid}/artifacts`,
    lifecycleStage: "active" as const,
    deletedTime: null,
    ...identityColumns(input.name),
    isLatest: true,
  };
  const runTags = dedupeLastWins([...(input.tags ?? []).filter((t) => t.key !== RUN_NAME_TAG), { key: RUN_NAME_TAG, value: input.name }]);
  const sameName = and(eq(runs.experimentId, input.experimentId), eq(runs.name, input.name));
  // Insert first (a no-op when a concurrent copy of this request won), then move the latest flag.
  const [inserted] = await runAtomically(db, [
    db
      .insert(runs)
      .values({ ...row, attempt: sql`(select count(*) + 1 from ${runs} where ${sameName})` })
      .onConflictDoNothing({ target: runs.runUuid })
      .returning({ attempt: runs.attempt }),
    db.update(runs).set({ isLatest: false }).where(and(sameName, eq(runs.isLatest, true), ne(runs.runUuid, runUuid))),
    ...paramAndTagStatements(runUuid, input.params ?? [], runTags),
  ]);
  // The inserted row is known but for its attempt number; a concurrent copy's row must be read.
  const attempt = (inserted.results[0] as { attempt?: number } | undefined)?.attempt;
  return attempt === undefined ? getRun(db, runUuid) : { ...row, attempt };
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

/**
 * An attempt of a run name in an experiment given by name, in one query: the one with this uuid
 * (latest or not), or without a uuid the latest.
 */
export async function getAttemptIn(db: Db, experimentName: string, name: string, runUuid?: string): Promise<RunRow | undefined> {
  const row = await db
    .select({ run: runs })
    .from(runs)
    .innerJoin(experiments, eq(experiments.experimentId, runs.experimentId))
    .where(and(eq(experiments.name, experimentName), eq(runs.name, name), runUuid === undefined ? undefined : eq(runs.runUuid, runUuid)))
    .orderBy(desc(runs.isLatest), desc(runs.attempt))
    .limit(1)
    .get();
  return row?.run;
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

/** Applies run info changes, with any extra statements (e.g. tags), in one transaction. */
export async function updateRunInfo(db: Db, runUuid: string, changes: RunInfoChanges, extra: Statement[] = []): Promise<RunRow> {
  await getActiveRun(db, runUuid);
  const hasChanges = changes.status !== undefined || changes.endTime !== undefined || changes.name !== undefined;
  // A new status, end time or name changes what the site shows.
  await runAtomically(db, [...(hasChanges ? [runInfoUpdate(db, runUuid, changes), siteChanged(db)] : []), ...extra]);
  return getRun(db, runUuid);
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

/** Every point of one metric of a run, by step then timestamp (empty for an unknown run or key). */
export async function getMetricHistory(db: Db, runUuid: string, key: string) {
  return db
    .select({ key: metrics.key, value: metrics.value, isNan: metrics.isNan, timestamp: metrics.timestamp, step: metrics.step })
    .from(metrics)
    .where(and(eq(metrics.runUuid, runUuid), eq(metrics.key, key)))
    .orderBy(metrics.step, metrics.timestamp, metrics.value);
}
