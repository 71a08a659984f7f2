/** The cap on distinct metric keys per run, on every path that creates keys. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../functions/domain/limits";
import { ADMIN_TOKEN, type Answer, call, post } from "./support/call";
import { dumpDatabase } from "./support/hostile";

const CAP = LIMITS.maxMetricKeysPerRun;
const keyCount = async (runUuid: string) => env.DB.prepare("select count(*) as n from latest_metrics where run_uuid = ?").bind(runUuid).first<number>("n");

/** D1 rows read by a request, from its Server-Timing header. */
const rowsRead = (response: Answer) => Number(/rows_read=(\d+)/.exec(response.headers.get("Server-Timing") ?? "")?.[1]);

async function mlflowRun(): Promise<string> {
  const created = await post("runs/create", { experiment_id: "0", start_time: 1 });
  expect(created.status).toBe(200);
  return created.json.run.info.run_id;
}

/** log-batch requests (MLflow's 1000 metrics each) logging keys `${prefix}0` ... up to count. */
async function logKeys(runUuid: string, prefix: string, count: number) {
  for (let start = 0; start < count; start += LIMITS.maxBatchMetrics) {
    const metrics = Array.from({ length: Math.min(LIMITS.maxBatchMetrics, count - start) }, (_, i) => ({ key: `${prefix}${start + i}`, value: 1, timestamp: 1, step: 0 }));
    const answer = await post("runs/log-batch", { run_id: runUuid, metrics });
    expect(answer.status, answer.text).toBe(200);
  }
}

async function expectRefusedWhole(answer: { status: number; json: any }, before: string) {
  expect(answer.status).toBe(400);
  expect(answer.json.error_code).toBe("INVALID_PARAMETER_VALUE");
  expect(answer.json.message).toContain(`at most ${CAP} distinct metric keys`);
  expect(await dumpDatabase()).toEqual(before);
}

describe("per-run metric key cap", () => {
  it("MLflow log-batch and log-metric: exactly the cap is accepted, one key more is refused with nothing written", async () => {
    const run = await mlflowRun();
    await logKeys(run, "k", CAP - 1);
    // A batch with two new keys (and a param and a tag) would make CAP + 1: refused whole.
    const before = await dumpDatabase();
    const over = await post("runs/log-batch", {
      run_id: run,
      metrics: [
        { key: "k0", value: 2, timestamp: 2, step: 1 },
        { key: "new_a", value: 1, timestamp: 1, step: 0 },
        { key: "new_b", value: 1, timestamp: 1, step: 0 },
      ],
      params: [{ key: "lr", value: "0.1" }],
      tags: [{ key: "note", value: "x" }],
    });
    await expectRefusedWhole(over, before);
    // Two concurrent writes of one new key each: one reaches the cap exactly, the other is refused.
    const racing = await Promise.all(["new_a", "new_b"].map((key) => post("runs/log-metric", { run_id: run, key, value: 1, timestamp: 1, step: 0 })));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await keyCount(run)).toBe(CAP);
    const [known, refused] = racing[0].status === 200 ? ["new_a", "new_b"] : ["new_b", "new_a"];
    // At the cap, known keys still log, without counting the run's keys; a new one does not log.
    const knownWrite = await call("POST", "/api/2.0/mlflow/runs/log-metric", { token: ADMIN_TOKEN, body: { run_id: run, key: known, value: 5, timestamp: 9, step: 9 } });
    expect(knownWrite.status).toBe(200);
    expect(rowsRead(knownWrite)).toBeLessThan(50);
    const atCap = await dumpDatabase();
    await expectRefusedWhole(await post("runs/log-metric", { run_id: run, key: refused, value: 1, timestamp: 1, step: 0 }), atCap);
    // Another run is not affected by this one's keys.
    const other = await mlflowRun();
    expect((await post("runs/log-metric", { run_id: other, key: "new_b", value: 1, timestamp: 1, step: 0 })).status).toBe(200);
  }, 60_000);

  it("v1 CSV, JSON and metrics.json uploads: the cap in one upload is accepted, one key more (in one or two requests) is refused", async () => {
    const path = "/api/v1/runs/hcrl_sa/teacher_curriculum";
    const started = (await call("PUT", path, { token: ADMIN_TOKEN, body: "{}" })).json;
    const csv = (keys: string[]) => `step,${keys.join(",")}\n0,${keys.map(() => "1").join(",")}\n`;
    const upload = async (body: string, contentType: string) => {
      const response = await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body, headers: { "Content-Type": contentType } });
      return { status: response.status, json: response.json };
    };
    // One CSV with more keys than the cap: refused before D1, nothing written.
    const empty = await dumpDatabase();
    await expectRefusedWhole(await upload(csv(Array.from({ length: CAP + 1 }, (_, i) => `c${i}`)), "text/csv"), empty);
    // Exactly the cap in one CSV.
    const accepted = await upload(csv(Array.from({ length: CAP }, (_, i) => `c${i}`)), "text/csv");
    expect(accepted.status).toBe(200);
    expect(accepted.json.points).toBe(CAP);
    expect(await keyCount(started.run_id)).toBe(CAP);
    // A second request with one new key, in each format: refused, nothing written.
    const full = await dumpDatabase();
    await expectRefusedWhole(await upload(csv(["c0", "c_new"]), "text/csv"), full);
    await expectRefusedWhole(await upload(JSON.stringify({ step: 1, metrics: { c1: 0.5, c_new: 1 } }), "application/json"), full);
    await expectRefusedWhole(await upload(JSON.stringify({ test: { f1: 0.9 } }), "application/json"), full);
    // Known keys still log.
    expect((await upload(JSON.stringify({ step: 1, metrics: { c1: 0.5 } }), "application/json")).status).toBe(200);
  }, 60_000);

  it("import refuses a run with more keys than the cap, writing nothing", async () => {
    const before = await dumpDatabase();
    const metrics = Object.fromEntries(Array.from({ length: CAP + 1 }, (_, i) => [`m${i}`, [[0, 1, 1]]]));
    const run = {
      mlflow_run_id: "e".repeat(32),
      experiment_id: "77",
      run_name: "hcrl_sa/teacher_fusion",
      user_id: "",
      status: "FINISHED",
      start_time: 1,
      end_time: 2,
      artifact_uri: "",
      lifecycle_stage: "active",
      deleted_time: null,
      attempt: 1,
      params: {},
      tags: {},
      metrics,
    };
    const experiments = [{ experiment_id: "77", name: "imported", artifact_location: "", lifecycle_stage: "active", creation_time: 1, last_update_time: 1, tags: {} }];
    const document = (runs: unknown[]) => ({ format: "kdgat-export", version: 1, experiments, runs });
    const response = await call("POST", "/api/v1/import", { token: ADMIN_TOKEN, body: document([run]) });
    await expectRefusedWhole({ status: response.status, json: response.json }, before);
    // The same run at the cap imports.
    const { [`m${CAP}`]: _dropped, ...atCap } = metrics;
    const ok = await call("POST", "/api/v1/import", { token: ADMIN_TOKEN, body: document([{ ...run, metrics: atCap }]) });
    expect(ok.status, ok.text).toBe(200);
    expect(await keyCount(run.mlflow_run_id)).toBe(CAP);
  }, 60_000);
});
