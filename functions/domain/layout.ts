import { formatRunId, isValidSegment, parseRunId, type RunIdParts, segmentProblem } from "./run-id.js";
import { isStage, stageFromOldLayout } from "./stages.js";

/** The old layout: `automotive/{dataset}/{model_size}/{learning_type}/{model_arch}/{distillation}/{mode}`. */
export const OLD_LAYOUT_ROOT = "automotive";
/** The folder levels below `automotive/`, in order; the last one is the run folder. */
export const OLD_LAYOUT_LEVELS = ["dataset", "model_size", "learning_type", "model_arch", "distillation", "mode"] as const;
/** Folder levels below `automotive/` that make one old-layout run folder. */
export const OLD_LAYOUT_DEPTH = OLD_LAYOUT_LEVELS.length;
export const DISTILLATION_FOLDERS = { distilled: true, no_distillation: false } as const;

export type OldLayoutMapping = { ok: true; runId: string; parts: RunIdParts } | { ok: false; reason: string };

/**
 * Maps the six folder names below `automotive/` to a run id. Anything that does not match the stage
 * table exactly (such as the older size-after-architecture ordering) is unmappable: never guessed.
 */
export function mapOldLayout(segments: readonly string[]): OldLayoutMapping {
  if (segments.length !== OLD_LAYOUT_DEPTH) {
    return { ok: false, reason: `expected ${OLD_LAYOUT_DEPTH} folder levels below ${OLD_LAYOUT_ROOT}/, found ${segments.length}` };
  }
  const [dataset, modelSize, learningType, modelArch, distillation, mode] = segments;
  const datasetProblem = segmentProblem(dataset);
  if (datasetProblem) return { ok: false, reason: `dataset folder ${datasetProblem}` };
  if (!Object.hasOwn(DISTILLATION_FOLDERS, distillation)) {
    return { ok: false, reason: `distillation folder '${distillation}' is neither 'distilled' nor 'no_distillation'` };
  }
  const stage = stageFromOldLayout(learningType, modelArch, mode);
  if (!stage) {
    return {
      ok: false,
      reason: `'${learningType}/${modelArch}/${mode}' matches no stage (learning_type/model_arch/mode); an older layout that puts the size after the architecture is not mapped`,
    };
  }
  if (!isValidSegment(modelSize)) {
    return { ok: false, reason: `'${dataset}/${modelSize}' is not a valid dataset and model size` };
  }
  const parts: RunIdParts = {
    dataset,
    modelSize,
    stage,
    kd: DISTILLATION_FOLDERS[distillation as keyof typeof DISTILLATION_FOLDERS],
  };
  return { ok: true, runId: formatRunId(parts), parts };
}

/**
 * The run id a checkpoint path points at, in either layout, e.g.
 * `experimentruns/hcrl_sa/teacher_curriculum/best_model.pt` -> `hcrl_sa/teacher_curriculum`.
 */
export function runIdFromPath(path: string): string | undefined {
  const segments = path.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  const old = segments.lastIndexOf(OLD_LAYOUT_ROOT);
  if (old >= 0) {
    const mapped = mapOldLayout(segments.slice(old + 1, old + 1 + OLD_LAYOUT_DEPTH));
    if (mapped.ok) return mapped.runId;
  }
  // The path may end at the run folder or at a file inside it: try both, accept only a known stage.
  for (const end of [segments.length, segments.length - 1]) {
    if (end < 2) continue;
    const candidate = `${segments[end - 2]}/${segments[end - 1]}`;
    const parts = parseRunId(candidate);
    if (parts && isStage(parts.stage)) return candidate;
  }
  return undefined;
}
