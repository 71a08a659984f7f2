/**
 * The public JSON contract of /api/v1 (reads, writes' answers and the export format) as zod schemas;
 * the types are inferred from them. The worker produces these shapes (presenters.ts, the routes);
 * the CLI and the site consume them, and may validate an answer with the schema itself.
 *
 * Metric values are JSON numbers, or the string "NaN" (JSON has no NaN; MLflow's wire format uses
 * the same string). Infinities are stored clamped to +-1.7976931348623157e308, as MLflow does.
 * Times are integer milliseconds since the epoch.
 */
import * as z from "zod/mini";
import {
  type ExportDocument,
  type ExportedArtifact,
  type ExportedExperiment,
  type ExportedRun,
  exportDocument,
  metricValue,
  RUN_STATUSES,
  type RunStatus,
} from "../domain/export-document.js";
import type { MetricValue } from "../domain/metric-values.js";

export type { ExportDocument, ExportedArtifact, ExportedExperiment, ExportedRun, MetricValue, RunStatus };
export { exportDocument, metricValue };

const status = z.enum(RUN_STATUSES);
const direction = z.enum(["asc", "desc"]);
const counts = z.record(z.string(), z.number());

/** One attempt of a run id (the latest one, in lists). */
export const runSummary = z.object({
  /** The deterministic run id and MLflow run name, e.g. `hcrl_sa/student_curriculum_kd`. */
  run_id: z.string(),
  /** The MLflow run uuid of this attempt (32 hex characters). */
  mlflow_run_id: z.string(),
  experiment: z.string(),
  /** Parsed from run_id; null when run_id is not of the form `{dataset}/{size}_{stage}[_kd]`. */
  dataset: z.nullable(z.string()),
  model_size: z.nullable(z.string()),
  stage: z.nullable(z.string()),
  kd: z.nullable(z.boolean()),
  status,
  start_time: z.number(),
  end_time: z.nullable(z.number()),
  /** 1 for the first attempt of this run id, counting up. */
  attempt: z.number(),
  teacher_run_id: z.nullable(z.string()),
  error_msg: z.nullable(z.string()),
});
export type RunSummary = z.infer<typeof runSummary>;

/** GET /api/v1/runs?experiment=&dataset=&stage=&size=&kd=&status=&limit=&page_token=[&format=csv] */
export const runListResponse = z.object({
  runs: z.array(runSummary),
  /** Present when more runs may follow; pass it back as `page_token`. */
  next_page_token: z.optional(z.string()),
});
export type RunListResponse = z.infer<typeof runListResponse>;

export const latestMetric = z.object({ value: metricValue, step: z.number(), timestamp: z.number() });
export type LatestMetric = z.infer<typeof latestMetric>;

export const attemptSummary = z.object({
  mlflow_run_id: z.string(),
  attempt: z.number(),
  status,
  start_time: z.number(),
  end_time: z.nullable(z.number()),
});
export type AttemptSummary = z.infer<typeof attemptSummary>;

/** GET /api/v1/runs/{dataset}/{name} */
export const runDetailResponse = z.object({
  run: runSummary,
  params: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), latestMetric),
  metric_keys: z.array(z.string()),
  /** Every attempt of this run id, oldest first. */
  attempts: z.array(attemptSummary),
  /** Run ids of KD students whose teacher_run_id is this run. */
  students: z.array(z.string()),
});
export type RunDetailResponse = z.infer<typeof runDetailResponse>;

export const metricPoint = z.object({ step: z.number(), timestamp: z.number(), value: metricValue });
export type MetricPoint = z.infer<typeof metricPoint>;

/** GET /api/v1/runs/{dataset}/{name}/metrics/{key} (latest attempt; `?attempt=N` for another) */
export const metricHistoryResponse = z.object({
  run_id: z.string(),
  mlflow_run_id: z.string(),
  key: z.string(),
  /** At most 25,000 points; `?page_token=<next_page_token>` gets the next ones. */
  points: z.array(metricPoint),
  next_page_token: z.optional(z.string()),
});
export type MetricHistoryResponse = z.infer<typeof metricHistoryResponse>;

/** The answer of a v1 write: the attempt it wrote to (PUT: 201 for a new attempt, 200 for a repeat). */
export const attemptAnswer = z.object({ run_id: z.string(), name: z.string(), attempt: z.number() });
export type AttemptAnswer = z.infer<typeof attemptAnswer>;
/** POST /api/v1/runs/{dataset}/{name}/metrics */
export const metricsUploadResponse = z.extend(attemptAnswer, { points: z.number() });
export type MetricsUploadResponse = z.infer<typeof metricsUploadResponse>;
/** POST /api/v1/runs/{dataset}/{name}/end */
export const endResponse = z.extend(attemptAnswer, { status, end_time: z.nullable(z.number()) });
export type EndResponse = z.infer<typeof endResponse>;

/** GET /api/v1/leaderboard?metric=&dataset=&stage=&top= */
export const leaderboardResponse = z.object({
  metric: z.string(),
  direction,
  stage: z.string(),
  dataset: z.nullable(z.string()),
  entries: z.array(z.object({ rank: z.number(), value: metricValue, run: runSummary })),
});
export type LeaderboardResponse = z.infer<typeof leaderboardResponse>;

const compareSide = z.nullable(z.object({ run_id: z.string(), value: metricValue }));

/** GET /api/v1/compare?a=teacher&b=student_kd&metric=&stage= */
export const compareResponse = z.object({
  metric: z.string(),
  direction,
  stage: z.string(),
  a: z.string(),
  b: z.string(),
  datasets: z.array(
    z.object({
      dataset: z.string(),
      a: compareSide,
      b: compareSide,
      /** b minus a; null when either side is missing or NaN. */
      delta: z.nullable(z.number()),
    }),
  ),
});
export type CompareResponse = z.infer<typeof compareResponse>;

/** GET /api/v1/metric-keys?limit= (every metric key logged, sorted; truncated past the limit) */
export const metricKeysResponse = z.object({ keys: z.array(z.string()), truncated: z.boolean() });
export type MetricKeysResponse = z.infer<typeof metricKeysResponse>;

/** GET /api/v1/summary */
export const summaryResponse = z.object({
  total: z.number(),
  by_dataset: counts,
  by_stage: counts,
  by_status: counts,
  generated_at: z.number(),
});
export type SummaryResponse = z.infer<typeof summaryResponse>;

/** POST /api/v1/tokens (admin) */
export const tokenCreatedResponse = z.object({ name: z.string(), token: z.string() });
export type TokenCreatedResponse = z.infer<typeof tokenCreatedResponse>;

/** GET /api/v1/tokens (admin) */
export const tokenListResponse = z.object({
  tokens: z.array(z.object({ name: z.string(), created_at: z.number(), last_used_at: z.nullable(z.number()), revoked_at: z.nullable(z.number()) })),
});
export type TokenListResponse = z.infer<typeof tokenListResponse>;

/** POST /api/v1/import (admin): how many experiments and runs the page created. */
export const importResponse = z.object({ imported: z.object({ experiments: z.number(), runs: z.number() }) });
export type ImportResponse = z.infer<typeof importResponse>;

/** One stored artifact of a run: path relative to its artifact root, bytes, hex SHA-256. */
export const artifactFile = z.object({ path: z.string(), size: z.number(), sha256: z.string() });
export type ArtifactFile = z.infer<typeof artifactFile>;

/** GET /api/v1/artifacts/{mlflow_run_id}: every stored artifact of the run, by path. */
export const artifactListResponse = z.object({ run_id: z.string(), artifact_uri: z.string(), files: z.array(artifactFile) });
export type ArtifactListResponse = z.infer<typeof artifactListResponse>;

/** POST /api/v1/admin/gc: what was removed (or, with dry_run, would be) in this call. */
export const gcResponse = z.object({
  runs: z.number(),
  files: z.number(),
  bytes: z.number(),
  /** More files are due: call again. */
  more: z.boolean(),
  dry_run: z.boolean(),
  /** Runs deleted before this time (epoch ms) were collected. */
  deleted_before: z.number(),
});
export type GcResponse = z.infer<typeof gcResponse>;

/** GET /api/v1/site/state: when the public site last went stale (a run ended, was deleted, restored or imported). */
export const siteStateResponse = z.object({
  /** ms since the epoch; null before the first such write. */
  changed_at: z.nullable(z.number()),
  /** true while a change is newer than the last site build the tracker asked for. */
  pending: z.boolean(),
});
export type SiteStateResponse = z.infer<typeof siteStateResponse>;
