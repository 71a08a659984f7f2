/**
 * Guarded writes: a write to a run checks the run (and what it would change) inside its own
 * transaction, so that the happy path is one D1 round trip and a refused write leaves nothing.
 */
import { is, SQL, sql } from "drizzle-orm";
import { LIMITS } from "../domain/limits";
import type { Db } from "../env";
import { type KeyValue, pairsJson } from "./key-values";
import { runAtomically, type Statement } from "./sql";

/** Why a guarded write was refused: what the guard statement (writeGuard) found, named in D1's error message. */
export type GuardFailure = "run" | "params" | "keys";
const GUARD_MARKERS: Record<GuardFailure, string> = { run: "kdgat: run", params: "kdgat: params", keys: "kdgat: metric key cap" };
/** SQLite's error for the guard's path (older SQLite words it "JSON path error near"), not just any error quoting the query. */
const GUARD_FAILURE = /(?:bad JSON path: |JSON path error near )'kdgat: (run|params|metric key cap)'/;

/** What a write to a run checks in its own transaction before anything of it lands. */
export interface WriteGuard {
  /** The run written to: its uuid, or a scalar subquery that selects it. */
  runUuid: string | SQL;
  /** Params the write logs: none may already hold another value. */
  params?: KeyValue[];
  /** Metric keys the write logs: the run may not pass LIMITS.maxMetricKeysPerRun distinct keys. */
  keys?: string[];
}

/**
 * A statement that fails, and with it the whole batch it leads, when the run is missing or not
 * active, when a param would change, or when these keys would take the run past
 * LIMITS.maxMetricKeysPerRun (counted only when the batch brings a key the run lacks: CASE stops at
 * the first true branch, so logging known keys reads one index entry per key). SQLite has no RAISE
 * outside triggers; an invalid JSON path is an error whose message quotes the path, which names the
 * check that failed.
 */
export function writeGuard({ runUuid, params = [], keys = [] }: WriteGuard): SQL {
  const run = is(runUuid, SQL) ? sql`(${runUuid})` : sql`${runUuid}`;
  const checks = [sql`when not exists (select 1 from runs where run_uuid = ${run} and lifecycle_stage = 'active') then ${GUARD_MARKERS.run}`];
  if (params.length) {
    checks.push(sql`when exists (select 1 from json_each(${pairsJson(params)}) j join params p on p.run_uuid = ${run} and p.key = j.value ->> 0
      where p.value <> j.value ->> 1) then ${GUARD_MARKERS.params}`);
  }
  if (keys.length) {
    checks.push(sql`when n > 0 and n + (select count(*) from latest_metrics where run_uuid = ${run}) > ${LIMITS.maxMetricKeysPerRun} then ${GUARD_MARKERS.keys}`);
  }
  return sql`with fresh (n) as (
      select count(*) from json_each(${JSON.stringify(keys)}) j
      where not exists (select 1 from latest_metrics m where m.run_uuid = ${run} and m.key = j.value))
    select json_extract('{}', case ${sql.join(checks, sql` `)} else '$' end) from fresh`;
}

/**
 * Runs a write to a run as one D1 round trip: the guard, then the statements, in one transaction,
 * so concurrent writes cannot pass the checks together and a refused write leaves nothing. Only when
 * the guard refuses does `explain` run (more queries, to pick the error): it throws the error for
 * that failure, or returns when it finds nothing wrong any more (a concurrent change), and the
 * write is tried once more.
 */
export async function runGuarded(db: Db, guard: WriteGuard, statements: Statement[], explain: (failure: GuardFailure) => Promise<void>): Promise<D1Result[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runAtomically(db, [writeGuard(guard), ...statements]);
    } catch (error) {
      const marker = error instanceof Error ? GUARD_FAILURE.exec(`${error.message} ${String(error.cause)}`)?.[1] : undefined;
      const failure = (Object.keys(GUARD_MARKERS) as GuardFailure[]).find((f) => GUARD_MARKERS[f] === `kdgat: ${marker}`);
      if (!failure || attempt > 1) throw error;
      await explain(failure);
    }
  }
}
