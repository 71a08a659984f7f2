/**
 * D1 round trips per write (Server-Timing `calls=`), with a minted API token as a SLURM job uses
 * it: one for every log write on the happy path, at most two for MLflow's runs/create and
 * runs/update and for /api/v1 starts and ends; and the token
 * cache's bound on how long a token revoked elsewhere still works.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { tokenCache } from "../../functions/store/tokens";
import { ADMIN_TOKEN, type Answer, call, d1Cost } from "./support/call";

const MLFLOW = "/api/2.0/mlflow";
const V1_RUN = "/api/v1/runs/set_01/teacher_autoencoder";

/** D1 round trips a response reports (NaN, failing every comparison, when it reports none). */
const calls = (response: Answer) => d1Cost(response).calls;

async function mint(name: string): Promise<string> {
  const minted = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name } });
  expect(minted.status).toBe(201);
  return minted.json.token;
}

let token = "";
let runId = "";

beforeAll(async () => {
  token = await mint("round-trips");
  const created = await call("POST", `${MLFLOW}/runs/create`, { token, body: { experiment_id: "0", run_name: "set_01/teacher_fusion", start_time: 5 } });
  expect(created.status).toBe(200);
  runId = created.json.run.info.run_id;
  expect((await call("PUT", V1_RUN, { token, body: { lr: 0.1 } })).status).toBe(201);
});

afterEach(() => {
  tokenCache.ttlMs = 30_000;
});

describe("D1 round trips per write, token known to the isolate", () => {
  const point = (step: number) => ({ key: "val_loss", value: 1 / (step + 1), timestamp: 100 + step, step });

  it("one for MLflow log-batch, log-metric, log-parameter and set-tag", async () => {
    const writes: Array<[string, object]> = [
      ["runs/log-batch", { run_id: runId, metrics: [point(0), point(1)], params: [{ key: "lr", value: "0.1" }], tags: [{ key: "team", value: "kd" }] }],
      ["runs/log-batch", { run_id: runId, metrics: [point(0), point(1)], params: [{ key: "lr", value: "0.1" }] }],
      ["runs/log-metric", { run_id: runId, ...point(2) }],
      ["runs/log-parameter", { run_id: runId, key: "seed", value: "1" }],
      ["runs/set-tag", { run_id: runId, key: "note", value: "x" }],
      ["runs/set-tag", { run_id: runId, key: "mlflow.runName", value: "set_01/teacher_fusion" }],
    ];
    for (const [path, body] of writes) {
      const answer = await call("POST", `${MLFLOW}/${path}`, { token, body });
      expect(answer.status, `${path}: ${answer.text}`).toBe(200);
      expect(calls(answer), path).toBe(1);
    }
    const stored = await env.DB.prepare("select count(*) as n from metrics where run_uuid = ?").bind(runId).first<number>("n");
    expect(stored).toBe(3);
  });

  it("one for /api/v1 metric uploads: JSON points, metrics.csv and metrics.json", async () => {
    const uploads: Array<[string, string, string]> = [
      [
        "",
        JSON.stringify([
          { step: 0, metrics: { train_loss: 0.5 } },
          { step: 1, metrics: { train_loss: 0.4 } },
        ]),
        "application/json",
      ],
      ["?timestamp=7", JSON.stringify({ step: 2, metrics: { train_loss: 0.3 } }), "application/json"],
      ["", "epoch,step,val_loss\n0,0,0.9\n1,1,0.8\n", "text/csv"],
      ["?step=3", JSON.stringify({ gat: { core: { f1: 0.7 } } }), "application/json"],
    ];
    for (const [query, body, contentType] of uploads) {
      const answer = await call("POST", `${V1_RUN}/metrics${query}`, { token, body, headers: { "Content-Type": contentType } });
      expect(answer.status, answer.text).toBe(200);
      expect(calls(answer), `${contentType} ${query}`).toBe(1);
      expect(answer.json.attempt).toBe(1);
    }
  });

  it("at most two for MLflow runs/create and runs/update, answered as a read back would", async () => {
    const created = await call("POST", `${MLFLOW}/runs/create`, {
      token,
      body: {
        experiment_id: "0",
        run_name: "set_02/teacher_fusion",
        start_time: 9,
        tags: [
          { key: "b", value: "2" },
          { key: "a", value: "1" },
          { key: "b", value: "3" },
        ],
      },
    });
    expect(created.status).toBe(200);
    expect(calls(created), "runs/create").toBeLessThanOrEqual(2);
    const { run } = created.json;
    const readBack = await call("GET", `${MLFLOW}/runs/get?run_id=${run.info.run_id}`);
    expect({ ...run, inputs: {} }).toEqual(readBack.json.run);
    const updated = await call("POST", `${MLFLOW}/runs/update`, { token, body: { run_id: run.info.run_id, status: "FINISHED", end_time: 10 } });
    expect(updated.status).toBe(200);
    expect(calls(updated), "runs/update").toBeLessThanOrEqual(2);
    expect(updated.json.run_info).toEqual((await call("GET", `${MLFLOW}/runs/get?run_id=${run.info.run_id}`)).json.run.info);
  });

  it("at most two for /api/v1 starts (PUT): into a new experiment, a new attempt, a retry, a keyed start, its retry, a backfill", async () => {
    const starts: Array<[string, string, Record<string, string>, number]> = [
      ["new experiment", "/api/v1/runs/set_03/teacher_fusion?experiment=round-trips-new", {}, 201],
      ["next attempt", `${V1_RUN}`, {}, 201],
      ["retry of it", `${V1_RUN}`, {}, 200],
      ["keyed", "/api/v1/runs/set_03/teacher_fusion", { "Idempotency-Key": "job-1" }, 201],
      ["keyed retry", "/api/v1/runs/set_03/teacher_fusion", { "Idempotency-Key": "job-1" }, 200],
      ["backfill", "/api/v1/runs/set_03/teacher_fusion?start_time=1700000000000", {}, 201],
      ["backfill again", "/api/v1/runs/set_03/teacher_fusion?start_time=1700000000000", {}, 200],
    ];
    for (const [label, path, headers, status] of starts) {
      const answer = await call("PUT", path, { token, body: { lr: 0.2 }, headers });
      expect(answer.status, `${label}: ${answer.text}`).toBe(status);
      expect(calls(answer), label).toBeLessThanOrEqual(2);
    }
    const refused = await call("PUT", "/api/v1/runs/set_03/teacher_fusion", { token, body: { lr: 0.3 }, headers: { "Idempotency-Key": "job-1" } });
    expect(refused.status).toBe(400);
    expect(calls(refused), "a key used with another config").toBe(1);
  });

  it("at most two for ends (POST end)", async () => {
    const ended = await call("POST", `${V1_RUN}/end`, { token, body: { status: "FINISHED" } });
    expect(ended.status).toBe(200);
    expect(calls(ended), "POST end").toBeLessThanOrEqual(2);
  });
});

describe("the token cache", () => {
  const write = (secret: string) => call("POST", `${MLFLOW}/runs/set-tag`, { token: secret, body: { run_id: runId, key: "cache", value: "x" } });

  it("asks D1 for a token it has not seen, then not again within its bound", async () => {
    const fresh = await mint("cache-fresh");
    const first = await write(fresh);
    expect([first.status, calls(first)]).toEqual([200, 2]);
    const second = await write(fresh);
    expect([second.status, calls(second)]).toEqual([200, 1]);
  });

  it("a token revoked elsewhere stops working within the bound; revoked through this isolate, at once", async () => {
    tokenCache.ttlMs = 300;
    const elsewhere = await mint("cache-revoked-elsewhere");
    expect((await write(elsewhere)).status).toBe(200);
    // Another isolate (or a direct D1 change) revokes it: this isolate still holds it as live...
    await env.DB.prepare("update api_tokens set revoked_at = 1 where name = ?").bind("cache-revoked-elsewhere").run();
    expect((await write(elsewhere)).status).toBe(200);
    // ...until the bound has passed since D1 last confirmed it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await write(elsewhere);
    expect(after.status).toBe(401);
    expect(after.json.error_code).toBe("UNAUTHENTICATED");

    tokenCache.ttlMs = 30_000;
    const here = await mint("cache-revoked-here");
    expect((await write(here)).status).toBe(200);
    expect((await call("DELETE", "/api/v1/tokens/cache-revoked-here", { token: ADMIN_TOKEN })).status).toBe(200);
    expect((await write(here)).status).toBe(401);
  });

  it("keeps at most maxEntries tokens, dropping the oldest", async () => {
    const { maxEntries } = tokenCache;
    tokenCache.maxEntries = 2;
    try {
      const secrets = [await mint("cache-a"), await mint("cache-b"), await mint("cache-c")];
      for (const secret of secrets) expect((await write(secret)).status).toBe(200);
      expect(tokenCache.entries.size).toBe(2);
      const oldest = await write(secrets[0]);
      expect([oldest.status, calls(oldest)]).toEqual([200, 2]);
    } finally {
      tokenCache.maxEntries = maxEntries;
    }
  });

  it("the default bound is 30 s, as README says", () => {
    expect(tokenCache.ttlMs).toBe(30_000);
  });
});
