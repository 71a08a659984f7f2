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
import { metricStatements } from "./log-batch";
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
 * Where an export page starts: after this run, or inside it, after this point of its history (key,
 * step, timestamp, value, is_nan: the metrics primary key's order), with the index of its next part.
 */
export type ExportCursor = string | { runUuid: string; point: [string, number, number, number, 0 | 1]; part: number };

type StoredPointRow = typeof metrics.$inferSelect;
const pointOrder = [asc(metrics.runUuid), asc(metrics.key), asc(metrics.step), asc(metrics.timestamp), asc(metrics.value), asc(metrics.isNan)];

/**
 * One page of runs after the cursor, and the cursor of the next page when more follow. A page holds
 * whole runs up to EXPORT_POINTS_PER_PAGE points in all; a run with more points than that is cut
 * into parts, one page each, so no page holds more than that many points (D1 reads at most that
 * many points per page, wherever the page starts).
 */
export async function exportRunsPage(db: Db, scope: ExportScope, after: ExportCursor | undefined, withArtifacts: boolean): Promise<{ runs: RunRows[]; next?: ExportCursor }> {
  // A correlated EXISTS (one experiment looked up by primary key per run) keeps SQLite walking runs in
  // uuid order from the cursor; an IN list of experiments made it read every run of them and sort.
  const visible =
    scope === "public"
      ? and(
          eq(runs.lifecycleStage, "active"),
          sql`exists (select 1 from ${experiments} where ${experiments.experimentId} = ${runs.experimentId} and ${experiments.lifecycleStage} = 'active')`,
        )
      : undefined;
  const inside = typeof after === "object" ? after : undefined;
  const afterUuid = typeof after === "string" ? after : undefined;
  const candidates = await db
    .select()
    .from(runs)
    .where(and(inside ? sql`${runs.runUuid} >= ${inside.runUuid}` : afterUuid === undefined ? undefined : gt(runs.runUuid, afterUuid), visible))
    .orderBy(asc(runs.runUuid))
    .limit(EXPORT_RUNS_PER_PAGE + 1)
    .all();
  if (candidates.length === 0) return { runs: [] };
  // The page's first run, from where its history stopped: up to the whole budget, one more to see a cut.
  const [first, ...others] = candidates;
  const from = inside?.runUuid === first.runUuid ? inside : undefined;
  const firstPoints = await db
    .select()
    .from(metrics)
    .where(
      and(eq(metrics.runUuid, first.runUuid), from && sql`(${metrics.key}, ${metrics.step}, ${metrics.timestamp}, ${metrics.value}, ${metrics.isNan}) > (${sql.join(from.point, sql`, `)})`),
    )
    .orderBy(...pointOrder)
    .limit(EXPORT_POINTS_PER_PAGE + 1)
    .all();
  const index = from?.part ?? 1;
  if (firstPoints.length > EXPORT_POINTS_PER_PAGE) {
    const points = firstPoints.slice(0, EXPORT_POINTS_PER_PAGE);
    const last = points[points.length - 1];
    const [rows] = await exportRunRows(db, [first], scope, withArtifacts, { points, withKeys: index === 1 });
    return {
      runs: [{ ...rows, part: { index, last: false } }],
      next: { runUuid: first.runUuid, point: [last.key, last.step, last.timestamp, last.value, last.isNan ? 1 : 0], part: index + 1 },
    };
  }
  // Then whole runs while the budget lasts: their points in key order, one more than fits to see a cut.
  const room = EXPORT_POINTS_PER_PAGE - firstPoints.length;
  const rest = others.slice(0, EXPORT_RUNS_PER_PAGE - 1);
  const restPoints =
    rest.length === 0
      ? []
      : await db
          .select()
          .from(metrics)
          .where(
            inJson(
              metrics.runUuid,
              rest.map((r) => r.runUuid),
            ),
          )
          .orderBy(...pointOrder)
          .limit(room + 1)
          .all();
  // A cut run (its points not all read) and the runs after it wait for the next page.
  const cutAt = restPoints.length > room ? rest.findIndex((r) => r.runUuid === restPoints[room].runUuid) : rest.length;
  const taken = rest.slice(0, cutAt);
  const points = [...firstPoints, ...restPoints.filter((p) => p.runUuid < (rest[cutAt]?.runUuid ?? "~"))];
  const page = [first, ...taken];
  const rows = await exportRunRows(db, page, scope, withArtifacts, { points, withKeys: true });
  if (index > 1) rows[0] = { ...rows[0], keys: [], part: { index, last: true } };
  return { runs: rows, ...(page.length < candidates.length && { next: page[page.length - 1].runUuid }) };
}

/**
 * These runs with params, tags and metric histories (and, `withArtifacts`, artifact listings), in the given order: every point of theirs, or
 * the points given (in the metrics primary key's order); keys in first-logged order unless left out.
 */
export async function exportRunRows(db: Db, rows: RunRow[], scope: ExportScope, withArtifacts: boolean, only?: { points: StoredPointRow[]; withKeys: boolean }): Promise<RunRows[]> {
  if (rows.length === 0) return [];
  const uuids = rows.map((r) => r.runUuid);
  const [paramRows, tagRows, keyRows, pointRows, artifactRows] = await db.batch([
    db.select().from(params).where(inJson(params.runUuid, uuids)).orderBy(sql`rowid`),
    db.select().from(tags).where(inJson(tags.runUuid, uuids)).orderBy(sql`rowid`),
    // Keys in the order they were first logged, which import restores (MLflow lists metrics so).
    db
      .select({ runUuid: latestMetrics.runUuid, key: latestMetrics.key })
      .from(latestMetrics)
      .where(only?.withKeys === false ? sql`false` : inJson(latestMetrics.runUuid, uuids))
      .orderBy(sql`rowid`),
    db
      .select()
      .from(metrics)
      .where(only ? sql`false` : inJson(metrics.runUuid, uuids))
      .orderBy(...pointOrder),
    // In the same batch (no extra round trip); reads nothing when the listing is not exported.
    db
      .select({ runUuid: artifacts.runUuid, path: artifacts.path, size: artifacts.size, sha256: artifacts.sha256 })
      .from(artifacts)
      .where(withArtifacts ? inJson(artifacts.runUuid, uuids) : sql`0`)
      .orderBy(asc(artifacts.runUuid), asc(artifacts.path)),
  ]);
  const points = only?.points ?? pointRows;
  return rows.map((run) => ({
    run,
    params: paramRows.filter((p) => p.runUuid === run.runUuid),
    tags: tagRows.filter((t) => t.runUuid === run.runUuid && (scope === "backup" || !PRIVATE_TAGS.has(t.key))),
    keys: keyRows.filter((k) => k.runUuid === run.runUuid).map((k) => k.key),
    points: points.filter((m) => m.runUuid === run.runUuid),
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
  // A whole run is compared with all it holds; a part (of a long history) with the run's fields, params and tags.
  const partsOnly = new Set(existingRuns.filter((run) => doc.runs.every((r) => r.mlflow_run_id !== run.runUuid || r.part)).map((run) => run.runUuid));
  const [whole, parted] = await Promise.all([
    exportRunRows(
      db,
      existingRuns.filter((run) => !partsOnly.has(run.runUuid)),
      "backup",
      true,
    ),
    exportRunRows(
      db,
      existingRuns.filter((run) => partsOnly.has(run.runUuid)),
      "backup",
      true,
      { points: [], withKeys: false },
    ),
  ]);
  const stored = new Map([...whole, ...parted].map((rows) => [rows.run.runUuid, runEntry(rows)]));
  const newRuns: ExportedRun[] = [];
  const appended: ExportedRun[] = [];
  for (const r of doc.runs) {
    const current = stored.get(r.mlflow_run_id);
    const same = current !== undefined && (r.part ? sameExportedRun({ ...current, metrics: {} }, { ...r, part: undefined, metrics: {} }) : sameExportedRun(current, r));
    if (current !== undefined && !same) {
      throw invalidParameter(`Run ${r.mlflow_run_id} already exists in this tracker with different data; nothing was imported.`);
    }
    if (current !== undefined || newRuns.some((n) => n.mlflow_run_id === r.mlflow_run_id)) {
      if (r.part) appended.push(r);
    } else if (r.part && r.part.index > 1) {
      throw invalidParameter(`Part ${r.part.index} of run ${r.mlflow_run_id} comes before its part 1; nothing was imported.`);
    } else newRuns.push(r);
  }
  // An imported page with anything new changes the site (a restore or a backfill from a backup).
  const statements = [...importStatements(newExperiments, newRuns), ...appended.flatMap(appendStatements)];
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

/**
 * The points of a later part of a run's history, added to what the run holds: INSERT OR IGNORE (a
 * point is its whole row, so a part imported twice changes nothing), the latest point moved forward.
 */
function appendStatements(part: ExportedRun): SQL[] {
  const points = Object.entries(part.metrics).flatMap(([key, history]) => history.map(([step, timestamp, value]) => ({ key, step, timestamp, value: value === "NaN" ? Number.NaN : value })));
  const statements: SQL[] = [];
  for (let i = 0; i < points.length; i += ROWS_PER_STATEMENT) statements.push(...metricStatements(part.mlflow_run_id, points.slice(i, i + ROWS_PER_STATEMENT)));
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
