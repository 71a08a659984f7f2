/**
 * Public read queries of /api/v1. Lists read only the latest attempt of each run id (is_latest)
 * of active runs; every query is bounded by an index and a LIMIT.
 */
import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { latestMetrics, runs, tags, type RunStatus } from "../db/schema";
import { fromStoredValue } from "../domain/metric-values";
import type { Db } from "../env";
import type { RunRow } from "./runs";
import { inValues, rowFrom, runAtomically } from "./sql";

export const TEACHER_TAG = "teacher_run_id";

export interface RunFilter {
  experimentId: number;
  dataset?: string;
  stage?: string;
  modelSize?: string;
  kd?: boolean;
  status?: RunStatus;
}

/** Position after the last run of a page, in the list's order (newest first). */
export interface RunCursor {
  startTime: number;
  runUuid: string;
}

function latestRunsWhere(filter: RunFilter): SQL {
  return and(
    eq(runs.isLatest, true),
    eq(runs.experimentId, filter.experimentId),
    eq(runs.lifecycleStage, "active"),
    filter.dataset !== undefined ? eq(runs.dataset, filter.dataset) : undefined,
    filter.stage !== undefined ? eq(runs.stage, filter.stage) : undefined,
    filter.modelSize !== undefined ? eq(runs.modelSize, filter.modelSize) : undefined,
    filter.kd !== undefined ? eq(runs.kd, filter.kd) : undefined,
    filter.status !== undefined ? eq(runs.status, filter.status) : undefined,
  )!;
}

/** The tags of these runs with these keys (one query). */
export async function runTagsWithKeys(db: Db, runUuids: string[], keys: string[]) {
  if (runUuids.length === 0) return [];
  return db.select().from(tags).where(and(inValues(tags.runUuid, runUuids), inArray(tags.key, keys))).all();
}

/** One page of latest attempts, newest first; `next` is set when more may follow. */
export async function listLatestRuns(db: Db, filter: RunFilter, limit: number, after?: RunCursor): Promise<{ rows: RunRow[]; next?: RunCursor }> {
  const rows = await db
    .select()
    .from(runs)
    .where(and(latestRunsWhere(filter), after ? sql`(${runs.startTime}, ${runs.runUuid}) < (${after.startTime}, ${after.runUuid})` : undefined))
    .orderBy(desc(runs.startTime), desc(runs.runUuid))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? { startTime: last.startTime, runUuid: last.runUuid } : undefined };
}

/** Every attempt of a run id, oldest first. */
export async function listAttempts(db: Db, experimentId: number, name: string): Promise<RunRow[]> {
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.experimentId, experimentId), eq(runs.name, name)))
    .orderBy(asc(runs.attempt))
    .all();
}

/**
 * Run ids of the KD students taught by this run: latest attempts whose teacher_run_id tag names it.
 * Students are looked for in the teacher's dataset (the pipeline distils within a dataset), which
 * keeps this an index range instead of a scan of every tag.
 */
export async function listStudents(db: Db, experimentId: number, teacherRunId: string): Promise<string[]> {
  const dataset = teacherRunId.slice(0, teacherRunId.indexOf("/"));
  const rows = await db
    .selectDistinct({ name: runs.name })
    .from(runs)
    .innerJoin(tags, and(eq(tags.runUuid, runs.runUuid), eq(tags.key, TEACHER_TAG)))
    .where(and(eq(runs.isLatest, true), eq(runs.dataset, dataset), eq(runs.experimentId, experimentId), eq(tags.value, teacherRunId)))
    .orderBy(asc(runs.name))
    .all();
  return rows.map((r) => r.name);
}

export interface RankingQuery {
  experimentId: number;
  metric: string;
  direction: "asc" | "desc";
  stage: string;
  dataset?: string;
  top: number;
}

/**
 * The leaderboard's ranking query, cheap however many runs there are, returning the ranked runs
 * with their values in one round trip. Without a dataset it walks the latest_metrics (key, value)
 * index in rank order and joins each entry to its run by primary key, stopping at `top` matches: it
 * reads about as many rows as it returns. With a dataset, the runs (is_latest, dataset, stage) index
 * yields that dataset's runs, each joined to its metric by primary key, then sorted. CROSS JOIN pins
 * the join order in SQLite. Ranked: latest attempts, FINISHED, active, of the stage (and dataset);
 * NaN values are left out.
 */
export function rankingQuery(db: Db, q: RankingQuery) {
  const fields = { run: runs, value: latestMetrics.value };
  const joined = q.dataset === undefined ? db.select(fields).from(latestMetrics).crossJoin(runs) : db.select(fields).from(runs).crossJoin(latestMetrics);
  return joined
    .where(
      and(
        eq(latestMetrics.key, q.metric),
        eq(latestMetrics.isNan, false),
        eq(runs.runUuid, latestMetrics.runUuid),
        latestRunsWhere({ experimentId: q.experimentId, stage: q.stage, status: "FINISHED", dataset: q.dataset }),
      ),
    )
    .orderBy(q.direction === "asc" ? asc(latestMetrics.value) : desc(latestMetrics.value))
    .limit(q.top);
}

/**
 * Ranked runs with their values, best first. Run through runAtomically (not drizzle's .all(), which
 * reads D1 in array mode without row counters) so that the request's Server-Timing counts its rows.
 */
export async function rankRuns(db: Db, q: RankingQuery): Promise<Array<{ run: RunRow; value: number }>> {
  const [result] = await runAtomically(db, [rankingQuery(db, q)]);
  return (result.results as Array<Record<string, unknown>>).map((row) => ({ run: rowFrom(runs, row), value: row.value as number }));
}

/**
 * Latest FINISHED attempts of a stage for the given model sizes that logged this metric, with its
 * latest value; driven from the metric's key so that only runs that logged it are read.
 */
export async function stageRunsWithMetric(db: Db, experimentId: number, stage: string, modelSizes: string[], metric: string) {
  const rows = await db
    .select({ run: runs, value: latestMetrics.value, isNan: latestMetrics.isNan })
    .from(latestMetrics)
    .innerJoin(runs, eq(runs.runUuid, latestMetrics.runUuid))
    .where(and(eq(latestMetrics.key, metric), latestRunsWhere({ experimentId, stage, status: "FINISHED" }), inArray(runs.modelSize, modelSizes)))
    .orderBy(asc(runs.dataset))
    .all();
  return rows.map((r) => ({ run: r.run, value: fromStoredValue(r.value, r.isNan) }));
}

/** Counts of latest attempts by dataset, stage and status (one grouped query). */
export async function countLatestRuns(db: Db, experimentId: number) {
  return db
    .select({ dataset: runs.dataset, stage: runs.stage, status: runs.status, count: sql<number>`count(*)` })
    .from(runs)
    .where(latestRunsWhere({ experimentId }))
    .groupBy(runs.dataset, runs.stage, runs.status)
    .all();
}

/**
 * Distinct metric keys in order, at most `limit`: a loose scan of latest_metrics_key_value_idx (one
 * index seek per key, however many runs logged it), so it reads about as many rows as it returns.
 * Run through runAtomically so that the request's Server-Timing counts its rows.
 */
export async function listMetricKeys(db: Db, limit: number): Promise<string[]> {
  const [result] = await runAtomically(db, [
    sql`with recursive k(key) as (
      select (select min(key) from latest_metrics)
      union all
      select (select min(key) from latest_metrics where key > k.key) from k where k.key is not null limit ${limit}
    )
    select key from k where key is not null`,
  ]);
  return (result.results as Array<{ key: string }>).map((row) => row.key);
}
