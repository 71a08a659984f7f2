/**
 * Export and import of the whole tracker (everything but tokens) as ExportDocument pages: runs in
 * uuid order, each page bounded by a number of runs and of metric points so that one response
 * stays far below the Worker's memory and time limits. Import recreates runs with their original
 * uuids and numbers, and is idempotent: a run that already exists must hold exactly the same data.
 */
import { and, asc, eq, getTableColumns, gt, or, type SQL, sql, type Table } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import { artifacts, experiments, experimentTags, latestMetrics, metrics, params, runs, tags } from "../db/schema";
import { type ExportedExperiment, type ExportedRun, experimentRecord, type RunRows, runEntry, runRecord, sameExportedRun } from "../domain/export-document";
import { toStoredValue } from "../domain/metric-values";
import { latestByKey } from "../domain/ranking";
import type { Db } from "../env";
import { invalidParameter } from "../errors";
import type { ExperimentRow } from "./experiments";
import type { KeyValue } from "./key-values";
import { IDEMPOTENCY_TAG } from "./pipeline-runs";
import { identityColumns, type RunRow } from "./runs";
import { siteChanged } from "./site-state";
import { type ColumnOf, insertSelect, jsonFields, runAtomically } from "./sql";

export const EXPORT_RUNS_PER_PAGE = 100;
/** A page holds runs up to this many points in total (a single larger run still gets its own page). */
export const EXPORT_POINTS_PER_PAGE = 50_000;
/** Rows per bulk INSERT statement: keeps each bound JSON array well under D1's 2 MB value limit. */
const ROWS_PER_STATEMENT = 10_000;

/**
 * What an export holds: the admin's `backup` is everything (import restores it exactly); the
 * `public` export is what anyone may read: no deleted experiments or runs, no idempotency keys.
 */
export type ExportScope = "backup" | "public";

/** Tags that only the writer of a run may see. */
const PRIVATE_TAGS = new Set([IDEMPOTENCY_TAG]);

const inJson = (column: AnySQLiteColumn, values: Array<string | number>) => sql`${column} in (select value from json_each(${JSON.stringify(values)}))`;

/** The experiments with their tags, in id order. */
export async function exportExperiments(db: Db, scope: ExportScope): Promise<Array<{ experiment: ExperimentRow; tags: KeyValue[] }>> {
  const [rows, tagRows] = await db.batch([
    db
      .select()
      .from(experiments)
      .where(scope === "public" ? eq(experiments.lifecycleStage, "active") : undefined)
      .orderBy(asc(experiments.experimentId)),
    db.select().from(experimentTags).orderBy(sql`rowid`),
  ]);
  return rows.map((experiment) => ({ experiment, tags: tagRows.filter((t) => t.experimentId === experiment.experimentId) }));
}

/**
 * One page of runs after the given uuid; `nextAfter` is set when more follow. `withArtifacts`: each
 * run's artifact listing too (not when artifacts are private and the export is public).
 */
export async function exportRunsPage(db: Db, scope: ExportScope, afterUuid: string | undefined, withArtifacts: boolean): Promise<{ runs: RunRows[]; nextAfter?: string }> {
  const visible =
    scope === "public"
      ? and(eq(runs.lifecycleStage, "active"), sql`${runs.experimentId} in (select ${experiments.experimentId} from ${experiments} where ${experiments.lifecycleStage} = 'active')`)
      : undefined;
  const candidates = await db
    .select()
    .from(runs)
    .where(and(afterUuid === undefined ? undefined : gt(runs.runUuid, afterUuid), visible))
    .orderBy(asc(runs.runUuid))
    .limit(EXPORT_RUNS_PER_PAGE + 1)
    .all();
  const pointCounts = await db
    .select({ runUuid: metrics.runUuid, points: sql<number>`count(*)` })
    .from(metrics)
    .where(
      inJson(
        metrics.runUuid,
        candidates.slice(0, EXPORT_RUNS_PER_PAGE).map((r) => r.runUuid),
      ),
    )
    .groupBy(metrics.runUuid)
    .all();
  const pointsOf = new Map(pointCounts.map((c) => [c.runUuid, c.points]));
  let budget = EXPORT_POINTS_PER_PAGE;
  let taken = 0;
  while (taken < Math.min(candidates.length, EXPORT_RUNS_PER_PAGE)) {
    const points = pointsOf.get(candidates[taken].runUuid) ?? 0;
    if (taken > 0 && points > budget) break;
    budget -= points;
    taken++;
  }
  const page = candidates.slice(0, taken);
  return { runs: await exportRunRows(db, page, scope, withArtifacts), nextAfter: taken < candidates.length ? page.at(-1)!.runUuid : undefined };
}

/** These runs with params, tags and full metric histories (and, `withArtifacts`, artifact listings), in the given order. */
export async function exportRunRows(db: Db, rows: RunRow[], scope: ExportScope, withArtifacts: boolean): Promise<RunRows[]> {
  if (rows.length === 0) return [];
  const uuids = rows.map((r) => r.runUuid);
  const [paramRows, tagRows, keyRows, pointRows, artifactRows] = await db.batch([
    db.select().from(params).where(inJson(params.runUuid, uuids)).orderBy(sql`rowid`),
    db.select().from(tags).where(inJson(tags.runUuid, uuids)).orderBy(sql`rowid`),
    // Keys in the order they were first logged, which import restores (MLflow lists metrics so).
    db.select({ runUuid: latestMetrics.runUuid, key: latestMetrics.key }).from(latestMetrics).where(inJson(latestMetrics.runUuid, uuids)).orderBy(sql`rowid`),
    db.select().from(metrics).where(inJson(metrics.runUuid, uuids)).orderBy(asc(metrics.runUuid), asc(metrics.key), asc(metrics.step), asc(metrics.timestamp), asc(metrics.value)),
    // In the same batch (no extra round trip); reads nothing when the listing is not exported.
    db
      .select({ runUuid: artifacts.runUuid, path: artifacts.path, size: artifacts.size, sha256: artifacts.sha256 })
      .from(artifacts)
      .where(withArtifacts ? inJson(artifacts.runUuid, uuids) : sql`0`)
      .orderBy(asc(artifacts.runUuid), asc(artifacts.path)),
  ]);
  return rows.map((run) => ({
    run,
    params: paramRows.filter((p) => p.runUuid === run.runUuid),
    tags: tagRows.filter((t) => t.runUuid === run.runUuid && (scope === "backup" || !PRIVATE_TAGS.has(t.key))),
    keys: keyRows.filter((k) => k.runUuid === run.runUuid).map((k) => k.key),
    points: pointRows.filter((m) => m.runUuid === run.runUuid),
    ...(withArtifacts && { artifacts: artifactRows.filter((a) => a.runUuid === run.runUuid) }),
  }));
}

/**
 * Imports one export page. Experiments and runs that already exist are checked, not rewritten: an
 * experiment id with another name, or a run uuid with other data, is INVALID_PARAMETER_VALUE and
 * nothing is written. Everything new is written in one transaction.
 */
export async function importPage(db: Db, doc: { experiments: ExportedExperiment[]; runs: ExportedRun[] }) {
  const existingExperiments = await db
    .select({ id: experiments.experimentId, name: experiments.name })
    .from(experiments)
    .where(
      or(
        inJson(
          experiments.experimentId,
          doc.experiments.map((e) => Number(e.experiment_id)),
        ),
        inJson(
          experiments.name,
          doc.experiments.map((e) => e.name),
        ),
      ),
    )
    .all();
  const newExperiments = doc.experiments.filter((e) => {
    const id = Number(e.experiment_id);
    const clash = existingExperiments.find((x) => (x.id === id) !== (x.name === e.name));
    if (clash) throw invalidParameter(`Experiment ${e.experiment_id} '${e.name}' conflicts with experiment ${clash.id} '${clash.name}' of this tracker.`);
    return !existingExperiments.some((x) => x.id === id);
  });
  const knownExperimentIds = new Set([...existingExperiments.map((x) => x.id), ...newExperiments.map((e) => Number(e.experiment_id))]);
  for (const r of doc.runs) {
    if (!knownExperimentIds.has(Number(r.experiment_id)))
      throw invalidParameter(`Run ${r.mlflow_run_id} belongs to experiment ${r.experiment_id}, which is neither in the document nor in this tracker.`);
  }
  const existingRuns = doc.runs.length
    ? await db
        .select()
        .from(runs)
        .where(
          inJson(
            runs.runUuid,
            doc.runs.map((r) => r.mlflow_run_id),
          ),
        )
        .all()
    : [];
  const stored = new Map((await exportRunRows(db, existingRuns, "backup", true)).map((rows) => [rows.run.runUuid, runEntry(rows)]));
  for (const r of doc.runs) {
    const current = stored.get(r.mlflow_run_id);
    if (current !== undefined && !sameExportedRun(current, r)) {
      throw invalidParameter(`Run ${r.mlflow_run_id} already exists in this tracker with different data; nothing was imported.`);
    }
  }
  const newRuns = doc.runs.filter((r) => !stored.has(r.mlflow_run_id));
  // An imported page with anything new changes the site (a restore or a backfill from a backup).
  const statements = importStatements(newExperiments, newRuns);
  await runAtomically(db, statements.length > 0 ? [...statements, siteChanged(db)] : []);
  return { experiments: newExperiments.length, runs: newRuns.length };
}

function importStatements(newExperiments: ExportedExperiment[], newRuns: ExportedRun[]): SQL[] {
  const statements: SQL[] = [];
  const chunks = (rows: unknown[][], statement: (json: string) => SQL) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) statements.push(statement(JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))));
  };
  /** Rows of `table` given as arrays in `properties` order, a bulk INSERT ... SELECT per chunk. */
  const bulk = <T extends Table>(table: T, properties: ReadonlyArray<ColumnOf<T>>, rows: unknown[][], conflict?: "ignore") =>
    chunks(rows, (json) => insertSelect(table, jsonFields(properties), sql`from json_each(${json}) j`, conflict));
  /** Whole rows of `table`, every column given (in the table's column order). */
  const bulkRows = <T extends Table>(table: T, rows: Array<Record<ColumnOf<T>, unknown>>) => {
    const columns = Object.keys(getTableColumns(table)) as Array<ColumnOf<T>>;
    bulk(
      table,
      columns,
      rows.map((row) => columns.map((column) => row[column])),
    );
  };
  bulkRows(experiments, newExperiments.map(experimentRecord));
  bulk(
    experimentTags,
    ["experimentId", "key", "value"],
    newExperiments.flatMap((e) => Object.entries(e.tags).map(([k, v]) => [Number(e.experiment_id), k, v])),
  );
  // The latest flag is set below, once all attempts of a name are in.
  bulkRows(
    runs,
    newRuns.map((r) => ({ ...runRecord(r), ...identityColumns(r.run_name), isLatest: false })),
  );
  const keyValues = (pick: (r: ExportedRun) => Record<string, string>) => newRuns.flatMap((r) => Object.entries(pick(r)).map(([k, v]) => [r.mlflow_run_id, k, v]));
  bulk(
    params,
    ["runUuid", "key", "value"],
    keyValues((r) => r.params),
  );
  bulk(
    tags,
    ["runUuid", "key", "value"],
    keyValues((r) => r.tags),
  );
  const points = newRuns.flatMap((r) =>
    Object.entries(r.metrics).flatMap(([key, history]) =>
      history.map(([step, timestamp, value]): PointRow => {
        const v = toStoredValue(value === "NaN" ? Number.NaN : value);
        return [r.mlflow_run_id, key, step, timestamp, v.value, v.isNan ? 1 : 0];
      }),
    ),
  );
  bulk(metrics, POINT_ROW, points, "ignore");
  // The listing as the document states it; the bytes come separately (`kdgat import --artifacts DIR`
  // uploads each listed file the tracker cannot serve yet, which rewrites its row with what arrived).
  const importedAt = Date.now();
  bulk(
    artifacts,
    ["runUuid", "path", "size", "sha256", "updatedAt"],
    newRuns.flatMap((r) => (r.artifacts ?? []).map((a) => [r.mlflow_run_id, a.path, a.size, a.sha256, importedAt])),
  );
  bulk(latestMetrics, POINT_ROW, latestPoints(points));
  // The newest attempt of each imported name (by attempt, then start time) is its latest.
  chunks(
    [...new Map(newRuns.map((r) => [`${r.experiment_id}/${r.run_name}`, [Number(r.experiment_id), r.run_name]])).values()],
    (json) =>
      sql`update runs set is_latest = (run_uuid = (
        select r2.run_uuid from runs r2 where r2.experiment_id = runs.experiment_id and r2.name = runs.name
        order by r2.attempt desc, r2.start_time desc, r2.run_uuid desc limit 1))
      where (experiment_id, name) in (select j.value ->> 0, j.value ->> 1 from json_each(${json}) j)`,
  );
  return statements;
}

/** A metric point as imported: run uuid, key, step, timestamp, stored value, is_nan. */
type PointRow = [string, string, number, number, number, number];
const POINT_ROW = ["runUuid", "key", "step", "timestamp", "value", "isNan"] as const;

/** The latest point per run and key (the core's rule), keys in first-logged order. */
function latestPoints(points: PointRow[]): PointRow[] {
  return [
    ...latestByKey(
      points,
      (p) => `${p[0]}\u0000${p[1]}`,
      (p) => ({ step: p[2], timestamp: p[3], value: p[4] }),
    ).values(),
  ];
}
