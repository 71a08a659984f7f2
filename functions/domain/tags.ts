import { runIdFromPath } from "./layout.js";
import { pythonStr } from "./params.js";
import type { PyJson } from "./python-json.js";
import { modelArchOf, parseRunId } from "./run-id.js";

/**
 * Set ("true") by backfill on an evaluation run whose folder has no metrics.json: it is FINISHED,
 * but the evaluation's results were never written, so it is not a run with empty results.
 */
export const NO_METRICS_TAG = "kdgat.no_metrics";

/** An evaluation run is the one stage whose results are its metrics.json. */
export function expectsMetricsJson(runId: string): boolean {
  return parseRunId(runId)?.stage === "evaluation";
}

/**
 * The tags the pipeline sets on a run, derived from its run id and config:
 * dataset, model_size, stage, use_kd, model_arch, teacher_run_id. A run id that does not parse
 * still yields what can be derived (its dataset, and whatever the config says).
 */
export function deriveRunTags(runId: string, config: Record<string, PyJson> = {}): Record<string, string> {
  const tags: Record<string, string> = {};
  const parts = parseRunId(runId);
  const slash = runId.indexOf("/");
  const dataset = parts?.dataset ?? (slash > 0 ? runId.slice(0, slash) : undefined) ?? asText(config.dataset);
  if (dataset) tags.dataset = dataset;
  const modelSize = parts?.modelSize ?? asText(config.model_size);
  if (modelSize) tags.model_size = modelSize;
  if (parts) tags.stage = parts.stage;
  const useKd = parts?.kd ?? (typeof config.use_kd === "boolean" ? config.use_kd : undefined);
  if (useKd !== undefined) tags.use_kd = pythonStr(useKd);
  const arch = parts ? modelArchOf(parts.stage) : undefined;
  if (arch) tags.model_arch = arch;
  const teacherPath = asText(config.teacher_path);
  const teacher = useKd && teacherPath ? runIdFromPath(teacherPath) : undefined;
  if (teacher) tags.teacher_run_id = teacher;
  return tags;
}

function asText(value: PyJson | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
