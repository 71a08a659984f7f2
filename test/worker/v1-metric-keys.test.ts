/** GET /api/v1/metric-keys: the metric names there are to rank by (the CLI suggests from them). */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_METRIC_KEYS } from "../../functions/api/rankings";
import { ADMIN_TOKEN, call, d1Cost } from "./support/call";

const RUNS = 300;
/** Every run logs the same 20 keys: 6,000 latest values, 20 names. */
const KEYS = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);

beforeAll(async () => {
  const path = "/api/v1/runs/hcrl_sa/teacher_evaluation";
  expect((await call("PUT", `${path}?start_time=1000`, { token: ADMIN_TOKEN, body: {} })).status).toBe(201);
  expect((await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: [{ step: 0, metrics: { gat_f1: 0.9, "val/loss.x": 0.5 } }] })).status).toBe(200);
  // Many runs with the same keys, written directly (the API's writes are tested elsewhere).
  const rows = JSON.stringify(Array.from({ length: RUNS }, (_, r) => KEYS.map((key, k) => [`run-${r}`, key, r * k])).flat());
  await env.DB.prepare(`insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan) select j.value ->> 0, j.value ->> 1, 0, 0, j.value ->> 2, 0 from json_each(?) j`)
    .bind(rows)
    .run();
});

const get = (query = "") => call("GET", `/api/v1/metric-keys${query}`);

describe("GET /api/v1/metric-keys", () => {
  it("lists each logged metric key once, sorted, publicly", async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toMatch(/^public/);
    expect(response.json).toEqual({ keys: [...KEYS, "gat_f1", "val/loss.x"].sort(), truncated: false });
  });

  it("reads about as many rows as it returns, not one per logged value", async () => {
    const response = await get();
    const { rowsRead } = d1Cost(response);
    expect(rowsRead).toBeGreaterThan(0);
    expect(rowsRead).toBeLessThanOrEqual(4 * (KEYS.length + 2));
  });

  it("stops at the limit and says so", async () => {
    expect((await get("?limit=3")).json).toEqual({ keys: ["gat_f1", "k00", "k01"], truncated: true });
    expect((await get(`?limit=${KEYS.length + 2}`)).json).toMatchObject({ truncated: false });
  });

  it("refuses a limit out of range with a 400 in MLflow's error shape", async () => {
    for (const limit of ["0", String(MAX_METRIC_KEYS + 1), "x"]) {
      const response = await get(`?limit=${limit}`);
      expect(response.status, limit).toBe(400);
      expect(response.json).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    }
    expect((await get("?metric=x")).status).toBe(400);
  });
});
