import { type SQL, sql } from "drizzle-orm";
import { latestMetrics, metrics as metricsTable } from "../db/schema";
import { LIMITS } from "../domain/limits";
import { toStoredValue } from "../domain/metric-values";
import { isLaterPoint, type PointOrder } from "../domain/ranking";
import type { Db } from "../env";
import { invalidParameter } from "../errors";
import { type GuardFailure, runGuarded, type WriteGuard } from "./guard";
import { type KeyValue, paramAndTagStatements, validateKey, validateKeyValue } from "./key-values";
import { getActiveRun } from "./runs";
import { insertSelect, jsonFields, type Statement } from "./sql";

export interface MetricPointInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface LogBatchInput {
  metrics?: MetricPointInput[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

/** MLflow's batch limits and key rules; throws INVALID_PARAMETER_VALUE before anything is written. */
export function validateBatch(input: LogBatchInput): void {
  const metrics = input.metrics ?? [];
  const paramList = input.params ?? [];
  const tagList = input.tags ?? [];
  if (metrics.length > LIMITS.maxBatchMetrics) {
    throw invalidParameter(
      `A batch logging request can contain at most ${LIMITS.maxBatchMetrics} metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`,
    );
  }
  if (paramList.length > LIMITS.maxBatchParams) {
    throw invalidParameter(
      `A batch logging request can contain at most ${LIMITS.maxBatchParams} params. Got ${paramList.length} params. Please split up params across multiple requests and try again.`,
    );
  }
  if (tagList.length > LIMITS.maxBatchTags) {
    throw invalidParameter(
      `A batch logging request can contain at most ${LIMITS.maxBatchTags} tags. Got ${tagList.length} tags. Please split up tags across multiple requests and try again.`,
    );
  }
  const total = metrics.length + paramList.length + tagList.length;
  if (total > LIMITS.maxBatchEntries) {
    throw invalidParameter(`A batch logging request can contain at most ${LIMITS.maxBatchEntries} total entries (metrics, params, and tags). Got ${total} entries.`);
  }
  // A batch repeats a few keys many times (4 keys x 250 steps): each distinct key is checked once.
  const checkedKeys = new Set<string>();
  for (const m of metrics) {
    if (!checkedKeys.has(m.key)) {
      validateKey("metric", m.key);
      checkedKeys.add(m.key);
    }
    if (!Number.isSafeInteger(m.timestamp)) throw invalidParameter(`Invalid timestamp ${m.timestamp} for metric '${m.key}'.`);
    if (!Number.isSafeInteger(m.step)) throw invalidParameter(`Invalid step ${m.step} for metric '${m.key}'.`);
  }
  for (const p of paramList) validateKeyValue("param", p, LIMITS.maxParamValueLength);
  for (const t of tagList) validateKeyValue("tag", t, LIMITS.maxTagValueLength);
  const seen = new Map<string, string>();
  for (const p of paramList) {
    const previous = seen.get(p.key);
    if (previous !== undefined && previous !== p.value) {
      throw invalidParameter(`Duplicate parameter keys have been submitted with different values: '${p.key}'.`);
    }
    seen.set(p.key, p.value);
  }
}

export interface ParamChange {
  key: string;
  old_value: string;
  new_value: string;
}

/** Params already logged with another value: MLflow refuses to change them. */
export async function findChangedParams(db: Db, runUuid: string, paramList: KeyValue[]): Promise<ParamChange[]> {
  if (paramList.length === 0) return [];
  const existing = await db.all<{ key: string; value: string }>(
    sql`select key, value from params where run_uuid = ${runUuid} and key in (select value from json_each(${JSON.stringify(paramList.map((p) => p.key))}))`,
  );
  const old = new Map(existing.map((row) => [row.key, row.value]));
  return paramList.filter((p) => old.has(p.key) && old.get(p.key) !== p.value).map((p) => ({ key: p.key, old_value: old.get(p.key)!, new_value: p.value }));
}

function pythonListRepr(changes: ParamChange[]): string {
  return `[${changes.map((c) => `{'key': '${c.key}', 'old_value': '${c.old_value}', 'new_value': '${c.new_value}'}`).join(", ")}]`;
}

type StoredPoint = [key: string, step: number, timestamp: number, value: number, isNan: 0 | 1];
/** The columns of a StoredPoint, in its order. */
const STORED_POINT = ["key", "step", "timestamp", "value", "isNan"] as const;

const pointOrder = (p: StoredPoint): PointOrder => ({ step: p[1], timestamp: p[2], value: p[3] });

/**
 * Metric statements: every point in one INSERT OR IGNORE over a JSON array (the primary key makes a
 * repeated point a no-op), then one upsert of each key's latest point in this batch (picked here,
 * which is far cheaper in D1 rows read than a window query), moving forward only in (step,
 * timestamp, value) order. New keys are inserted in the order they first appear, the order MLflow
 * lists a run's metrics in. With `timestampBase` the points' timestamps are offsets from it (which
 * changes no order among them).
 */
export function metricStatements(runUuid: string | SQL, metrics: MetricPointInput[], timestampBase?: SQL): SQL[] {
  if (metrics.length === 0) return [];
  const points: StoredPoint[] = metrics.map((m) => {
    const stored = toStoredValue(m.value);
    return [m.key, m.step, m.timestamp, stored.value, stored.isNan ? 1 : 0];
  });
  const latest = new Map<string, StoredPoint>();
  for (const point of points) {
    const current = latest.get(point[0]);
    if (!current || isLaterPoint(pointOrder(point), pointOrder(current))) latest.set(point[0], point);
  }
  const stored = jsonFields(STORED_POINT);
  const fields = { runUuid, ...stored, ...(timestampBase && { timestamp: sql`(${stored.timestamp}) + ${timestampBase}` }) };
  return [
    insertSelect(metricsTable, fields, sql`from json_each(${JSON.stringify(points)}) j`, "ignore"),
    insertSelect(
      latestMetrics,
      fields,
      sql`from json_each(${JSON.stringify([...latest.values()])}) j where true
      on conflict (run_uuid, key) do update set
        step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
      where (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`,
    ),
  ];
}

export function tooManyKeys(runUuid: string): never {
  throw invalidParameter(`A run can hold at most ${LIMITS.maxMetricKeysPerRun} distinct metric keys; this request would take run '${runUuid}' past that, so none of it was written.`);
}

/** The error for params already logged with other values: log-batch's wording, or a route's own. */
export type ChangedParamsError = (runUuid: string, changes: ParamChange[]) => Error;

const batchParamsChanged: ChangedParamsError = (runUuid, changes) =>
  invalidParameter(`Changing param values is not allowed. Params were already logged='${pythonListRepr(changes)}' for run ID='${runUuid}'.`);

/** Explains a refused write to the run with this uuid, in the order MLflow checks: the run, then params, then keys. */
async function explainRunWrite(db: Db, runUuid: string, paramList: KeyValue[], failure: GuardFailure, changedError: ChangedParamsError) {
  if (failure === "keys") tooManyKeys(runUuid);
  await getActiveRun(db, runUuid);
  const changed = await findChangedParams(db, runUuid, paramList);
  if (changed.length) throw changedError(runUuid, changed);
}

/** What a log-batch writes, built without D1: its guard and its statements (see logBatch). */
export function logBatchWrite(runUuid: string, input: LogBatchInput, extra: Statement[] = []): { guard: WriteGuard; statements: Statement[] } {
  const paramList = input.params ?? [];
  const metrics = input.metrics ?? [];
  return {
    guard: { runUuid, params: paramList, keys: [...new Set(metrics.map((m) => m.key))] },
    statements: [...paramAndTagStatements(runUuid, paramList, input.tags ?? []), ...metricStatements(runUuid, metrics), ...extra],
  };
}

/**
 * Logs metrics, params and tags to an active run in one transaction and, when all is well, one D1
 * round trip: validated first, then the run, params and key checks in the write's own transaction
 * (writeGuard). A request that is refused costs more round trips, to give the error MLflow gives:
 * an invalid batch to a missing or deleted run is refused for the run.
 */
export async function logBatch(db: Db, runUuid: string, input: LogBatchInput, extra: Statement[] = [], changedError: ChangedParamsError = batchParamsChanged): Promise<D1Result[]> {
  const paramList = input.params ?? [];
  try {
    validateBatch(input);
  } catch (error) {
    await getActiveRun(db, runUuid);
    throw error;
  }
  const { guard, statements } = logBatchWrite(runUuid, input, extra);
  return runGuarded(db, guard, statements, (failure) => explainRunWrite(db, runUuid, paramList, failure, changedError));
}
