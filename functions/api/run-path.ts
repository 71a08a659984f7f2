import { z } from "zod";
import { excerpt } from "../domain/excerpt";
import { isValidSegment } from "../domain/run-id";
import { invalidParameter, notFound } from "../middleware/errors";
import { LIMITS } from "../middleware/limits";
import type { Db } from "../env";
import { PIPELINE_EXPERIMENT } from "../domain/stages";
import { findExperimentId } from "../store/pipeline-runs";

/** `?experiment=`: the experiment's name; the pipeline's own when absent. */
export const experimentName = z.string().min(1).max(LIMITS.maxRunNameLength).default(PIPELINE_EXPERIMENT);

/** Integer milliseconds (or counts) given in a query string. */
export const queryInt = z
  .string()
  .regex(/^\d{1,15}$/, "expected a non-negative integer")
  .transform(Number);

/** The run id `{dataset}/{name}` of a route's path; both segments must be safe (see isValidSegment). */
export function pathRunId(params: { dataset: string; name: string }): string {
  for (const segment of [params.dataset, params.name]) {
    if (!isValidSegment(segment)) {
      throw invalidParameter(`Invalid run id segment '${excerpt(segment)}': use letters, digits, '.', '_' and '-' (at most 128, not starting with '.').`);
    }
  }
  return `${params.dataset}/${params.name}`;
}

/** The id of an existing experiment; RESOURCE_DOES_NOT_EXIST otherwise. */
export async function requireExperimentId(db: Db, name: string): Promise<number> {
  const id = await findExperimentId(db, name);
  if (id === undefined) throw notFound(`No experiment named '${excerpt(name)}'.`);
  return id;
}
