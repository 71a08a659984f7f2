/**
 * The one module that knows MLflow's response JSON: store rows to experiment, run_info, run and
 * metric objects with MLflow's key order. Ids become strings; empty repeated fields are omitted.
 */

import { fromStoredValue } from "../domain/metric-values";
import type { ArtifactEntry } from "../store/artifacts";
import type { ExperimentWithTags } from "../store/experiments";
import type { DatasetInput } from "../store/inputs";
import type { KeyValue } from "../store/key-values";
import type { RunRow } from "../store/runs";
import type { RunWithData } from "../store/search";

/** `{ name: items }`, or nothing when there are no items (MLflow omits empty repeated fields). */
export function repeated<K extends string, T>(name: K, items: T[]): Partial<Record<K, T[]>> {
  return (items.length ? { [name]: items } : {}) as Partial<Record<K, T[]>>;
}

export function experimentJson(experiment: ExperimentWithTags) {
  return {
    experiment_id: String(experiment.experimentId),
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    ...repeated("tags", experiment.tags.map(keyValueJson)),
  };
}

export function runInfoJson(run: RunRow) {
  return {
    run_uuid: run.runUuid,
    experiment_id: String(run.experimentId),
    run_name: run.name,
    user_id: run.userId,
    status: run.status,
    start_time: run.startTime,
    ...(run.endTime !== null && { end_time: run.endTime }),
    artifact_uri: run.artifactUri,
    lifecycle_stage: run.lifecycleStage,
    run_id: run.runUuid,
  };
}

export interface MetricPointRow {
  key: string;
  value: number;
  isNan: boolean;
  timestamp: number;
  step: number;
}

export function metricJson(point: MetricPointRow) {
  return { key: point.key, value: fromStoredValue(point.value, point.isNan), timestamp: point.timestamp, step: point.step };
}

const keyValueJson = ({ key, value }: KeyValue) => ({ key, value });

function datasetInputJson({ dataset: d, tags }: DatasetInput) {
  return {
    ...repeated("tags", tags.map(keyValueJson)),
    dataset: {
      name: d.name,
      digest: d.digest,
      source_type: d.sourceType,
      source: d.source,
      ...(d.schema !== undefined && { schema: d.schema }),
      ...(d.profile !== undefined && { profile: d.profile }),
    },
  };
}

/**
 * A run as runs/get and runs/search give it, with its inputs (`"inputs": {}` when it has none);
 * runs/create's response has no inputs field ("omit").
 */
export function runJson(run: Omit<RunWithData, "inputs">, inputs: DatasetInput[] | "omit") {
  return {
    info: runInfoJson(run.info),
    data: {
      ...repeated("metrics", run.metrics.map(metricJson)),
      ...repeated("params", run.params.map(keyValueJson)),
      ...repeated("tags", run.tags.map(keyValueJson)),
    },
    ...(inputs !== "omit" && { inputs: repeated("dataset_inputs", inputs.map(datasetInputJson)) }),
  };
}

/** A point of get-history-bulk-interval: a metric with its run's id. */
export const metricWithRunIdJson = (point: MetricPointRow, runId: string) => ({ ...metricJson(point), run_id: runId });

/**
 * An artifact listing's `files` (FileInfo: `file_size` left out for 0 and for directories, as proto
 * JSON omits defaults); `parent` prefixes each name (artifacts/list gives paths from the run's root).
 */
export function artifactFilesJson(entries: ArtifactEntry[], parent = "") {
  const files = entries.map((e) => ({ path: parent === "" ? e.name : `${parent}/${e.name}`, is_dir: e.isDir, ...(e.size && { file_size: e.size }) }));
  return repeated("files", files);
}

/** mpu/create's answer: the upload id and one credential (a URL, no headers) per part. */
export const multipartCreateJson = (uploadId: string, urls: string[]) => ({
  upload_id: uploadId,
  credentials: urls.map((url, i) => ({ url, part_number: i + 1 })),
});
