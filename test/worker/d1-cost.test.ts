/**
 * The store's D1 wrapper (functions/store/db.ts): Server-Timing counts every D1 round trip and the
 * rows of every statement, and D1's transient errors are retried, then answered 503.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../functions/errors";
import { backoffMs, D1_RETRY, D1_RETRY_AFTER_SECONDS, OVERLOADED_D1_ERROR, TRANSIENT_D1_ERRORS, withD1Retry } from "../../functions/store/db";
import { ADMIN_TOKEN, call } from "./support/call";
import { dumpDatabase } from "./support/hostile";

interface Sent {
  sql: string;
  params: unknown[];
}

/**
 * A real D1 binding that records every round trip (the statements it carried) and, while
 * `failures.left` > 0, fails each round trip with D1's error for `failures.message` instead.
 */
function observedD1(trips: Sent[][], failures = { left: 0, message: "" }): D1Database {
  const sent = new WeakMap<object, Sent & { target: D1PreparedStatement }>();
  const trip = <T>(statements: Sent[], call: () => Promise<T>): Promise<T> => {
    trips.push(statements);
    if (failures.left > 0) {
      failures.left--;
      return Promise.reject(new Error(`D1_ERROR: ${failures.message}`, { cause: new Error(failures.message) }));
    }
    return call();
  };
  const wrap = (target: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const proxy = new Proxy(target, {
      get(statement, property) {
        if (property === "bind") return (...values: unknown[]) => wrap(statement.bind(...values), sql, values);
        if (property === "run" || property === "all" || property === "raw" || property === "first") {
          return (...args: unknown[]) => trip([{ sql, params }], () => (statement[property] as (...a: unknown[]) => Promise<unknown>)(...args));
        }
        const value = Reflect.get(statement, property, statement);
        return typeof value === "function" ? value.bind(statement) : value;
      },
    });
    sent.set(proxy, { sql, params, target });
    return proxy;
  };
  // The Worker reads and writes through a D1 session (withSession), observed the same way.
  const observed = <T extends D1Database | D1DatabaseSession>(database: T): T =>
    new Proxy(database, {
      get(d1, property) {
        if (property === "withSession") return (start: string) => observed((d1 as D1Database).withSession(start));
        if (property === "prepare") return (sql: string) => wrap(d1.prepare(sql), sql, []);
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) => {
            const infos = statements.map((s) => sent.get(s)!);
            return trip(infos, () => d1.batch(infos.map((i) => i.target)));
          };
        }
        const value = Reflect.get(d1, property, d1);
        return typeof value === "function" ? value.bind(d1) : value;
      },
    });
  return observed(env.DB);
}

interface Observed {
  status: number;
  body: string;
  headers: Headers;
  trips: Sent[][];
  cost: { rowsRead: number; rowsWritten: number; calls: number };
}

async function observe(method: string, path: string, body?: object, failures?: { left: number; message: string }): Promise<Observed> {
  const trips: Sent[][] = [];
  const response = await call(method, path, { token: ADMIN_TOKEN, body, env: { DB: observedD1(trips, failures) } });
  const timing = response.headers.get("Server-Timing") ?? "";
  const [, rowsRead, rowsWritten, calls] = timing.match(/^d1;desc="rows_read=(\d+) rows_written=(\d+) calls=(\d+)"$/) ?? [];
  expect(calls, `Server-Timing: ${timing}`).toBeDefined();
  return {
    status: response.status,
    body: response.text,
    headers: response.headers,
    trips,
    cost: { rowsRead: Number(rowsRead), rowsWritten: Number(rowsWritten), calls: Number(calls) },
  };
}

/** What D1 itself reports reading for these statements, each run again through all(). */
async function rowsReadBy(trips: Sent[][]): Promise<number> {
  let rows = 0;
  for (const { sql, params } of trips.flat())
    rows += (
      await env.DB.prepare(sql)
        .bind(...params)
        .all()
    ).meta.rows_read;
  return rows;
}

const MLFLOW = "/api/2.0/mlflow";
let runId = "";

beforeAll(async () => {
  // A pipeline run through /api/v1 (its own experiment), and an MLflow run in the default experiment.
  const v1 = "/api/v1/runs/hcrl_sa/teacher_evaluation";
  expect((await observe("PUT", `${v1}?start_time=1000`, { lr: 0.01 })).status).toBe(201);
  expect((await observe("POST", `${v1}/metrics`, [{ step: 0, metrics: { gat_f1: 0.9, val_loss: 0.3 } }])).status).toBe(200);
  expect((await observe("POST", `${v1}/end`, { status: "FINISHED", end_time: 1500 })).status).toBe(200);
  const created = await observe("POST", `${MLFLOW}/runs/create`, { experiment_id: "0", run_name: "hcrl_sa/teacher_autoencoder" });
  runId = JSON.parse(created.body).run.info.run_id;
  const batch = await observe("POST", `${MLFLOW}/runs/log-batch`, {
    run_id: runId,
    params: [
      { key: "lr", value: "0.01" },
      { key: "epochs", value: "10" },
      { key: "seed", value: "1" },
    ],
    tags: [
      { key: "team", value: "kd" },
      { key: "note", value: "x" },
    ],
    metrics: ["val_loss", "train_loss", "gat_f1", "val_acc"].map((key, i) => ({ key, value: i / 10, timestamp: 1, step: 0 })),
  });
  expect(batch.status, batch.body).toBe(200);
});

describe("Server-Timing", () => {
  const reads = () =>
    [
      ["GET", `${MLFLOW}/experiments/get?experiment_id=0`],
      ["GET", `${MLFLOW}/experiments/get-by-name?experiment_name=Default`],
      ["GET", `${MLFLOW}/runs/get?run_id=${runId}`],
      ["GET", `${MLFLOW}/metrics/get-history?run_id=${runId}&metric_key=val_loss`],
      ["POST", `${MLFLOW}/runs/search`, { experiment_ids: ["0"], filter: "params.lr = '0.01'" }],
      ["GET", "/api/v1/runs"],
      ["GET", "/api/v1/runs/hcrl_sa/teacher_evaluation"],
      ["GET", "/api/v1/leaderboard?metric=gat_f1&top=10"],
    ] as const;

  it("counts every D1 round trip and the rows every statement read, lookups included", async () => {
    for (const [method, path, body] of reads()) {
      const answer = await observe(method, path, body);
      const where = `${method} ${path}: ${answer.body.slice(0, 200)}`;
      expect(answer.status, where).toBe(200);
      expect(answer.cost.calls, where).toBe(answer.trips.length);
      expect(answer.cost.calls, where).toBeGreaterThan(0);
      expect(answer.cost.rowsRead, where).toBe(await rowsReadBy(answer.trips));
      expect(answer.cost.rowsRead, where).toBeGreaterThan(0);
      expect(answer.cost.rowsWritten, where).toBe(0);
    }
  });

  it("counts runs/get's rows: the run, its 3 params, 2 tags and 4 latest metrics at least", async () => {
    const answer = await observe("GET", `${MLFLOW}/runs/get?run_id=${runId}`);
    expect(answer.cost.rowsRead).toBeGreaterThanOrEqual(1 + 3 + 2 + 4);
  });

  it("counts the round trips of a write and the rows it wrote", async () => {
    const answer = await observe("POST", `${MLFLOW}/runs/log-metric`, { run_id: runId, key: "val_loss", value: 0.5, timestamp: 2, step: 1 });
    expect(answer.status, answer.body).toBe(200);
    expect(answer.cost.calls).toBe(answer.trips.length);
    expect(answer.cost.rowsWritten).toBeGreaterThan(0);
  });
});

describe("D1's transient errors", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("are retried: a request that meets one answers as if it had not", async () => {
    for (const message of TRANSIENT_D1_ERRORS) {
      const clean = await observe("GET", `${MLFLOW}/runs/get?run_id=${runId}`);
      const retried = await observe("GET", `${MLFLOW}/runs/get?run_id=${runId}`, undefined, { left: 1, message });
      expect([retried.status, retried.body], message).toEqual([200, clean.body]);
      expect(retried.cost.calls, message).toBe(clean.cost.calls + 1);
    }
  });

  it("that persist are 503 TEMPORARILY_UNAVAILABLE with Retry-After after the last attempt, reads and writes alike, nothing written", async () => {
    const before = await dumpDatabase();
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const requests = [
      ["GET", `${MLFLOW}/experiments/get?experiment_id=0`],
      ["POST", `${MLFLOW}/runs/search`, { experiment_ids: ["0"] }],
      ["POST", `${MLFLOW}/runs/log-batch`, { run_id: runId, metrics: [{ key: "val_loss", value: 9, timestamp: 9, step: 9 }] }],
      ["PUT", "/api/v1/runs/hcrl_sa/student_fusion?start_time=1", {}],
    ] as const;
    for (const [method, path, body] of requests) {
      const answer = await observe(method, path, body, { left: Infinity, message: "D1 DB reset because its code was updated." });
      const where = `${method} ${path}: ${answer.body.slice(0, 200)}`;
      expect(answer.status, where).toBe(503);
      expect(answer.headers.get("Retry-After"), where).toBe(String(D1_RETRY_AFTER_SECONDS));
      expect(JSON.parse(answer.body), where).toEqual({ error_code: "TEMPORARILY_UNAVAILABLE", message: expect.any(String) });
      expect(answer.cost.calls, where).toBe(D1_RETRY.attempts);
    }
    expect(warned.mock.calls.map(([line]) => line)).toEqual(requests.map(() => `D1 unavailable after ${D1_RETRY.attempts} attempt(s): D1_ERROR: D1 DB reset because its code was updated.`));
    expect(await dumpDatabase()).toBe(before);
  });

  it("an overloaded D1 is 503 at once; any other D1 error is not retried", async () => {
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const overloaded = await observe("GET", `${MLFLOW}/experiments/get?experiment_id=0`, undefined, {
      left: Infinity,
      message: "D1 DB is overloaded. Too many requests queued.",
    });
    expect([overloaded.status, overloaded.headers.get("Retry-After"), overloaded.cost.calls]).toEqual([503, String(D1_RETRY_AFTER_SECONDS), 1]);
    expect(warned.mock.calls).toEqual([["D1 unavailable after 1 attempt(s): D1_ERROR: D1 DB is overloaded. Too many requests queued."]]);
    const broken = await observe("GET", `${MLFLOW}/experiments/get?experiment_id=0`, undefined, { left: Infinity, message: "no such table: experiments: SQLITE_ERROR" });
    expect([broken.status, broken.cost.calls]).toEqual([500, 1]);
    expect(logged).toHaveBeenCalledWith(
      "unhandled error on GET /api/2.0/mlflow/experiments/get:",
      expect.objectContaining({ cause: expect.objectContaining({ message: "D1_ERROR: no such table: experiments: SQLITE_ERROR" }) }),
    );
  });
});

describe("withD1Retry, the retry rule", () => {
  // What it logs on giving up is checked above, through the Worker.
  beforeEach(() => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const d1Error = (message: string) => new Error(`D1_ERROR: ${message}`, { cause: new Error(message) });

  /** An operation that fails `times` times with `error`, then answers "ok"; counts its calls and the waits between them. */
  function flaky(times: number, error: () => Error) {
    const record = { calls: 0, waits: [] as number[] };
    const run = () =>
      withD1Retry(
        async () => {
          record.calls++;
          if (record.calls <= times) throw error();
          return "ok";
        },
        async (ms) => void record.waits.push(ms),
      );
    return { record, run };
  }

  it("retries each of D1's documented transient errors until the last attempt, backing off exponentially", async () => {
    for (const message of TRANSIENT_D1_ERRORS) {
      const { record, run } = flaky(D1_RETRY.attempts - 1, () => d1Error(message));
      expect(await run(), message).toBe("ok");
      expect(record.calls, message).toBe(D1_RETRY.attempts);
      expect(record.waits.length, message).toBe(D1_RETRY.attempts - 1);
      record.waits.forEach((ms, i) => {
        const ceiling = D1_RETRY.baseDelayMs * 2 ** i;
        expect(ms, `${message}, wait ${i}`).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms, `${message}, wait ${i}`).toBeLessThanOrEqual(ceiling);
      });
    }
  });

  it("gives up after the last attempt with TEMPORARILY_UNAVAILABLE and Retry-After", async () => {
    const { record, run } = flaky(Infinity, () => d1Error("Network connection lost."));
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([(error as ApiError).code, (error as ApiError).headers]).toEqual(["TEMPORARILY_UNAVAILABLE", { "Retry-After": String(D1_RETRY_AFTER_SECONDS) }]);
    expect(record.calls).toBe(D1_RETRY.attempts);
  });

  it("does not retry an overload (503 at once) nor any other error (thrown as it is)", async () => {
    const overloaded = flaky(Infinity, () => d1Error(`${OVERLOADED_D1_ERROR} Requests queued for too long.`));
    expect(await overloaded.run().catch((e: ApiError) => e.code)).toBe("TEMPORARILY_UNAVAILABLE");
    expect([overloaded.record.calls, overloaded.record.waits]).toEqual([1, []]);
    for (const error of [
      d1Error("UNIQUE constraint failed: experiments.name: SQLITE_CONSTRAINT"),
      new Error("D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'"),
      d1Error("D1 DB exceeded its CPU time limit and was reset."),
      new TypeError("x is not a function"),
    ]) {
      const { record, run } = flaky(Infinity, () => error);
      expect(await run().catch((e: unknown) => e)).toBe(error);
      expect([record.calls, record.waits], error.message).toEqual([1, []]);
    }
  });

  it("spreads the waits at random within each step", () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffMs(1)));
    expect(waits.size).toBeGreaterThan(40);
  });
});
