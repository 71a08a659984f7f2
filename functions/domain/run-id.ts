import { isStage, STAGES, type Stage } from "./stages.js";

/**
 * A deterministic run id: `{dataset}/{model_size}_{stage}[_kd]`, e.g. `hcrl_sa/student_curriculum_kd`.
 * The same string is the run folder under `experimentruns/` and the MLflow run name.
 */
export interface RunIdParts {
  dataset: string;
  modelSize: string;
  stage: string;
  kd: boolean;
}

/** One path segment of a run id: no separators, no dot-only names (it starts alphanumeric), nothing a shell or URL mangles. */
export const RUN_ID_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const KD_SUFFIX = "_kd";

/** An MLflow run id (the uuid of one attempt): 32 lowercase hex characters, as MLflow's uuid4().hex. */
export const RUN_UUID = /^[0-9a-f]{32}$/;

export function isValidSegment(segment: string): boolean {
  return RUN_ID_SEGMENT.test(segment);
}

/** RUN_ID_SEGMENT in words, for messages. */
export const RUN_ID_SEGMENT_RULE = "letters, digits, '.', '_' and '-' only, starting with a letter or digit, at most 128 characters";

/**
 * Why a folder name cannot be a run id segment, with a suggested name, or undefined when it can.
 * Names are refused rather than mapped: the pipeline logs the dataset under the name it was given,
 * so a silently mapped name would make a backfilled run and a live one two different runs.
 */
export function segmentProblem(segment: string): string | undefined {
  if (isValidSegment(segment)) return undefined;
  const suggestion = segment
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, 128);
  const hint = isValidSegment(suggestion) ? `; rename it, e.g. to '${suggestion}'` : "";
  return `'${segment}' is not a valid run id segment (${RUN_ID_SEGMENT_RULE}: a run id is part of every URL)${hint}`;
}

export function formatRunId(parts: RunIdParts): string {
  return `${parts.dataset}/${parts.modelSize}_${parts.stage}${parts.kd ? KD_SUFFIX : ""}`;
}

/** Parses a well-formed run id; undefined when it does not have the `{dataset}/{size}_{stage}[_kd]` shape. */
export function parseRunId(runId: string): RunIdParts | undefined {
  const slash = runId.indexOf("/");
  if (slash < 0) return undefined;
  const dataset = runId.slice(0, slash);
  const name = runId.slice(slash + 1);
  if (!isValidSegment(dataset) || !isValidSegment(name)) return undefined;
  // A valid name starts alphanumeric, so neither the base nor the size can be empty.
  const kd = name.endsWith(KD_SUFFIX);
  const base = kd ? name.slice(0, -KD_SUFFIX.length) : name;
  const underscore = base.lastIndexOf("_");
  if (underscore === -1 || underscore === base.length - 1) return undefined;
  return { dataset, modelSize: base.slice(0, underscore), stage: base.slice(underscore + 1), kd };
}

/** `teacher`, `student`, `student_kd`: the group a run belongs to when teachers and students are compared. */
export function groupOf(parts: Pick<RunIdParts, "modelSize" | "kd">): string {
  return parts.kd ? `${parts.modelSize}${KD_SUFFIX}` : parts.modelSize;
}

/** Splits a group label such as `student_kd` back into size and KD flag. */
export function parseGroup(group: string): Pick<RunIdParts, "modelSize" | "kd"> {
  return group.endsWith(KD_SUFFIX) && group.length > KD_SUFFIX.length ? { modelSize: group.slice(0, -KD_SUFFIX.length), kd: true } : { modelSize: group, kd: false };
}

export function modelArchOf(stage: string): string | undefined {
  return isStage(stage) ? STAGES[stage as Stage].modelArch : undefined;
}
