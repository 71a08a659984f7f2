/**
 * Public read queries of /api/v1. Lists read only the latest attempt of each run id (is_latest)
 * of active runs; every query is bounded by an index and a LIMIT.
 */
import { and, asc, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { latestMetrics, RANKED_POINT, type RunStatus, runs, tags } from "../db/schema";
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
  return db
    .select()
    .from(tags)
    .where(and(inValues(tags.runUuid, runUuids), inArray(tags.key, keys)))
    .all();
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
 * with their values in one round trip. It walks a partial index of ranked latest points in rank
 * order, (key, experiment, stage[, dataset], value), and joins each entry to its run by primary
 * key, stopping at `limit`: it reads about two rows per entry returned. `tiedWith` asks instead for
 * every entry with that value (see rankRuns). Which points are ranked
 * (latest attempt, FINISHED, active) is the run_ranks view's rule, copied onto latest_metrics by
 * migration 0002's triggers; NaN values are left out. CROSS JOIN pins the join order in SQLite.
 */
export function rankingQuery(db: Db, q: RankingQuery, { limit = q.top, tiedWith }: { limit?: number; tiedWith?: number } = {}) {
  const query = db
    .select({ run: runs, value: latestMetrics.value })
    .from(latestMetrics)
    .crossJoin(runs)
    .where(
      and(
        eq(latestMetrics.key, q.metric),
        eq(latestMetrics.experimentId, q.experimentId),
        eq(latestMetrics.stage, q.stage),
        q.dataset !== undefined ? eq(latestMetrics.dataset, q.dataset) : undefined,
        RANKED_POINT,
        tiedWith !== undefined ? eq(latestMetrics.value, tiedWith) : undefined,
        eq(runs.runUuid, latestMetrics.runUuid),
      ),
    )
    .orderBy(q.direction === "asc" ? asc(latestMetrics.value) : desc(latestMetrics.value));
  return tiedWith !== undefined ? query : query.limit(limit);
}

/**
 * Ranked runs with their values, best first by value: the top `top`, plus every run tied with the
 * last of them (order and cut them with the core's rankEntries). Run through runAtomically (not drizzle's .all(), which
 * reads D1 in array mode without row counters) so that the request's Server-Timing counts its rows.
 */
export async function rankRuns(db: Db, q: RankingQuery): Promise<Array<{ run: RunRow; value: number }>> {
  const ranked = async (statement: ReturnType<typeof rankingQuery>) => {
    const [result] = await runAtomically(db, [statement]);
    return (result.results as Array<Record<string, unknown>>).map((row) => ({ run: rowFrom(runs, row), value: row.value as number }));
  };
  const rows = await ranked(rankingQuery(db, q, { limit: q.top + 1 }));
  // The index orders by value alone; the core's order breaks ties by run id (rankEntries). When the
  // cut falls inside a group of equal values, the whole group is read (a second, rare query), so
  // that the caller's top entries are the same runs that order would pick from all of them.
  const last = rows[q.top - 1];
  if (rows.length <= q.top || rows[q.top].value !== last.value) return rows.slice(0, q.top);
  return [...rows.filter((row) => row.value !== last.value), ...(await ranked(rankingQuery(db, q, { tiedWith: last.value })))];
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
