/**
 * The fast-check run-count knob: FC_NUM_RUNS=N runs every property N times (each test's own count
 * otherwise: fast-check's default of 100, or the numRuns a test names). Applied by the setup files of
 * the node projects (test/support/fast-check-setup.ts) and of the workerd project
 * (test/worker/apply-migrations.ts, which gets the variable as a binding from vitest.config.ts).
 */
import fc from "fast-check";

export function applyRunCount(value: string | undefined): void {
  if (!value) return;
  const numRuns = Number(value);
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) throw new Error(`FC_NUM_RUNS must be a positive integer, not ${JSON.stringify(value)}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), numRuns });
}

/** The run count of a property: FC_NUM_RUNS when set, else the test's own. */
export const runsOr = (own: number): number => fc.readConfigureGlobal().numRuns ?? own;
