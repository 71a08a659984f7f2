/**
 * The export document: the tracker's backup and public dump, a file format that the Worker writes
 * and reads (GET /api/v1/export, POST /api/v1/import), the CLI stores and the site builds from.
 * It is a format of the data, not of one route, so it lives in the core with the other shared rules.
 */
import type { MetricValue } from "./metric-values.js";

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

/**
 * GET /api/v1/export (public, paged with `page_token`): everything but tokens.
 * POST /api/v1/import (admin) takes the same document and recreates it in an empty tracker.
 */
export interface ExportDocument {
  format: "kdgat-export";
  version: 1;
  exported_at: number;
  experiments: ExportedExperiment[];
  runs: ExportedRun[];
  next_page_token?: string;
}

export interface ExportedExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: "active" | "deleted";
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

export interface ExportedRun {
  mlflow_run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: "active" | "deleted";
  /** When the run was soft-deleted (lifecycle_stage "deleted"), else null. */
  deleted_time: number | null;
  /** 1 for the first attempt of run_name in its experiment, counting up (kept by import). */
  attempt: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Full history per key: [step, timestamp, value] in step order. */
  metrics: Record<string, Array<[number, number, MetricValue]>>;
}
