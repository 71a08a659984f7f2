/**
 * The export document: the tracker's backup and public dump, a file format that the Worker writes
 * and reads (GET /api/v1/export, POST /api/v1/import), the CLI stores and the site builds from.
 * It is a format of the data, not of one route, so it lives in the core with the other shared rules.
 */
import { fromStoredValue, type MetricValue } from "./metric-values.js";
import { compareText } from "./ranking.js";

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

/** An experiment as the store reads it (drizzle's property names). */
export interface ExperimentRecord {
  experimentId: number;
  name: string;
  artifactLocation: string;
  lifecycleStage: "active" | "deleted";
  creationTime: number;
  lastUpdateTime: number;
}

/** A run as the store reads it (drizzle's property names). */
export interface RunRecord {
  runUuid: string;
  experimentId: number;
  name: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: "active" | "deleted";
  deletedTime: number | null;
  attempt: number;
}

export interface KeyValueRecord {
  key: string;
  value: string;
}

/** A stored metric point: NaN as is_nan (see metric-values.ts). */
export interface PointRecord {
  key: string;
  step: number;
  timestamp: number;
  value: number;
  isNan: boolean;
}

/** Everything an export holds of one run, as rows: its keys in first-logged order, its points in step order. */
export interface RunRows {
  run: RunRecord;
  params: KeyValueRecord[];
  tags: KeyValueRecord[];
  keys: string[];
  points: PointRecord[];
}

const record = (rows: KeyValueRecord[]) => Object.fromEntries(rows.map((r) => [r.key, r.value]));

export function exportedExperiment(e: ExperimentRecord, tags: KeyValueRecord[]): ExportedExperiment {
  return {
    experiment_id: String(e.experimentId),
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.creationTime,
    last_update_time: e.lastUpdateTime,
    tags: record(tags),
  };
}

export function exportedRun({ run: r, params, tags, keys, points }: RunRows): ExportedRun {
  const history: ExportedRun["metrics"] = {};
  for (const key of keys) history[key] = [];
  for (const p of points) (history[p.key] ??= []).push([p.step, p.timestamp, fromStoredValue(p.value, p.isNan)]);
  return {
    mlflow_run_id: r.runUuid,
    experiment_id: String(r.experimentId),
    run_name: r.name,
    user_id: r.userId,
    status: r.status,
    start_time: r.startTime,
    end_time: r.endTime,
    artifact_uri: r.artifactUri,
    lifecycle_stage: r.lifecycleStage,
    deleted_time: r.deletedTime,
    attempt: r.attempt,
    params: record(params),
    tags: record(tags),
    metrics: history,
  };
}

/** The experiment a document entry describes, as the store keeps it (the inverse of exportedExperiment, tags aside). */
export function experimentRecord(e: ExportedExperiment): ExperimentRecord {
  return {
    experimentId: Number(e.experiment_id),
    name: e.name,
    artifactLocation: e.artifact_location,
    lifecycleStage: e.lifecycle_stage,
    creationTime: e.creation_time,
    lastUpdateTime: e.last_update_time,
  };
}

/** The run a document entry describes, as the store keeps it (the inverse of exportedRun, its data aside). */
export function runRecord(r: ExportedRun): RunRecord {
  return {
    runUuid: r.mlflow_run_id,
    experimentId: Number(r.experiment_id),
    name: r.run_name,
    userId: r.user_id,
    status: r.status,
    startTime: r.start_time,
    endTime: r.end_time,
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage,
    deletedTime: r.deleted_time,
    attempt: r.attempt,
  };
}

/** Whether two exported runs hold the same data, whatever the order of their keys and points. */
export function sameExportedRun(a: ExportedRun, b: ExportedRun): boolean {
  return canonical(a) === canonical(b);
}

function canonical(run: ExportedRun): string {
  const sorted = (entries: Record<string, unknown>) => Object.entries(entries).sort(([x], [y]) => compareText(x, y));
  const history = sorted(run.metrics).map(([key, points]) => [key, (points as ExportedRun["metrics"][string]).map((p) => JSON.stringify(p)).sort()]);
  return JSON.stringify({ ...run, params: sorted(run.params), tags: sorted(run.tags), metrics: history });
}
