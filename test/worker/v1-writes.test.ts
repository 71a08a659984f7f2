import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import studentConfig from "../fixtures/student_curriculum_kd_config.json?raw";
import evalConfig from "../fixtures/teacher_evaluation_config.json?raw";
import evalMetrics from "../fixtures/teacher_evaluation_metrics.json?raw";
import { ADMIN_TOKEN, type CallOptions, call } from "./support/call";
import { dumpDatabase } from "./support/hostile";

const RUN = "/api/v1/runs/hcrl_sa/student_curriculum_kd";
/** 100,000 points take a few seconds, more while the rest of the suite shares the two cores. */
const HEAVY_TEST_TIMEOUT_MS = 60_000;

const count = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<number>("n"))!;

describe("/api/v1 curl writes", () => {
  it("runs the three-curl SLURM flow with the real fixtures", async () => {
    const started = await call("PUT", RUN, { token: ADMIN_TOKEN, body: studentConfig });
    expect(started.status).toBe(201);
    const run = started.json;
    expect(run).toMatchObject({ name: "hcrl_sa/student_curriculum_kd", attempt: 1 });
    expect(run.run_id).toMatch(/^[0-9a-f]{32}$/);

    const params = await env.DB.prepare("select key, value from params where run_uuid = ?").bind(run.run_id).all<{ key: string; value: string }>();
    const byKey = Object.fromEntries(params.results.map((p) => [p.key, p.value]));
    expect(params.results).toHaveLength(Object.keys(JSON.parse(studentConfig)).length);
    // Python's str() of each config value.
    expect(byKey).toMatchObject({
      kd_temperature: "4.0",
      gradient_clip: "1.0",
      use_kd: "True",
      use_scheduler: "False",
      vgae_hidden_dims: "(480, 240, 48)",
      weight_decay: "0.0001",
      lr: "0.001",
      seed: "42",
      precision: "16-mixed",
    });
    const tags = await env.DB.prepare("select key, value from tags where run_uuid = ?").bind(run.run_id).all<{ key: string; value: string }>();
    const tagMap = Object.fromEntries(tags.results.map((t) => [t.key, t.value]));
    expect(tagMap).toMatchObject({
      dataset: "hcrl_sa",
      model_size: "student",
      stage: "curriculum",
      use_kd: "True",
      model_arch: "gat",
      teacher_run_id: "hcrl_sa/teacher_curriculum",
      status: "running",
      "mlflow.runName": "hcrl_sa/student_curriculum_kd",
    });
    const startTime = await count("select start_time as n from runs where run_uuid = ?", run.run_id);
    expect(tagMap.start_time).toBe(new Date(startTime).toISOString());

    const csv = "epoch,step,train_loss,val_loss,val_acc\n0,49,0.9,,\n0,99,0.7,,\n0,99,,0.8,0.5\n1,149,0.6,,\n1,199,,0.65,NaN\n";
    const logged = await call("POST", `${RUN}/metrics`, { token: ADMIN_TOKEN, body: csv, headers: { "Content-Type": "text/csv" } });
    expect(logged.status).toBe(200);
    expect(logged.json).toMatchObject({ run_id: run.run_id, attempt: 1, points: 12 });
    const points = await env.DB.prepare("select key, step, value, is_nan, timestamp from metrics where run_uuid = ? order by key, step")
      .bind(run.run_id)
      .all<{ key: string; step: number; value: number; is_nan: number; timestamp: number }>();
    expect(points.results.map((p) => [p.key, p.step, p.is_nan ? "NaN" : p.value])).toEqual([
      // One epoch point per row, at the row's step, as Lightning's MLFlowLogger logs it.
      ["epoch", 49, 0],
      ["epoch", 99, 0],
      ["epoch", 99, 0],
      ["epoch", 149, 1],
      ["epoch", 199, 1],
      ["train_loss", 49, 0.9],
      ["train_loss", 99, 0.7],
      ["train_loss", 149, 0.6],
      ["val_acc", 99, 0.5],
      ["val_acc", 199, "NaN"],
      ["val_loss", 99, 0.8],
      ["val_loss", 199, 0.65],
    ]);
    // step is the coordinate, not a metric; row i is stamped start_time + i.
    expect(points.results.find((p) => p.key === "val_loss" && p.step === 199)!.timestamp).toBe(startTime + 4);

    const ended = await call("POST", `${RUN}/end`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } });
    expect(ended.status).toBe(200);
    expect(ended.json).toMatchObject({ run_id: run.run_id, status: "FINISHED" });
    const row = await env.DB.prepare("select status, end_time from runs where run_uuid = ?").bind(run.run_id).first<{ status: string; end_time: number }>();
    expect(row!.status).toBe("FINISHED");
    const endTags = await env.DB.prepare("select key, value from tags where run_uuid = ? and key in ('status', 'end_time')").bind(run.run_id).all();
    expect(Object.fromEntries(endTags.results.map((t: any) => [t.key, t.value]))).toEqual({ status: "complete", end_time: new Date(row!.end_time).toISOString() });
  });

  it("creates the experiment on demand and honours ?experiment= and ?start_time=", async () => {
    const response = await call("PUT", "/api/v1/runs/set_01/teacher_fusion?experiment=other-exp&start_time=1700000000000", { token: ADMIN_TOKEN, body: "{}" });
    expect(response.status).toBe(201);
    const { run_id } = response.json;
    const row = await env.DB.prepare("select r.start_time, e.name, e.artifact_location, e.experiment_id from runs r join experiments e using (experiment_id) where run_uuid = ?")
      .bind(run_id)
      .first<any>();
    expect(row).toMatchObject({ start_time: 1700000000000, name: "other-exp", artifact_location: `mlflow-artifacts:/${row.experiment_id}` });
    const startTag = await env.DB.prepare("select value from tags where run_uuid = ? and key = 'start_time'").bind(run_id).first("value");
    expect(startTag).toBe("2023-11-14T22:13:20.000Z");
  });

  it("accepts a name that is not {size}_{stage}[_kd] with what can be derived", async () => {
    const response = await call("PUT", "/api/v1/runs/set_02/sweep-7", { token: ADMIN_TOKEN, body: '{"model_size": "large", "use_kd": false}' });
    expect(response.status).toBe(201);
    const { run_id } = response.json;
    const tags = await env.DB.prepare("select key, value from tags where run_uuid = ? order by key").bind(run_id).all<any>();
    const tagMap = Object.fromEntries(tags.results.map((t) => [t.key, t.value]));
    expect(tagMap).toMatchObject({ dataset: "set_02", model_size: "large", use_kd: "False" });
    expect(tagMap.stage).toBeUndefined();
    expect(await env.DB.prepare("select dataset, stage from runs where run_uuid = ?").bind(run_id).first()).toEqual({ dataset: null, stage: null });
  });

  it("logs configs of over 100 fields in one attempt", async () => {
    const config = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`field_${i}`, i % 2 ? i + 0.5 : true]));
    const response = await call("PUT", "/api/v1/runs/set_03/teacher_normal", { token: ADMIN_TOKEN, body: config });
    expect(response.status).toBe(201);
    const { run_id } = response.json;
    expect(await count("select count(*) as n from params where run_uuid = ?", run_id)).toBe(150);
    expect(await env.DB.prepare("select value from params where run_uuid = ? and key = 'field_1'").bind(run_id).first("value")).toBe("1.5");
  });

  it("flattens an evaluation metrics.json, with NaN tokens, at step 0", async () => {
    const put = (await call("PUT", "/api/v1/runs/hcrl_sa/teacher_evaluation", { token: ADMIN_TOKEN, body: evalConfig })).json;
    const body = evalMetrics.replace('"auc": 1.0', '"auc": NaN');
    const response = await call("POST", "/api/v1/runs/hcrl_sa/teacher_evaluation/metrics", { token: ADMIN_TOKEN, body });
    expect(response.status).toBe(200);
    const latest = await env.DB.prepare("select key, value, is_nan, step from latest_metrics where run_uuid = ?").bind(put.run_id).all<any>();
    const byKey = Object.fromEntries(latest.results.map((m) => [m.key, m]));
    expect(byKey.gat_f1).toMatchObject({ value: 0.998003992015968, step: 0 });
    expect(byKey["gat_detection_at_fpr_0.05"].value).toBe(1);
    expect(byKey.gat_auc.is_nan).toBe(1);
    expect(Object.keys(byKey).some((k) => k.startsWith("test_gat_test_01_"))).toBe(true);
    // Posting it again (a retry) stores nothing twice.
    const before = await count("select count(*) as n from metrics where run_uuid = ?", put.run_id);
    expect((await call("POST", "/api/v1/runs/hcrl_sa/teacher_evaluation/metrics?format=metrics.json", { token: ADMIN_TOKEN, body })).status).toBe(200);
    expect(await count("select count(*) as n from metrics where run_uuid = ?", put.run_id)).toBe(before);
  });

  it("takes JSON points, one object or a list, and stores a retried request once", async () => {
    const { run_id } = (await call("PUT", "/api/v1/runs/set_04/teacher_curriculum", { token: ADMIN_TOKEN, body: "{}" })).json;
    const body = [
      { step: 1, metrics: { val_loss: 0.5, train_loss: "Infinity" } },
      { step: 2, metrics: { val_loss: 0.4 }, timestamp: 1234 },
    ];
    for (let i = 0; i < 2; i++) {
      expect((await call("POST", "/api/v1/runs/set_04/teacher_curriculum/metrics", { token: ADMIN_TOKEN, body })).status).toBe(200);
    }
    expect((await call("POST", "/api/v1/runs/set_04/teacher_curriculum/metrics", { token: ADMIN_TOKEN, body: { step: 3, metrics: { epsilon: 0.1 } } })).status).toBe(200);
    const rows = await env.DB.prepare("select key, step, timestamp, value from metrics where run_uuid = ? order by key, step").bind(run_id).all<any>();
    expect(rows.results.map((r) => [r.key, r.step, r.value])).toEqual([
      ["epsilon", 3, 0.1],
      ["train_loss", 1, 1.7976931348623157e308],
      ["val_loss", 1, 0.5],
      ["val_loss", 2, 0.4],
    ]);
    expect(rows.results.find((r) => r.step === 2).timestamp).toBe(1234);
  });

  describe("retried PUTs", () => {
    it("treats an identical PUT to a fresh RUNNING attempt as the same attempt, and a changed config as a new one", async () => {
      const path = "/api/v1/runs/hcrl_ch/teacher_autoencoder";
      const first = await call("PUT", path, { token: ADMIN_TOKEN, body: '{"lr": 0.001}' });
      const before = await dumpDatabase();
      const again = await call("PUT", path, { token: ADMIN_TOKEN, body: '{"lr": 0.001}' });
      expect(again.status).toBe(200);
      expect(again.json).toEqual(first.json);
      expect(await dumpDatabase()).toEqual(before);
      const changed = (await call("PUT", path, { token: ADMIN_TOKEN, body: '{"lr": 0.01}' })).json;
      expect(changed.attempt).toBe(2);
    });

    it("starts a new attempt once the latest one has logged metrics or ended", async () => {
      const path = "/api/v1/runs/hcrl_ch/student_autoencoder";
      await call("PUT", path, { token: ADMIN_TOKEN, body: "{}" });
      await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: { step: 0, metrics: { loss: 1 } } });
      expect((await call("PUT", path, { token: ADMIN_TOKEN, body: "{}" })).json.attempt).toBe(2);
      await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { status: "FAILED" } });
      const third = (await call("PUT", path, { token: ADMIN_TOKEN, body: "{}" })).json;
      expect(third.attempt).toBe(3);
      const latest = await env.DB.prepare("select attempt from runs where name = 'hcrl_ch/student_autoencoder' and is_latest = 1").all();
      expect(latest.results).toEqual([{ attempt: 3 }]);
    });

    it("identifies an attempt by Idempotency-Key, and refuses the key with another config", async () => {
      const path = "/api/v1/runs/hcrl_ch/teacher_curriculum";
      const headers = { "Idempotency-Key": "slurm-12345" };
      const first = (await call("PUT", path, { token: ADMIN_TOKEN, body: "{}", headers })).json;
      await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: { step: 0, metrics: { loss: 1 } } });
      const before = await dumpDatabase();
      const retry = await call("PUT", path, { token: ADMIN_TOKEN, body: "{}", headers });
      expect(retry.status).toBe(200);
      expect(retry.json).toEqual(first);
      const misuse = await call("PUT", path, { token: ADMIN_TOKEN, body: '{"x": 1}', headers });
      expect(misuse.status).toBe(400);
      expect(await dumpDatabase()).toEqual(before);
      const other = (await call("PUT", path, { token: ADMIN_TOKEN, body: "{}", headers: { "Idempotency-Key": "slurm-12346" } })).json;
      expect(other.attempt).toBe(2);
    });

    it("makes a backfill with the same start_time and config the same attempt, whatever happened since", async () => {
      const path = "/api/v1/runs/hcrl_ch/teacher_fusion?start_time=1600000000000";
      const first = (await call("PUT", path, { token: ADMIN_TOKEN, body: evalConfig })).json;
      await call("POST", "/api/v1/runs/hcrl_ch/teacher_fusion/end", { token: ADMIN_TOKEN, body: { status: "FINISHED", end_time: 1600000001000 } });
      const before = await dumpDatabase();
      expect((await call("PUT", path, { token: ADMIN_TOKEN, body: evalConfig })).json).toEqual(first);
      expect(await dumpDatabase()).toEqual(before);
    });
  });

  describe("ending an attempt", () => {
    const path = "/api/v1/runs/set_01/student_evaluation_kd";

    it("sets FAILED with error_msg, is a no-op when repeated, and KILLED also works", async () => {
      const { run_id } = (await call("PUT", path, { token: ADMIN_TOKEN, body: "{}" })).json;
      const body = { status: "FAILED", error: "CUDA out of memory", end_time: 1800000000000 };
      expect((await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body })).status).toBe(200);
      const before = await dumpDatabase();
      const again = await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { ...body, end_time: 1900000000000 } });
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ status: "FAILED", end_time: 1800000000000 });
      expect(await dumpDatabase()).toEqual(before);
      const tags = await env.DB.prepare("select key, value from tags where run_uuid = ? and key in ('status', 'error_msg', 'end_time')").bind(run_id).all<any>();
      expect(Object.fromEntries(tags.results.map((t) => [t.key, t.value]))).toEqual({
        status: "failed",
        error_msg: "CUDA out of memory",
        end_time: "2027-01-15T08:00:00.000Z",
      });
      expect((await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { status: "KILLED" } })).status).toBe(200);
      expect(await env.DB.prepare("select value from tags where run_uuid = ? and key = 'status'").bind(run_id).first("value")).toBe("killed");
    });
  });

  describe("bad requests change nothing", () => {
    const cases: Array<[string, string, string, CallOptions, number, string]> = [
      ["no token", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "{}" }, 401, "UNAUTHENTICATED"],
      ["wrong token", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "{}", token: "nope-nope-nope" }, 401, "UNAUTHENTICATED"],
      ["malformed JSON", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "{lr: 1", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a JSON list", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "[1, 2]", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a JSON number", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "4.0", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an unsafe segment", "PUT", "/api/v1/runs/..%2Fetc/teacher_normal", { body: "{}", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a dotted segment", "PUT", "/api/v1/runs/set_01/.hidden", { body: "{}", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a bad param key", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: '{"a..b": 1}', token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a too long param value", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: JSON.stringify({ a: "x".repeat(6001) }), token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an unknown query parameter", "PUT", "/api/v1/runs/set_01/teacher_normal?foo=1", { body: "{}", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a bad start_time", "PUT", "/api/v1/runs/set_01/teacher_normal?start_time=yesterday", { body: "{}", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a bad Idempotency-Key", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: "{}", token: ADMIN_TOKEN, headers: { "Idempotency-Key": "a b" } }, 400, "INVALID_PARAMETER_VALUE"],
      ["an over-cap config", "PUT", "/api/v1/runs/set_01/teacher_normal", { body: JSON.stringify({ a: "x".repeat(1024 * 1024) }), token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["metrics of an unknown run", "POST", "/api/v1/runs/set_01/nobody_normal/metrics", { body: { step: 0, metrics: { a: 1 } }, token: ADMIN_TOKEN }, 404, "RESOURCE_DOES_NOT_EXIST"],
      ["metrics in an unknown experiment", "POST", `${RUN}/metrics?experiment=nope`, { body: { step: 0, metrics: { a: 1 } }, token: ADMIN_TOKEN }, 404, "RESOURCE_DOES_NOT_EXIST"],
      ["malformed metrics JSON", "POST", `${RUN}/metrics`, { body: "{", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      [
        "a non-numeric metric",
        "POST",
        `${RUN}/metrics`,
        {
          body: [
            { step: 0, metrics: { a: 1 } },
            { step: 1, metrics: { a: "high" } },
          ],
          token: ADMIN_TOKEN,
        },
        400,
        "INVALID_PARAMETER_VALUE",
      ],
      ["a fractional step", "POST", `${RUN}/metrics`, { body: { step: 1.5, metrics: { a: 1 } }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a bad metric key", "POST", `${RUN}/metrics`, { body: { step: 1, metrics: { "/a": 1 } }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an empty upload", "POST", `${RUN}/metrics`, { body: { step: 1, metrics: {} }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a CSV without step", "POST", `${RUN}/metrics?format=csv`, { body: "epoch,loss\n0,1\n", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a ragged CSV", "POST", `${RUN}/metrics?format=csv`, { body: "epoch,step,loss\n0,1,0.5\n0,2\n", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a CSV with a bad cell", "POST", `${RUN}/metrics?format=csv`, { body: "epoch,step,loss\n0,1,0.5\n0,2,oops\n", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an unknown format", "POST", `${RUN}/metrics?format=xml`, { body: "<a/>", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an over-cap upload", "POST", `${RUN}/metrics?format=csv`, { body: `epoch,step,loss\n${"0,1,0.5\n".repeat(1_100_000)}`, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["a bad end status", "POST", `${RUN}/end`, { body: { status: "DONE" }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["RUNNING as an end status", "POST", `${RUN}/end`, { body: { status: "RUNNING" }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an end with an unknown field", "POST", `${RUN}/end`, { body: { status: "FAILED", eror: "typo" }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["an end with malformed JSON", "POST", `${RUN}/end`, { body: "{status", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
      ["ending an unknown run", "POST", "/api/v1/runs/set_01/nobody_normal/end", { body: { status: "FINISHED" }, token: ADMIN_TOKEN }, 404, "RESOURCE_DOES_NOT_EXIST"],
    ];
    for (const [label, method, path, options, status, code] of cases) {
      it(`${label}: ${status} ${code}`, async () => {
        const before = await dumpDatabase();
        const response = await call(method, path, options);
        expect(response.status).toBe(status);
        const body = response.json;
        expect(body.error_code).toBe(code);
        expect(typeof body.message).toBe("string");
        expect(await dumpDatabase()).toEqual(before);
      });
    }
  });

  // Last: its 100,000 rows would slow every snapshot above.
  it(
    "writes a 100,000-point upload in one transaction and refuses more",
    async () => {
      const { run_id } = (await call("PUT", "/api/v1/runs/set_04/student_normal", { token: ADMIN_TOKEN, body: "{}" })).json;
      const points = Array.from({ length: 100_000 }, (_, i) => ({ step: i, metrics: { loss: i / 100_000 } }));
      const response = await call("POST", "/api/v1/runs/set_04/student_normal/metrics", { token: ADMIN_TOKEN, body: points });
      expect(response.status).toBe(200);
      expect(await count("select count(*) as n from metrics where run_uuid = ?", run_id)).toBe(100_000);
      expect(await env.DB.prepare("select step from latest_metrics where run_uuid = ?").bind(run_id).first("step")).toBe(99_999);
      const tooMany = [...points, { step: 100_000, metrics: { other: 1 } }];
      const refused = await call("POST", "/api/v1/runs/set_04/student_normal/metrics", { token: ADMIN_TOKEN, body: tooMany });
      expect(refused.status).toBe(400);
      expect(refused.json.message).toMatch(/at most 100000 metric points/);
      expect(await count("select count(*) as n from metrics where run_uuid = ? and key = 'other'", run_id)).toBe(0);
    },
    HEAVY_TEST_TIMEOUT_MS,
  );
});
