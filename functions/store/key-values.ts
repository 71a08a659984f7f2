/** Params and tags: their key and value rules and their writes. */
import { type SQL, sql } from "drizzle-orm";
import { params, tags } from "../db/schema";
import { capitalize, keyProblem } from "../domain/keys";
import { invalidParameter } from "../errors";
import { insertSelect, jsonFields } from "./sql";

export interface KeyValue {
  key: string;
  value: string;
}

/** Refuses a bad key (the core's rule, keyProblem) with 400 INVALID_PARAMETER_VALUE. */
export function validateKey(kind: string, key: string): void {
  const problem = keyProblem(kind, key);
  if (problem !== undefined) throw invalidParameter(problem);
}

export function validateKeyValue(kind: string, item: KeyValue, maxValue: number): void {
  validateKey(kind, item.key);
  if (item.value.length > maxValue) {
    throw invalidParameter(`${capitalize(kind)} value '${item.value.slice(0, 100)}...' had length ${item.value.length}, which exceeded length limit of ${maxValue}`);
  }
}

/**
 * MLflow 2.17.2's server cuts an over-long param or tag value logged to a run (log-parameter,
 * set-tag, log-batch) to the limit instead of refusing it (MLFLOW_TRUNCATE_LONG_VALUES, on by
 * default); never inside a surrogate pair.
 */
export function cutValue<T extends KeyValue>(item: T, maxValue: number): T {
  if (item.value.length <= maxValue) return item;
  const end = /[\uD800-\uDBFF]/.test(item.value[maxValue - 1]) ? maxValue - 1 : maxValue;
  return { ...item, value: item.value.slice(0, end) };
}

/** Keeps the last value given for each key. */
export function dedupeLastWins(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((item) => [item.key, item])).values()];
}

/** Statements that insert params (new keys only) and upsert tags, each as one statement over a JSON array. */
export function paramAndTagStatements(runUuid: string, paramList: KeyValue[], tagList: KeyValue[]): SQL[] {
  const statements: SQL[] = [];
  if (paramList.length) {
    statements.push(
      insertSelect(
        params,
        { runUuid, ...jsonFields(KEY_VALUE) },
        sql`from json_each(${pairsJson(paramList)}) j where true
        on conflict (run_uuid, key) do nothing`,
      ),
    );
  }
  const lastTags = dedupeLastWins(tagList);
  if (lastTags.length) {
    statements.push(
      insertSelect(
        tags,
        { runUuid, ...jsonFields(KEY_VALUE) },
        sql`from json_each(${pairsJson(lastTags)}) j where true
        on conflict (run_uuid, key) do update set value = excluded.value`,
      ),
    );
  }
  return statements;
}

/** Params and tags travel as a JSON array of [key, value] pairs. */
export const KEY_VALUE = ["key", "value"] as const;

export function pairsJson(items: KeyValue[]): string {
  return JSON.stringify(items.map((item) => [item.key, item.value]));
}
