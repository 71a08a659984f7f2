/**
 * The only place tables are declared. The shape follows MLflow's SQL tracking store (experiments,
 * experiment_tags, runs, params, tags, metrics, latest_metrics) plus API tokens and a few
 * KD-GAT columns on runs, derived once from the run name, that keep the public read paths cheap.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, sqliteView, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { RUN_STATUSES, type RunStatus } from "../domain/export-document";

export const experiments = sqliteTable("experiments", {
  experimentId: integer("experiment_id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  artifactLocation: text("artifact_location").notNull(),
  lifecycleStage: text("lifecycle_stage", { enum: ["active", "deleted"] })
    .notNull()
    .default("active"),
  creationTime: integer("creation_time").notNull(),
  lastUpdateTime: integer("last_update_time").notNull(),
});

export const experimentTags = sqliteTable(
  "experiment_tags",
  {
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.key] })],
);

// The statuses are the core's (the export document's); re-exported for the store and routes.
export { RUN_STATUSES, type RunStatus };

export const runs = sqliteTable(
  "runs",
  {
    runUuid: text("run_uuid").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    name: text("name").notNull(),
    userId: text("user_id").notNull().default(""),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time"),
    artifactUri: text("artifact_uri").notNull(),
    lifecycleStage: text("lifecycle_stage", { enum: ["active", "deleted"] })
      .notNull()
      .default("active"),
    deletedTime: integer("deleted_time"),
    // KD-GAT identity parsed from the run name (null when the name is not a KD-GAT run id).
    dataset: text("dataset"),
    modelSize: text("model_size"),
    stage: text("stage"),
    kd: integer("kd", { mode: "boolean" }),
    /** 1 for the first run of this name in its experiment, counting up: re-running a stage re-uses its run id. */
    attempt: integer("attempt").notNull().default(1),
    // 1 for the newest attempt of a run name within its experiment: the public lists read only these.
    isLatest: integer("is_latest", { mode: "boolean" }).notNull().default(true),
  },
  (t) => [
    index("runs_experiment_start_idx").on(t.experimentId, t.startTime),
    index("runs_name_idx").on(t.experimentId, t.name, t.startTime),
    index("runs_latest_start_idx").on(t.isLatest, t.startTime),
    index("runs_latest_dataset_stage_idx").on(t.isLatest, t.dataset, t.stage, t.startTime),
  ],
);

/**
 * params and tags have MLflow's same shape: one value per run and key. The (key, value, run_uuid)
 * index answers runs/search's `params.k = 'v'` and `tags.k = 'v'` filters from the matching runs
 * alone (functions/store/search.ts).
 */
const runKeyValueTable = <Name extends string>(name: Name) =>
  sqliteTable(
    name,
    {
      runUuid: text("run_uuid")
        .notNull()
        .references(() => runs.runUuid),
      key: text("key").notNull(),
      value: text("value").notNull(),
    },
    (t) => [primaryKey({ columns: [t.runUuid, t.key] }), index(`${name}_key_value_idx`).on(t.key, t.value, t.runUuid)],
  );

export const params = runKeyValueTable("params");
export const tags = runKeyValueTable("tags");

/** A metric point: MLflow's columns (NaN is value 0 with is_nan set). */
function metricColumns() {
  return {
    runUuid: text("run_uuid").notNull(),
    key: text("key").notNull(),
    step: integer("step").notNull(),
    timestamp: integer("timestamp").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan", { mode: "boolean" }).notNull().default(false),
  };
}

/**
 * Full metric history. The primary key is the whole point, so an exact duplicate is stored once
 * and a retried request writes nothing. NaN is stored as value 0 with is_nan 1 (SQLite turns a NaN
 * REAL into NULL), as MLflow's SQL store does. The table is WITHOUT ROWID, which drizzle cannot
 * declare (https://github.com/drizzle-team/drizzle-orm/issues/408), so the custom migration
 * drizzle/0001_metrics_without_rowid.sql recreates it so and drizzle-kit's snapshot still shows a
 * rowid table; test/worker/schema.test.ts checks the migrated table.
 */
export const metrics = sqliteTable("metrics", metricColumns(), (t) => [primaryKey({ columns: [t.runUuid, t.key, t.step, t.timestamp, t.value, t.isNan] })]);

/**
 * The latest point per run and key: greatest (step, timestamp, value), as MLflow defines it.
 * experiment_id, dataset, stage and ranked are copies of the run's, kept in step by the triggers of
 * the custom migration drizzle/0002_ranked_latest_metrics.sql (on every insert here and every
 * change of those columns of runs, whichever write path makes it), so that a leaderboard walks one
 * index in rank order: the partial indexes hold ranked, non-NaN points only, which RUNNING runs'
 * upserts never touch.
 */
/**
 * The partial indexes' condition, written with literals (SQLite uses a partial index only for a
 * query that repeats its terms so, not with bound values): the leaderboard query includes it.
 */
export const RANKED_POINT = sql`ranked = 1 and is_nan = 0`;
export const latestMetrics = sqliteTable(
  "latest_metrics",
  {
    ...metricColumns(),
    experimentId: integer("experiment_id"),
    dataset: text("dataset"),
    stage: text("stage"),
    ranked: integer("ranked", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.runUuid, t.key] }),
    index("latest_metrics_key_value_idx").on(t.key, t.value),
    index("latest_metrics_ranked_stage_idx").on(t.key, t.experimentId, t.stage, t.value).where(RANKED_POINT),
    index("latest_metrics_ranked_dataset_idx").on(t.key, t.experimentId, t.stage, t.dataset, t.value).where(RANKED_POINT),
  ],
);

/**
 * The one definition of a ranked run: the latest attempt of its name, FINISHED and active. The
 * leaderboard ranks only these; the triggers of drizzle/0002_ranked_latest_metrics.sql read this
 * view to copy a run's rank columns onto its latest_metrics rows.
 */
export const runRanks = sqliteView("run_ranks").as((qb) =>
  qb
    .select({
      runUuid: runs.runUuid,
      experimentId: runs.experimentId,
      dataset: runs.dataset,
      stage: runs.stage,
      ranked: sql<boolean>`(${runs.isLatest} = 1 and ${runs.status} = 'FINISHED' and ${runs.lifecycleStage} = 'active')`.as("ranked"),
    })
    .from(runs),
);

/**
 * Artifacts of a run (the bytes are in the R2 bucket ARTIFACTS under `<experiment_id>/<run_uuid>/artifacts/<path>`):
 * one row per stored file, written once its bytes are in R2, so that listings and exports read D1, not R2.
 */
export const artifacts = sqliteTable(
  "artifacts",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    /** Relative to the run's artifact root, "/"-separated. */
    path: text("path").notNull(),
    size: integer("size").notNull(),
    /** Hex SHA-256 of the bytes, computed while they streamed in. */
    sha256: text("sha256").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.path] })],
);

/** MLflow's datasets (runs/log-inputs): one per experiment, name and digest. */
export const datasets = sqliteTable(
  "datasets",
  {
    datasetUuid: text("dataset_uuid").notNull().unique(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    name: text("name").notNull(),
    digest: text("digest").notNull(),
    sourceType: text("dataset_source_type").notNull(),
    source: text("dataset_source").notNull(),
    schema: text("dataset_schema"),
    profile: text("dataset_profile"),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.name, t.digest] })],
);

/** MLflow's inputs: a dataset (source) used by a run (destination), with its input tags. */
export const inputs = sqliteTable(
  "inputs",
  {
    inputUuid: text("input_uuid").notNull().unique(),
    sourceType: text("source_type").notNull(),
    sourceId: text("source_id").notNull(),
    destinationType: text("destination_type").notNull(),
    destinationId: text("destination_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceType, t.sourceId, t.destinationType, t.destinationId] }), index("inputs_destination_idx").on(t.destinationType, t.destinationId)],
);

export const inputTags = sqliteTable(
  "input_tags",
  {
    inputUuid: text("input_uuid").notNull(),
    name: text("name").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.inputUuid, t.name] })],
);

/** Write tokens: only a SHA-256 hash is stored; the token itself is shown once, when minted. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    name: text("name").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash_idx").on(t.tokenHash)],
);

export const DEFAULT_EXPERIMENT_ID = 0;
export const nowMs = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/**
 * One row (id 1): when the public site last went stale and which change the last site build covers.
 * A write that changes what the site shows sets changed_at (and pending_since, when it is the first
 * change since the last build); the Cron Trigger claims a build in this row, so at most one is in flight.
 */
export const siteState = sqliteTable("site_state", {
  id: integer("id").primaryKey(),
  /** The newest change the site shows (ms). */
  changedAt: integer("changed_at").notNull(),
  /** The first change not yet covered by a build (ms); null when the site is up to date. */
  pendingSince: integer("pending_since"),
  /** changed_at when the deploy hook was last called: what that build shows. */
  buildCovers: integer("build_covers"),
  /** When the deploy hook was last called, and by which Worker version (its build is in flight until another version runs). */
  buildStartedAt: integer("build_started_at"),
  buildVersion: text("build_version"),
});
