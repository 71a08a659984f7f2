import { sql, type SQL } from "drizzle-orm";
import { latestMetrics, metrics as metricsTable } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import { toStoredValue } from "../domain/metric-values";
import { isLaterPoint, type PointOrder } from "../domain/ranking";
import type { Db } from "../env";
import { invalidParameter } from "../errors";
import { paramAndTagStatements, validateKey, validateKeyValue, type KeyValue } from "./key-values";
import { insertSelect, jsonFields, runAtomically, type Statement } from "./sql";

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
    throw invalidParameter(
      `A batch logging request can contain at most ${LIMITS.maxBatchEntries} total entries (metrics, params, and tags). Got ${total} entries.`,
    );
  }
  for (const m of metrics) {
    validateKey("metric", m.key);
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

/** Params already logged with another value: MLflow refuses to change them. */
export async function findChangedParams(db: Db, runUuid: string, paramList: KeyValue[]) {
  if (paramList.length === 0) return [];
  const existing = await db.all<{ key: string; value: string }>(
    sql`select key, value from params where run_uuid = ${runUuid} and key in (select value from json_each(${JSON.stringify(paramList.map((p) => p.key))}))`,
  );
  const old = new Map(existing.map((row) => [row.key, row.value]));
  return paramList
    .filter((p) => old.has(p.key) && old.get(p.key) !== p.value)
    .map((p) => ({ key: p.key, old_value: old.get(p.key)!, new_value: p.value }));
}

function pythonListRepr(changes: Array<{ key: string; old_value: string; new_value: string }>): string {
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
 * lists a run's metrics in.
 */
export function metricStatements(runUuid: string, metrics: MetricPointInput[]): SQL[] {
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
  const fields = { runUuid, ...jsonFields(STORED_POINT) };
  return [
    insertSelect(metricsTable, fields, sql`from json_each(${JSON.stringify(points)}) j`, "ignore"),
    insertSelect(latestMetrics, fields, sql`from json_each(${JSON.stringify([...latest.values()])}) j where true
      on conflict (run_uuid, key) do update set
        step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
      where (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`),
  ];
}

/** Names the key-cap guard's failure in D1's error message. */
const KEY_CAP_MARKER = "kdgat: metric key cap";
/** SQLite's error for the guard's path (older SQLite words it "JSON path error near"), not just any error quoting the query. */
const KEY_CAP_FAILURE = new RegExp(`(?:bad JSON path: |JSON path error near )'${KEY_CAP_MARKER}'`);

function tooManyKeys(runUuid: string): never {
  throw invalidParameter(
    `A run can hold at most ${LIMITS.maxMetricKeysPerRun} distinct metric keys; this request would take run '${runUuid}' past that, so none of it was written.`,
  );
}

/**
 * A statement that fails, and with it the whole batch it leads, when these keys would take the run
 * past LIMITS.maxMetricKeysPerRun. It counts the run's keys only when the batch brings a key the run
 * lacks (CASE stops at the first false), so logging known keys reads one index entry per key. SQLite
 * has no RAISE outside triggers; an invalid JSON path is an error whose message quotes the path.
 */
function metricKeyCapGuard(runUuid: string, keys: string[]): SQL {
  return sql`with fresh (n) as (
      select count(*) from json_each(${JSON.stringify(keys)}) j
      where not exists (select 1 from latest_metrics m where m.run_uuid = ${runUuid} and m.key = j.value))
    select json_extract('{}', case
      when n > 0 and n + (select count(*) from latest_metrics where run_uuid = ${runUuid}) > ${LIMITS.maxMetricKeysPerRun}
      then ${KEY_CAP_MARKER} else '$' end) from fresh`;
}

/**
 * Runs writes that log these metric points to a run as one transaction, refused whole (and nothing
 * written) when the points would take the run past LIMITS.maxMetricKeysPerRun distinct keys. The
 * guard runs in the same transaction, so concurrent writes cannot pass it together.
 */
export async function runMetricWrites(db: Db, runUuid: string, metrics: MetricPointInput[], statements: Statement[]): Promise<D1Result[]> {
  const keys = [...new Set(metrics.map((m) => m.key))];
  if (keys.length > LIMITS.maxMetricKeysPerRun) tooManyKeys(runUuid);
  try {
    return await runAtomically(db, keys.length ? [metricKeyCapGuard(runUuid, keys), ...statements] : statements);
  } catch (error) {
    if (error instanceof Error && KEY_CAP_FAILURE.test(`${error.message} ${String(error.cause)}`)) tooManyKeys(runUuid);
    throw error;
  }
}

/**
 * Logs metrics, params and tags to an active run in one transaction: validated first, params
 * checked for changes, then all of it or nothing.
 */
export async function logBatch(db: Db, runUuid: string, input: LogBatchInput, extra: Statement[] = []): Promise<D1Result[]> {
  validateBatch(input);
  const paramList = input.params ?? [];
  const changed = await findChangedParams(db, runUuid, paramList);
  if (changed.length) {
    throw invalidParameter(
      `Changing param values is not allowed. Params were already logged='${pythonListRepr(changed)}' for run ID='${runUuid}'.`,
    );
  }
  const metrics = input.metrics ?? [];
  return runMetricWrites(db, runUuid, metrics, [
    ...paramAndTagStatements(runUuid, paramList, input.tags ?? []),
    ...metricStatements(runUuid, metrics),
    ...extra,
  ]);
}
