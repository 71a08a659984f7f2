import { drizzle } from "drizzle-orm/d1";
import { type Backoff, backoffDelay } from "../domain/retry";
import type { Db } from "../env";
import { temporarilyUnavailable } from "../errors";

/** What one request cost D1, reported in the Server-Timing header: round trips and the rows D1 bills. */
export interface D1Cost {
  calls: number;
  rowsRead: number;
  rowsWritten: number;
}

export const zeroCost = (): D1Cost => ({ calls: 0, rowsRead: 0, rowsWritten: 0 });

/**
 * A drizzle database over D1 (or one D1 session: the store only prepares statements and sends
 * batches, which a session does as the database does) whose every call is counted into `cost` and
 * retried on D1's transient errors. No schema is passed: the store uses no relational queries
 * (`db.query`), and drizzle would walk the whole schema for them on every request.
 */
export function openDb(d1: D1Database | D1DatabaseSession, cost: D1Cost = zeroCost()): Db {
  return drizzle(instrumentedD1(d1 as D1Database, cost));
}

/**
 * D1's errors whose documented action is "Retry the operation"
 * (https://developers.cloudflare.com/d1/observability/debug-d1/#error-list). D1 prefixes them with
 * "D1_ERROR: ".
 */
export const TRANSIENT_D1_ERRORS = [
  "D1 DB reset because its code was updated.",
  "Internal error while starting up D1 DB storage caused object to be reset.",
  "Network connection lost.",
  "Internal error in D1 DB storage caused object to be reset.",
  "Cannot resolve D1 DB due to transient issue on remote node.",
  "Can't read from request stream because client disconnected.",
];

/**
 * D1 is overloaded ("Requests queued for too long." / "Too many requests queued."): the documented
 * action is to send fewer requests, so these are not retried here but answered 503 at once.
 */
export const OVERLOADED_D1_ERROR = "D1 DB is overloaded.";

/** Attempts per D1 call, and the first backoff; each later one doubles, with jitter. */
export const D1_RETRY = { attempts: 4, baseDelayMs: 100 } as const;

/** What a request that D1 could not serve tells the client to wait before repeating it. */
export const D1_RETRY_AFTER_SECONDS = 2;

const D1_BACKOFF: Backoff = { firstMs: D1_RETRY.baseDelayMs, maxMs: Number.POSITIVE_INFINITY, retries: D1_RETRY.attempts - 1 };

/** The wait before attempt `attempt + 1`: the core's retry rule (doubling from the base, the upper half random). */
export const backoffMs = (attempt: number): number => backoffDelay(D1_BACKOFF, attempt);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one D1 call, repeating it while D1 reports a transient error (every write of the store is
 * idempotent, so a repeat of a call that did land changes nothing). A transient error that outlasts
 * the attempts, or an overload, becomes 503 TEMPORARILY_UNAVAILABLE with Retry-After; any other
 * error is thrown as it is, at once.
 */
export async function withD1Retry<T>(call: () => Promise<T>, wait: (ms: number) => Promise<void> = sleep): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const message = String((error as Error | undefined)?.message);
      const transient = TRANSIENT_D1_ERRORS.some((text) => message.includes(text));
      if (transient && attempt < D1_RETRY.attempts) {
        await wait(backoffMs(attempt));
        continue;
      }
      if (!transient && !message.includes(OVERLOADED_D1_ERROR)) throw error;
      console.warn(`D1 unavailable after ${attempt} attempt(s): ${message}`);
      throw temporarilyUnavailable("The database is temporarily unavailable. The request is safe to repeat: retry after the Retry-After delay.", D1_RETRY_AFTER_SECONDS);
    }
  }
}

/**
 * Wraps a D1 binding so that every round trip (run, all, first, raw, batch) goes through
 * withD1Retry, counts one call per attempt, and adds its meta.rows_read / rows_written to `cost`.
 * D1's raw() and first() drop the meta, so they are sent as all() and reshaped: raw() rows are the
 * values of all()'s objects in column order (a result with two columns of the same name would lose
 * one, as drizzle's own batch() does; the store's joins select distinct names). Statements stay
 * real D1 statements for batch(): the proxies are mapped back to their targets. The store's
 * transactions call this batch() with raw D1 statements (sql.ts runAtomically), not drizzle's
 * db.batch(), which cannot take `sql` statements with bound values:
 * https://github.com/drizzle-team/drizzle-orm/issues/2277.
 */
function instrumentedD1(d1: D1Database, cost: D1Cost): D1Database {
  const targets = new WeakMap<object, D1PreparedStatement>();
  const roundTrip = <R>(send: () => Promise<R>, metas: (result: R) => Array<D1Result | D1Response>) =>
    withD1Retry(async () => {
      cost.calls++;
      const result = await send();
      for (const { meta } of metas(result)) {
        cost.rowsRead += meta?.rows_read ?? 0;
        cost.rowsWritten += meta?.rows_written ?? 0;
      }
      return result;
    });

  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const all = () =>
      roundTrip(
        () => statement.all<Record<string, unknown>>(),
        (result) => [result],
      );
    const methods: Record<string, unknown> = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      run: () =>
        roundTrip(
          () => statement.run(),
          (result) => [result],
        ),
      all,
      async raw(options?: { columnNames?: boolean }) {
        // With columnNames an empty result still names its columns, which all() cannot tell: sent as is.
        if (options?.columnNames)
          return roundTrip(
            () => statement.raw({ columnNames: true }),
            () => [],
          );
        return (await all()).results.map((row) => Object.values(row));
      },
      async first(column?: string) {
        const [row] = (await all()).results;
        if (row === undefined || column === undefined) return row ?? null;
        if (row[column] === undefined) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
        return row[column];
      },
    };
    const proxy = new Proxy(statement, {
      get(target, property) {
        if (typeof property === "string" && Object.hasOwn(methods, property)) return methods[property];
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
        return (statements: D1PreparedStatement[]) =>
          roundTrip(
            () => target.batch(statements.map((s) => targets.get(s) ?? s)),
            (results) => results,
          );
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
