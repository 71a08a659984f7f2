import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accessKind } from "../../functions/http/access";
import { mlflowApi } from "../../functions/mlflow";
import { isUnsupportedHandler } from "../../functions/mlflow/unsupported";
import { ADMIN_TOKEN, call, get, post } from "./support/call";

const count = async (table: string) => (await env.DB.prepare(`select count(*) as n from ${table}`).first<number>("n")) ?? 0;
const newRun = async (body: object = {}) => (await post("runs/create", { experiment_id: "0", ...body })).json.run;

describe("MLflow API access", () => {
  const postRoutes = [...new Set(mlflowApi.routes.filter((r) => r.method === "POST" && !isUnsupportedHandler(r.handler)).map((r) => r.path))];
  /** The reads sent as POST: the routes that carry the publicSearch access helper. */
  const PUBLIC_POST_ROUTES = [...new Set(mlflowApi.routes.filter((r) => r.method === "POST" && accessKind(r.handler) === "publicSearch").map((r) => r.path))];

  it("every POST route but the searches needs a write token; reads need none", async () => {
    expect(postRoutes.length).toBe(17);
    expect(PUBLIC_POST_ROUTES).toEqual(["/experiments/search", "/runs/search"]);
    expect(PUBLIC_POST_ROUTES.every((path) => postRoutes.includes(path))).toBe(true);
    for (const path of postRoutes.filter((p) => !PUBLIC_POST_ROUTES.includes(p))) {
      for (const token of [null, "wrong-token-0123456789abcdef"]) {
        const res = await post(path.slice(1), { name: "x", experiment_id: "0", run_id: "r", key: "k", value: "v" }, { token });
        expect([res.status, res.json.error_code], `${path} with ${token}`).toEqual([401, "UNAUTHENTICATED"]);
      }
    }
    expect(await count("runs")).toBe(0);
    for (const path of PUBLIC_POST_ROUTES) expect((await post(path.slice(1), {}, { token: null })).status).toBe(200);
    expect((await get("experiments/get", { experiment_id: "0" }, { token: null })).status).toBe(200);
    expect((await get("experiments/search", {}, { token: null })).status).toBe(200);
  });

  it("a wrong method on a known endpoint is a JSON 405", async () => {
    for (const path of postRoutes.filter((p) => !PUBLIC_POST_ROUTES.includes(p))) {
      const res = await get(path.slice(1));
      expect([res.status, res.json.error_code], path).toEqual([405, "METHOD_NOT_ALLOWED"]);
    }
    expect((await call("PUT", "/api/2.0/mlflow/runs/get", { token: ADMIN_TOKEN, body: {} })).status).toBe(405);
    expect((await call("DELETE", "/api/2.0/mlflow/metrics/get-history", { token: ADMIN_TOKEN, body: {} })).status).toBe(405);
  });

  it("a body over 1 MB is refused before it is read, and nothing is written", async () => {
    const run = await newRun({ run_name: "big" });
    const huge = JSON.stringify({ run_id: run.info.run_id, tags: [{ key: "pad", value: "x".repeat(1024 * 1024) }] });
    const res = await post("runs/log-batch", undefined, { rawBody: huge });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Request body exceeds the limit of 1048576 bytes." });
    expect(await env.DB.prepare("select count(*) as n from tags where key = 'pad'").first("n")).toBe(0);
    const search = await post("runs/search", undefined, { rawBody: JSON.stringify({ filter: " ".repeat(1024 * 1024 + 1) }), token: null });
    expect(search.status).toBeLessThan(500);
    expect(search.status).toBeGreaterThanOrEqual(400);
  });
});

describe("MLflow runs", () => {
  it("takes the run name from an mlflow.runName tag, refuses two different names, accepts int64 strings", async () => {
    const run = await newRun({ start_time: "1700000000123", tags: [{ key: "mlflow.runName", value: "hcrl_sa/teacher_autoencoder" }], user_id: "me" });
    expect(run.info).toMatchObject({ run_name: "hcrl_sa/teacher_autoencoder", start_time: 1700000000123, user_id: "me" });
    expect(run.data.tags).toEqual([{ key: "mlflow.runName", value: "hcrl_sa/teacher_autoencoder" }]);
    const row = await env.DB.prepare("select dataset, stage from runs where run_uuid = ?").bind(run.info.run_id).first();
    expect(row).toEqual({ dataset: "hcrl_sa", stage: "autoencoder" });
    const clash = await post("runs/create", { experiment_id: "0", run_name: "a", tags: [{ key: "mlflow.runName", value: "b" }] });
    expect(clash.status).toBe(400);
    const noStart = await newRun({ run_name: "now" });
    expect(Math.abs(noStart.info.start_time - Date.now())).toBeLessThan(60_000);
    for (const body of [{ experiment_id: "x" }, { start_time: "soon" }, { start_time: 1.5 }, { tags: [{ key: "k" }] }, { run_name: "x".repeat(251) }]) {
      const res = await post("runs/create", { experiment_id: "0", ...body });
      expect([res.status, res.json.error_code], JSON.stringify(body)).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    }
  });

  it("runs/update renames (and its tag), sets status and end time; bad status is refused", async () => {
    const run = await newRun({ run_name: "old" });
    const res = await post("runs/update", { run_id: run.info.run_id, run_name: "set_01/student_fusion_kd", status: "KILLED", end_time: "1700000099000" });
    expect(res.json.run_info).toMatchObject({ run_name: "set_01/student_fusion_kd", status: "KILLED", end_time: 1700000099000 });
    const fetched = (await get("runs/get", { run_id: run.info.run_id })).json.run;
    expect(fetched.data.tags).toEqual([{ key: "mlflow.runName", value: "set_01/student_fusion_kd" }]);
    expect((await post("runs/update", { run_id: run.info.run_id, status: "DONE" })).status).toBe(400);
    expect((await post("runs/update", { run_id: "nope", status: "FAILED" })).status).toBe(404);
  });

  it("set-tag mlflow.runName renames the run; delete-tag of a missing tag is 404", async () => {
    const run = await newRun({ run_name: "first" });
    await post("runs/set-tag", { run_id: run.info.run_id, key: "mlflow.runName", value: "second" });
    expect((await get("runs/get", { run_id: run.info.run_id })).json.run.info.run_name).toBe("second");
    const missing = await post("runs/delete-tag", { run_id: run.info.run_id, key: "nope" });
    expect([missing.status, missing.json.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
  });

  it("log-parameter refuses a changed value with MLflow's single-param message", async () => {
    const run = await newRun({ run_name: "params" });
    await post("runs/log-parameter", { run_id: run.info.run_id, key: "lr", value: "0.1" });
    const res = await post("runs/log-parameter", { run_id: run.info.run_id, key: "lr", value: "0.2" });
    expect(res.json).toEqual({
      error_code: "INVALID_PARAMETER_VALUE",
      message: `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${run.info.run_id}'. Attempted logging new value '0.2'.`,
    });
    expect((await post("runs/log-parameter", { run_id: run.info.run_id, key: "lr", value: "0.1" })).text).toBe("{}");
  });

  it("a retried log-batch stores nothing twice; log-metric defaults step to 0", async () => {
    const run = await newRun({ run_name: "retry" });
    const batch = {
      run_id: run.info.run_id,
      metrics: [
        { key: "loss", value: 1, timestamp: "1700000000000", step: "1" },
        { key: "loss", value: "NaN", timestamp: 1700000000001, step: 2 },
      ],
      params: [{ key: "p", value: "1" }],
      tags: [{ key: "t", value: "1" }],
    };
    const before = { metrics: await count("metrics"), params: await count("params"), tags: await count("tags") };
    for (let i = 0; i < 3; i++) expect((await post("runs/log-batch", batch)).text).toBe("{}");
    expect({ metrics: await count("metrics"), params: await count("params"), tags: await count("tags") }).toEqual({
      metrics: before.metrics + 2,
      params: before.params + 1,
      tags: before.tags + 1,
    });
    await post("runs/log-metric", { run_id: run.info.run_id, key: "acc", value: "0.5", timestamp: 1700000000002 });
    const history = await get("metrics/get-history", { run_id: run.info.run_id, metric_key: "acc" });
    expect(history.json).toEqual({ metrics: [{ key: "acc", value: 0.5, timestamp: 1700000000002, step: 0 }] });
    const latest = (await get("runs/get", { run_id: run.info.run_id })).json.run.data.metrics;
    expect(latest).toEqual([
      { key: "loss", value: "NaN", timestamp: 1700000000001, step: 2 },
      { key: "acc", value: 0.5, timestamp: 1700000000002, step: 0 },
    ]);
  });

  it("deleted runs refuse writes until restored", async () => {
    const run = await newRun({ run_name: "gone" });
    await post("runs/delete", { run_id: run.info.run_id });
    const res = await post("runs/log-metric", { run_id: run.info.run_id, key: "m", value: 1, timestamp: 1 });
    expect([res.status, res.json.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    expect((await post("runs/delete", { run_id: "nope" })).status).toBe(404);
    expect((await get("runs/get", { run_id: run.info.run_id })).json.run.data.metrics).toBeUndefined();
    await post("runs/restore", { run_id: run.info.run_id });
    expect((await post("runs/log-metric", { run_id: run.info.run_id, key: "m", value: 2, timestamp: 1 })).text).toBe("{}");
    expect((await get("runs/get", { run_id: run.info.run_id })).json.run.data.metrics).toEqual([{ key: "m", value: 2, timestamp: 1, step: 0 }]);
  });

  it("bad input is a 4xx in MLflow's shape and changes nothing", async () => {
    const run = await newRun({ run_name: "bad-input" });
    const id = run.info.run_id;
    const before = { metrics: await count("metrics"), params: await count("params"), tags: await count("tags"), runs: await count("runs") };
    const cases: Array<[string, unknown]> = [
      ["runs/log-batch", { run_id: id, metrics: [{ key: "m", value: "lots", timestamp: 1 }] }],
      ["runs/log-batch", { run_id: id, metrics: [{ key: "m", value: 1 }] }],
      ["runs/log-batch", { run_id: id, metrics: [{ key: "../m", value: 1, timestamp: 1 }] }],
      ["runs/log-batch", { run_id: id, metrics: [{ key: "ok", value: 1, timestamp: 1 }], params: [{ key: "p".repeat(251), value: "x" }] }],
      ["runs/log-batch", { run_id: id, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) }],
      ["runs/log-batch", { run_id: id, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: "v" })) }],
      ["runs/log-batch", { run_id: id, metrics: "no" }],
      ["runs/log-batch", [1, 2]],
      ["runs/log-metric", { run_id: id, key: "m", value: 1, timestamp: 1, step: "one" }],
      ["runs/log-parameter", { run_id: id, key: "p", value: 5 }],
      ["runs/set-tag", { run_id: id, key: "k" }],
      ["runs/create", { experiment_id: "0", tags: "x" }],
      ["runs/search", { experiment_ids: ["0"], filter: "params.p = 'x' OR params.q = 'y'" }],
      ["runs/search", { experiment_ids: ["0"], page_token: "eyJvZmZzZXQiOiAtMX0=" }],
      ["runs/search", { experiment_ids: ["0"], max_results: 50001 }],
      ["runs/search", { experiment_ids: ["0"], run_view_type: "SOME" }],
      ["runs/search", { experiment_ids: ["0"], filter: Array.from({ length: 31 }, () => "metrics.a > 1").join(" and ") }],
      ["runs/search", { experiment_ids: ["0"], order_by: Array.from({ length: 11 }, (_, i) => `params.p${i}`) }],
    ];
    for (const [path, body] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(Object.keys(res.json)).toEqual(["error_code", "message"]);
    }
    const malformed = await post("runs/log-batch", undefined, { rawBody: "{not json" });
    expect([malformed.status, malformed.json.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    expect({ metrics: await count("metrics"), params: await count("params"), tags: await count("tags"), runs: await count("runs") }).toEqual(before);
  });
});
