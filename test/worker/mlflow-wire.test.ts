/**
 * Replays the recorded MLflow 2.17.2 exchanges (reference/mlflow-wire-examples.md) in order and
 * compares bodies exactly, key order included; only ids, artifact paths and server times differ.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { get, post } from "./support/call";

/** Same JSON text means same values and the same key order. */
const expectWire = (actual: unknown, expected: unknown) => expect(JSON.stringify(actual, null, 1)).toBe(JSON.stringify(expected, null, 1));

const NAME = "demo-exp-1795943773";
const MAX = 1.7976931348623157e308;
let experimentId = "";
let runA = "";
let runB = "";
let runBName = "";

const info = (run: string, name: string, extra: { status?: string; end_time?: number; start_time: number; lifecycle_stage?: string }) => ({
  run_uuid: run,
  experiment_id: experimentId,
  run_name: name,
  user_id: "",
  status: extra.status ?? "RUNNING",
  start_time: extra.start_time,
  ...(extra.end_time !== undefined && { end_time: extra.end_time }),
  artifact_uri: `mlflow-artifacts:/${experimentId}/${run}/artifacts`,
  lifecycle_stage: extra.lifecycle_stage ?? "active",
  run_id: run,
});

const runAData = () => ({
  metrics: [
    { key: "loss", value: 0.125, timestamp: 1700000000003, step: 3 },
    { key: "acc", value: 0.75, timestamp: 1700000000002, step: 2 },
  ],
  params: [
    { key: "lr", value: "0.01" },
    { key: "optimizer", value: "adam" },
    { key: "batch_size", value: "32" },
  ],
  tags: [
    { key: "stage", value: "dev" },
    { key: "mlflow.runName", value: "run-a" },
    { key: "model", value: "mlp" },
  ],
});
const finishedRunA = () => ({
  info: info(runA, "run-a", { status: "FINISHED", start_time: 1700000000000, end_time: 1700000060000 }),
  data: runAData(),
  inputs: {},
});
const runBEntry = (lifecycle_stage = "active") => ({
  info: info(runB, runBName, { start_time: 1700000001000, lifecycle_stage }),
  data: {
    metrics: [
      { key: "loss", value: 0.4, timestamp: 1700000000000, step: 0 },
      { key: "weird", value: -MAX, timestamp: 1700000000000, step: 2 },
    ],
    params: [{ key: "lr", value: "0.1" }],
    tags: [{ key: "mlflow.runName", value: runBName }],
  },
  inputs: {},
});

describe("MLflow wire replay", () => {
  it("experiments/create with tags", async () => {
    const res = await post("experiments/create", { name: NAME, tags: [{ key: "team", value: "demo" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/application\/json/);
    experimentId = res.json.experiment_id;
    expect(experimentId).toMatch(/^[1-9]\d*$/);
    expectWire(res.json, { experiment_id: experimentId });
  });

  it("experiments/create: duplicate name and missing name", async () => {
    const dup = await post("experiments/create", { name: NAME });
    expect(dup.status).toBe(400);
    expect(dup.json.error_code).toBe("RESOURCE_ALREADY_EXISTS");
    expect(dup.json.message).toMatch(/^Experiment\(name=demo-exp-1795943773\) already exists\./);
    const missing = await post("experiments/create", {});
    expect(missing.status).toBe(400);
    expectWire(missing.json, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    });
  });

  it("experiments/get, unknown id, get-by-name, search", async () => {
    const res = await get("experiments/get", { experiment_id: experimentId });
    expect(res.status).toBe(200);
    const experiment = {
      experiment_id: experimentId,
      name: NAME,
      artifact_location: `mlflow-artifacts:/${experimentId}`,
      lifecycle_stage: "active",
      last_update_time: res.json.experiment.last_update_time,
      creation_time: res.json.experiment.creation_time,
      tags: [{ key: "team", value: "demo" }],
    };
    expect(Math.abs(experiment.creation_time - Date.now())).toBeLessThan(60_000);
    expectWire(res.json, { experiment });

    const unknown = await get("experiments/get", { experiment_id: "999999999" });
    expect(unknown.status).toBe(404);
    expectWire(unknown.json, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "No Experiment with id=999999999 exists" });

    expectWire((await get("experiments/get-by-name", { experiment_name: NAME })).json, { experiment });
    const search = await post("experiments/search", { max_results: 2, filter: "name LIKE 'demo-exp-%'", order_by: ["creation_time DESC"] });
    expectWire(search.json, { experiments: [experiment] });
  });

  it("runs/create: named, unnamed, unknown experiment", async () => {
    const a = await post("runs/create", { experiment_id: experimentId, run_name: "run-a", start_time: 1700000000000, tags: [{ key: "stage", value: "dev" }] });
    expect(a.status).toBe(200);
    runA = a.json.run.info.run_id;
    expect(runA).toMatch(/^[0-9a-f]{32}$/);
    expectWire(a.json, {
      run: {
        info: info(runA, "run-a", { start_time: 1700000000000 }),
        data: {
          tags: [
            { key: "stage", value: "dev" },
            { key: "mlflow.runName", value: "run-a" },
          ],
        },
      },
    });

    const b = await post("runs/create", { experiment_id: experimentId, start_time: 1700000001000 });
    runB = b.json.run.info.run_id;
    runBName = b.json.run.info.run_name;
    expect(runBName).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expectWire(b.json, { run: { info: info(runB, runBName, { start_time: 1700000001000 }), data: { tags: [{ key: "mlflow.runName", value: runBName }] } } });

    const unknown = await post("runs/create", { experiment_id: "999999999", start_time: 1700000000000 });
    expect(unknown.status).toBe(404);
    expectWire(unknown.json, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "No Experiment with id=999999999 exists" });
  });

  it("runs/log-batch: metrics, params, tags; NaN and Infinity; param rules; errors", async () => {
    const ok = await post("runs/log-batch", {
      run_id: runA,
      metrics: [
        { key: "loss", value: 0.9, timestamp: 1700000000000, step: 0 },
        { key: "loss", value: 0.5, timestamp: 1700000000001, step: 1 },
        { key: "loss", value: 0.25, timestamp: 1700000000002, step: 2 },
        { key: "acc", value: 0.75, timestamp: 1700000000002, step: 2 },
      ],
      params: [
        { key: "lr", value: "0.01" },
        { key: "optimizer", value: "adam" },
      ],
      tags: [{ key: "model", value: "mlp" }],
    });
    expect([ok.status, ok.text]).toEqual([200, "{}"]);
    expect((await post("runs/log-batch", { run_id: runB, metrics: [{ key: "loss", value: 0.4, timestamp: 1700000000000, step: 0 }], params: [{ key: "lr", value: "0.1" }] })).text).toBe(
      "{}",
    );
    const weird = await post("runs/log-batch", {
      run_id: runB,
      metrics: [
        { key: "weird", value: "NaN", timestamp: 1700000000000, step: 0 },
        { key: "weird", value: "Infinity", timestamp: 1700000000000, step: 1 },
        { key: "weird", value: "-Infinity", timestamp: 1700000000000, step: 2 },
      ],
    });
    expect(weird.text).toBe("{}");

    const changed = await post("runs/log-batch", { run_id: runA, params: [{ key: "lr", value: "0.02" }] });
    expect(changed.status).toBe(400);
    expectWire(changed.json, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: `Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.01', 'new_value': '0.02'}]' for run ID='${runA}'.`,
    });
    expect((await post("runs/log-batch", { run_id: runA, params: [{ key: "lr", value: "0.01" }] })).text).toBe("{}");

    const missing = await post("runs/log-batch", { metrics: [] });
    expect(missing.status).toBe(400);
    expectWire(missing.json, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.",
    });
    const unknown = await post("runs/log-batch", { run_id: "0123456789abcdef0123456789abcdef", metrics: [{ key: "m", value: 1, timestamp: 1700000000000, step: 0 }] });
    expect(unknown.status).toBe(404);
    expectWire(unknown.json, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Run with id=0123456789abcdef0123456789abcdef not found" });
  });

  it("runs/log-batch: 1001 metrics is refused and writes nothing", async () => {
    const before = await env.DB.prepare("select count(*) as n from metrics").first("n");
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: 1700000000000 + i, step: i }));
    const res = await post("runs/log-batch", { run_id: runA, metrics });
    expect(res.status).toBe(400);
    expectWire(res.json, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.",
    });
    expect(await env.DB.prepare("select count(*) as n from metrics").first("n")).toBe(before);
    expect(await env.DB.prepare("select count(*) as n from latest_metrics where key like 'm_'").first("n")).toBe(0);
  });

  it("runs/log-metric, missing timestamp, log-parameter, set-tag, delete-tag", async () => {
    expect((await post("runs/log-metric", { run_id: runA, key: "loss", value: 0.125, timestamp: 1700000000003, step: 3 })).text).toBe("{}");
    const missing = await post("runs/log-metric", { run_id: runA, key: "loss", value: 0.1 });
    expect(missing.status).toBe(400);
    expectWire(missing.json, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: "Missing value for required parameter 'timestamp'. See the API docs for more information about request parameters.",
    });
    expect((await post("runs/log-parameter", { run_id: runA, key: "batch_size", value: "32" })).text).toBe("{}");
    expect((await post("runs/set-tag", { run_id: runA, key: "owner", value: "bench" })).text).toBe("{}");
    expect((await post("runs/delete-tag", { run_id: runA, key: "owner" })).text).toBe("{}");
  });

  it("metrics/get-history: whole history, NaN/Infinity, paging ignored, unknown key or run is {}", async () => {
    const loss = {
      metrics: [
        { key: "loss", value: 0.9, timestamp: 1700000000000, step: 0 },
        { key: "loss", value: 0.5, timestamp: 1700000000001, step: 1 },
        { key: "loss", value: 0.25, timestamp: 1700000000002, step: 2 },
        { key: "loss", value: 0.125, timestamp: 1700000000003, step: 3 },
      ],
    };
    expectWire((await get("metrics/get-history", { run_id: runA, metric_key: "loss" })).json, loss);
    const weird = await get("metrics/get-history", { run_id: runB, metric_key: "weird" });
    expect(weird.text).toContain('"value":1.7976931348623157e+308');
    expectWire(weird.json, {
      metrics: [
        { key: "weird", value: "NaN", timestamp: 1700000000000, step: 0 },
        { key: "weird", value: MAX, timestamp: 1700000000000, step: 1 },
        { key: "weird", value: -MAX, timestamp: 1700000000000, step: 2 },
      ],
    });
    expectWire((await get("metrics/get-history", { run_id: runA, metric_key: "loss", max_results: "2" })).json, loss);
    for (const query of [
      { run_id: runA, metric_key: "nope" },
      { run_id: "0123456789abcdef0123456789abcdef", metric_key: "loss" },
    ]) {
      const res = await get("metrics/get-history", query);
      expect([res.status, res.text]).toEqual([200, "{}"]);
    }
  });

  it("runs/get, unknown run, runs/update", async () => {
    const res = await get("runs/get", { run_id: runA });
    expectWire(res.json, { run: { info: info(runA, "run-a", { start_time: 1700000000000 }), data: runAData(), inputs: {} } });
    const unknown = await get("runs/get", { run_id: "0123456789abcdef0123456789abcdef" });
    expect(unknown.status).toBe(404);
    expectWire(unknown.json, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Run with id=0123456789abcdef0123456789abcdef not found" });
    const updated = await post("runs/update", { run_id: runA, status: "FINISHED", end_time: 1700000060000 });
    expectWire(updated.json, { run_info: finishedRunA().info });
  });

  it("runs/search: filter + order_by, pagination, tag/attribute filter, no match, bad filter, bad order_by", async () => {
    const ranked = await post("runs/search", { experiment_ids: [experimentId], filter: "metrics.loss < 1 and params.lr != '0.5'", order_by: ["metrics.loss ASC"], max_results: 10 });
    expectWire(ranked.json, { runs: [finishedRunA(), runBEntry()] });

    const first = await post("runs/search", { experiment_ids: [experimentId], order_by: ["attributes.start_time DESC"], max_results: 1 });
    // MLflow's tokens are offsets, ours cursors (the run the page ended with): opaque to the client either way.
    expectWire(first.json, { runs: [runBEntry()], next_page_token: first.json.next_page_token });
    expect(first.json.next_page_token).toMatch(/^[\w-]{20,}$/);
    const second = await post("runs/search", { experiment_ids: [experimentId], order_by: ["attributes.start_time DESC"], max_results: 1, page_token: first.json.next_page_token });
    expectWire(second.json, { runs: [finishedRunA()], next_page_token: second.json.next_page_token });
    const third = await post("runs/search", { experiment_ids: [experimentId], order_by: ["attributes.start_time DESC"], max_results: 1, page_token: second.json.next_page_token });
    expect([third.status, third.text]).toEqual([200, "{}"]);

    const tagged = await post("runs/search", { experiment_ids: [experimentId], filter: "tags.model = 'mlp' and attributes.status = 'FINISHED'" });
    expectWire(tagged.json, { runs: [finishedRunA()] });

    const none = await post("runs/search", { experiment_ids: [experimentId], filter: "metrics.loss > 100" });
    expect([none.status, none.text]).toEqual([200, "{}"]);

    const badFilter = await post("runs/search", { experiment_ids: [experimentId], filter: "metrics.loss <<< 1" });
    expect(badFilter.status).toBe(400);
    expectWire(badFilter.json, { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid comparator '<<<' not one of '{'!=', '>', '>=', '=', '<', '<='}" });
    const badOrder = await post("runs/search", { experiment_ids: [experimentId], order_by: ["metrics.loss SIDEWAYS"] });
    expect(badOrder.status).toBe(400);
    expectWire(badOrder.json, { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid ordering key in order_by clause 'metrics.loss SIDEWAYS'." });
  });

  it("runs/delete, ACTIVE_ONLY, DELETED_ONLY, restore", async () => {
    expect((await post("runs/delete", { run_id: runB })).text).toBe("{}");
    expectWire((await post("runs/search", { experiment_ids: [experimentId] })).json, { runs: [finishedRunA()] });
    expectWire((await post("runs/search", { experiment_ids: [experimentId], run_view_type: "DELETED_ONLY" })).json, { runs: [runBEntry("deleted")] });
    expect((await post("runs/restore", { run_id: runB })).text).toBe("{}");
    const all = await post("runs/search", { experiment_ids: [experimentId], run_view_type: "ALL" });
    expectWire(all.json, { runs: [runBEntry(), finishedRunA()] });
  });

  it("unknown endpoint is a JSON 404, a wrong method a JSON 405, and /ajax-api serves the same API", async () => {
    const unknown = await post("runs/does-not-exist", {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe("ENDPOINT_NOT_FOUND");
    const wrongMethod = await get("runs/create");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json.error_code).toBe("METHOD_NOT_ALLOWED");
    const ajax = await get("runs/get", { run_id: runA }, { prefix: "/ajax-api/2.0/mlflow" });
    expectWire(ajax.json, { run: finishedRunA() });
  });
});
