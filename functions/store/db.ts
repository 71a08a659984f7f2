import { drizzle } from "drizzle-orm/d1";
import * as schema from "../db/schema";
import type { Db } from "../env";

/** D1's row counters for one request: what D1 bills, reported in the Server-Timing header. */
export interface RowCounter {
  rowsRead: number;
  rowsWritten: number;
}

export function openDb(d1: D1Database, counter?: RowCounter): Db {
  return drizzle(counter ? countingD1(d1, counter) : d1, { schema });
}

/**
 * Wraps a D1 binding so that every statement's meta.rows_read / rows_written is added to the counter.
 * Statements stay real D1 statements for batch(): the proxies are mapped back to their targets.
 */
function countingD1(d1: D1Database, counter: RowCounter): D1Database {
  const targets = new WeakMap<object, D1PreparedStatement>();
  const add = (result: D1Result | D1Response) => {
    counter.rowsRead += result.meta?.rows_read ?? 0;
    counter.rowsWritten += result.meta?.rows_written ?? 0;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (property === "run" || property === "all") {
          return async () => {
            const result = await target[property]();
            add(result);
            return result;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    targets.set(proxy, statement);
    return proxy;
  };
  return new Proxy(d1, {
    get(target, property) {
      if (property === "prepare") return (query: string) => wrap(target.prepare(query));
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((s) => targets.get(s) ?? s));
          results.forEach(add);
          return results;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
