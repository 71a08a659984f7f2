/**
 * The public JSON contract of /api/v1 (reads and the export format). The worker produces these
 * shapes; the CLI and the site consume them. Types only: nothing here runs.
 *
 * Metric values are JSON numbers, or the string "NaN" (JSON has no NaN; MLflow's wire format uses
 * the same string). Infinities are stored clamped to +-1.7976931348623157e308, as MLflow does.
 * Times are integer milliseconds since the epoch.
 */
import type { ExportDocument, ExportedExperiment, ExportedRun, RunStatus } from "../domain/export-document.js";
import type { MetricValue } from "../domain/metric-values.js";

export type { ExportDocument, ExportedExperiment, ExportedRun, MetricValue, RunStatus };

/** One attempt of a run id (the latest one, in lists). */
export interface RunSummary {
  /** The deterministic run id and MLflow run name, e.g. `hcrl_sa/student_curriculum_kd`. */
  run_id: string;
  /** The MLflow run uuid of this attempt (32 hex characters). */
  mlflow_run_id: string;
  experiment: string;
  /** Parsed from run_id; null when run_id is not of the form `{dataset}/{size}_{stage}[_kd]`. */
  dataset: string | null;
  model_size: string | null;
  stage: string | null;
  kd: boolean | null;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  /** 1 for the first attempt of this run id, counting up. */
  attempt: number;
  teacher_run_id: string | null;
  error_msg: string | null;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow; pass it back as `page_token`. */
  next_page_token?: string;
}

/** GET /api/v1/runs?experiment=&dataset=&stage=&size=&kd=&status=&limit=&page_token=[&format=csv] */
export interface RunListResponse {
  runs: RunSummary[];
  next_page_token?: string;
}

export interface LatestMetric {
  value: MetricValue;
  step: number;
  timestamp: number;
}

export interface AttemptSummary {
  mlflow_run_id: string;
  attempt: number;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
}

/** GET /api/v1/runs/{dataset}/{name} */
export interface RunDetailResponse {
  run: RunSummary;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, LatestMetric>;
  metric_keys: string[];
  /** Every attempt of this run id, oldest first. */
  attempts: AttemptSummary[];
  /** Run ids of KD students whose teacher_run_id is this run. */
  students: string[];
}

export interface MetricPoint {
  step: number;
  timestamp: number;
  value: MetricValue;
}

/** GET /api/v1/runs/{dataset}/{name}/metrics/{key} (latest attempt; `?attempt=N` for another) */
export interface MetricHistoryResponse {
  run_id: string;
  mlflow_run_id: string;
  key: string;
  points: MetricPoint[];
}

/** GET /api/v1/leaderboard?metric=&dataset=&stage=&top= */
export interface LeaderboardResponse {
  metric: string;
  direction: "asc" | "desc";
  stage: string;
  dataset: string | null;
  entries: Array<{ rank: number; value: MetricValue; run: RunSummary }>;
}

/** GET /api/v1/compare?a=teacher&b=student_kd&metric=&stage= */
export interface CompareResponse {
  metric: string;
  direction: "asc" | "desc";
  stage: string;
  a: string;
  b: string;
  datasets: Array<{
    dataset: string;
    a: { run_id: string; value: MetricValue } | null;
    b: { run_id: string; value: MetricValue } | null;
    /** b minus a; null when either side is missing or NaN. */
    delta: number | null;
  }>;
}

/** GET /api/v1/metric-keys?limit= (every metric key logged, sorted; truncated past the limit) */
export interface MetricKeysResponse {
  keys: string[];
  truncated: boolean;
}

/** GET /api/v1/summary */
export interface SummaryResponse {
  total: number;
  by_dataset: Record<string, number>;
  by_stage: Record<string, number>;
  by_status: Record<string, number>;
  generated_at: number;
}

/** POST /api/v1/tokens (admin) */
export interface TokenCreatedResponse {
  name: string;
  token: string;
}

/** GET /api/v1/tokens (admin) */
export interface TokenListResponse {
  tokens: Array<{ name: string; created_at: number; last_used_at: number | null; revoked_at: number | null }>;
}

/** GET /api/v1/site/state: when the public site last went stale (a run ended, was deleted, restored or imported). */
export interface SiteStateResponse {
  /** ms since the epoch; null before the first such write. */
  changed_at: number | null;
  /** true while a change is newer than the last site build the tracker asked for. */
  pending: boolean;
}
