import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import { isValidSegment, RUN_UUID } from "../domain/run-id";
import { PIPELINE_EXPERIMENT } from "../domain/stages";
import type { Db } from "../env";
import { invalidParameter, notFound } from "../errors";
import { findExperimentId } from "../store/pipeline-runs";

/** `?experiment=`: the experiment's name; the pipeline's own when absent. */
export const experimentName = z._default(z.string().check(z.minLength(1), z.maxLength(LIMITS.maxRunNameLength)), PIPELINE_EXPERIMENT);

/** Integer milliseconds (or counts) given in a query string. */
export const queryInt = z.pipe(z.string().check(z.regex(/^\d{1,15}$/, "expected a non-negative integer")), z.transform(Number));

/** The MLflow run id (uuid) of one attempt, which PUT answers as `run_id`. */
export const attemptRunId = z.string().check(z.regex(RUN_UUID, "expected the run_id that PUT answered (32 lowercase hex characters)"));

/** The header that, like `?run_id=`, names the attempt a write is for. */
export const RUN_ID_HEADER = "X-Run-Id";

/** The attempt a write names by `?run_id=` (already validated) or the X-Run-Id header, if it names one. */
export function namedAttempt(fromQuery: string | undefined, fromHeader: string | undefined): string | undefined {
  if (fromHeader === undefined) return fromQuery;
  if (!attemptRunId.safeParse(fromHeader).success) {
    throw invalidParameter(`Invalid ${RUN_ID_HEADER} '${excerpt(fromHeader)}': expected the run_id PUT answered (32 lowercase hex).`);
  }
  if (fromQuery !== undefined && fromQuery !== fromHeader) throw invalidParameter(`?run_id=${fromQuery} and ${RUN_ID_HEADER}: ${fromHeader} name different attempts.`);
  return fromHeader;
}

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
