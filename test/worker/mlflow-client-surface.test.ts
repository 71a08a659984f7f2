/**
 * The rest of the MLflow 2.17.2 client surface: answers recorded with curl against MLflow's own
 * server (serve.sh) for the same calls, quoted in the expectations. Over-long params and tags cut,
 * get-history's order, get-history-bulk-interval's sampling, log-inputs, artifacts/list, and 501 for
 * what the tracker does not serve.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, get, post } from "./support/call";

async function newRun(name: string) {
  return (await post("runs/create", { experiment_id: "0", run_name: name, start_time: 1 })).json.run.info.run_id as string;
}

const runData = async (runId: string) => (await get("runs/get", { run_id: runId })).json.run;

describe("over-long param and tag values are cut as MLflow's server cuts them", () => {
  it("cuts log-parameter, set-tag and log-batch values to 6,000 and 8,000 characters", async () => {
    const runId = await newRun("cut-values");
    expect((await post("runs/log-parameter", { run_id: runId, key: "lp", value: "p".repeat(6001) })).text).toBe("{}");
    expect((await post("runs/set-tag", { run_id: runId, key: "lt", value: "t".repeat(9000) })).text).toBe("{}");
    const batch = { run_id: runId, params: [{ key: "bp", value: "q".repeat(7000) }], tags: [{ key: "bt", value: "u".repeat(8001) }] };
    expect((await post("runs/log-batch", batch)).text).toBe("{}");
    // MLflow: {'lp': 6000, 'bp': 6000} and {'lt': 8000, 'bt': 8000}.
    const data = (await runData(runId)).data;
    expect(Object.fromEntries(data.params.map((p: { key: string; value: string }) => [p.key, p.value.length]))).toEqual({ lp: 6000, bp: 6000 });
    const tagLengths = Object.fromEntries(data.tags.map((t: { key: string; value: string }) => [t.key, t.value.length]));
    expect([tagLengths.lt, tagLengths.bt]).toEqual([8000, 8000]);
    // Logging the same long value again is no change (MLflow compares the cut value); another one is.
    expect((await post("runs/log-parameter", { run_id: runId, key: "lp", value: `${"p".repeat(6000)}X` })).status).toBe(200);
    expect((await post("runs/log-parameter", { run_id: runId, key: "lp", value: `${"p".repeat(5999)}X` })).status).toBe(400);
  });
});

describe("metric history", () => {
  let runId: string;
  beforeAll(async () => {
    runId = await newRun("history-order");
    const points = [
      [5, 300, 0],
      [3, 100, 2],
      [1, 200, 1],
      [0.5, 100, 1],
      [9, 100, 1],
      [-1, 50, 7],
      [4, 10, 3],
    ].map(([value, timestamp, step]) => ({ key: "m", value, timestamp, step }));
    await post("runs/log-batch", { run_id: runId, metrics: points });
  });

  it("comes back from get-history in MLflow's order: timestamp, step, value", async () => {
    const res = await get("metrics/get-history", { run_id: runId, metric_key: "m" });
    // MLflow: [(3, 10, 4.0), (7, 50, -1.0), (1, 100, 0.5), (1, 100, 9.0), (2, 100, 3.0), (1, 200, 1.0), (0, 300, 5.0)]
    expect(res.json.metrics.map((m: { step: number; timestamp: number; value: number }) => [m.step, m.timestamp, m.value])).toEqual([
      [3, 10, 4],
      [7, 50, -1],
      [1, 100, 0.5],
      [1, 100, 9],
      [2, 100, 3],
      [1, 200, 1],
      [0, 300, 5],
    ]);
  });

  const bulk = (query: string) => call("GET", `/api/2.0/mlflow/metrics/get-history-bulk-interval?${query}`).then(({ status, json }) => ({ status, json }));

  it("samples get-history-bulk-interval's steps as MLflow does, keeping each run's first and last", async () => {
    const sampled = await bulk(`run_ids=${runId}&metric_key=m&max_results=2`);
    // MLflow, steps [0, 1, 2, 3, 7] sampled to 2: steps 0, 2 and 7, each point with its run_id.
    expect(sampled.json).toEqual({
      metrics: [
        { key: "m", value: 5, timestamp: 300, step: 0, run_id: runId },
        { key: "m", value: 3, timestamp: 100, step: 2, run_id: runId },
        { key: "m", value: -1, timestamp: 50, step: 7, run_id: runId },
      ],
    });
    const ranged = await bulk(`run_ids=${runId}&metric_key=m&start_step=1&end_step=2`);
    expect(ranged.json.metrics.map((m: { step: number; value: number }) => [m.step, m.value])).toEqual([
      [1, 0.5],
      [1, 9],
      [1, 1],
      [2, 3],
    ]);
    expect((await bulk(`run_ids=${runId}&metric_key=nope`)).json).toEqual({});
    expect((await bulk(`run_ids=${"0".repeat(32)}&metric_key=m`)).json).toEqual({});
  });

  it("refuses what MLflow refuses, in its words", async () => {
    expect(await bulk("metric_key=m")).toEqual({
      status: 400,
      json: { error_code: "INVALID_PARAMETER_VALUE", message: "Missing value for required parameter 'run_ids'. See the API docs for more information about request parameters." },
    });
    expect((await bulk(`run_ids=${runId}&metric_key=m&start_step=1`)).json.message).toBe("If either start step or end step are specified, both must be specified.");
    expect((await bulk(`run_ids=${runId}&metric_key=m&max_results=0`)).json.message).toBe("max_results must be between 1 and 2500.");
    expect((await bulk(`run_ids=${runId}&metric_key=m&start_step=3&end_step=2`)).json.message).toBe("end_step must be greater than start_step. Found start_step=3 and end_step=2.");
    const many = Array.from({ length: 101 }, (_, i) => `run_ids=r${i}`).join("&");
    expect((await bulk(`${many}&metric_key=m`)).status).toBe(400);
  });
});

describe("runs/log-inputs", () => {
  it("stores datasets and input tags in MLflow's shape, returned by runs/get and runs/search", async () => {
    const runId = await newRun("with-inputs");
    const first = {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: "mlflow.data.context", value: "training" }],
          dataset: { name: "hcrl_sa", digest: "abc123", source_type: "local", source: '{"uri": "/data/x"}', schema: "{}", profile: '{"num_rows": 5}' },
        },
        { dataset: { name: "d2", digest: "d", source_type: "http", source: "s" } },
      ],
    };
    expect((await post("runs/log-inputs", first)).text).toBe("{}");
    // Logged again with other tags and source: MLflow keeps the first dataset and adds no input tags.
    const again = {
      run_id: runId,
      datasets: [{ tags: [{ key: "mlflow.data.context", value: "eval" }], dataset: { name: "hcrl_sa", digest: "abc123", source_type: "local", source: "other" } }],
    };
    expect((await post("runs/log-inputs", again)).text).toBe("{}");
    const expected = {
      dataset_inputs: [
        {
          tags: [{ key: "mlflow.data.context", value: "training" }],
          dataset: { name: "hcrl_sa", digest: "abc123", source_type: "local", source: '{"uri": "/data/x"}', schema: "{}", profile: '{"num_rows": 5}' },
        },
        { dataset: { name: "d2", digest: "d", source_type: "http", source: "s" } },
      ],
    };
    expect((await runData(runId)).inputs).toEqual(expected);
    const search = await post("runs/search", { experiment_ids: ["0"], filter: "attributes.run_name = 'with-inputs'" });
    expect(search.json.runs[0].inputs).toEqual(expected);
    const other = await newRun("without-inputs");
    expect((await runData(other)).inputs).toEqual({});
  });

  it("refuses what MLflow refuses and writes nothing", async () => {
    const runId = await newRun("bad-inputs");
    const count = async () =>
      (await env.DB.prepare("select (select count(*) from datasets) + (select count(*) from inputs) + (select count(*) from input_tags) n").first<{ n: number }>())!.n;
    const before = await count();
    const missing = await post("runs/log-inputs", { run_id: runId });
    expect(missing.json).toEqual({
      error_code: "INVALID_PARAMETER_VALUE",
      message: "Missing value for required parameter 'datasets'. See the API docs for more information about request parameters.",
    });
    expect((await post("runs/log-inputs", { run_id: "nope", datasets: [] })).json).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "Run with id=nope not found" });
    const longDigest = await post("runs/log-inputs", { run_id: runId, datasets: [{ dataset: { name: "n", digest: "d".repeat(37), source_type: "t", source: "s" } }] });
    expect(longDigest.status).toBe(400);
    expect((await post("runs/log-inputs", { run_id: runId, datasets: [] }, { token: null })).status).toBe(401);
    await post("runs/delete", { run_id: runId });
    const deleted = await post("runs/log-inputs", { run_id: runId, datasets: [{ dataset: { name: "n", digest: "d", source_type: "t", source: "s" } }] });
    expect(deleted.status).toBe(400);
    expect(await count()).toBe(before);
  });
});

describe("artifacts/list (the tracking API's listing)", () => {
  it("lists paths relative to the run's root, with root_uri, as MLflow does", async () => {
    const runId = await newRun("tracking-list");
    const put = (path: string, body: string) => call("PUT", `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/${path}`, { token: ADMIN_TOKEN, body });
    await put("sub/f.txt", "x");
    await put("top.txt", "yy");
    const root = `mlflow-artifacts:/0/${runId}/artifacts`;
    expect((await get("artifacts/list", { run_id: runId })).json).toEqual({
      root_uri: root,
      files: [
        { path: "sub", is_dir: true },
        { path: "top.txt", is_dir: false, file_size: 2 },
      ],
    });
    expect((await get("artifacts/list", { run_id: runId, path: "sub" })).json).toEqual({ root_uri: root, files: [{ path: "sub/f.txt", is_dir: false, file_size: 1 }] });
    expect((await get("artifacts/list", { run_id: runId, path: "nothing" })).json).toEqual({ root_uri: root });
    expect((await get("artifacts/list", { run_id: runId, path: "../x" })).json).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    expect((await get("artifacts/list", { run_id: "nope" })).json).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "Run with id=nope not found" });
  });
});

describe("endpoints the tracker does not serve", () => {
  it.each([
    ["GET", "/api/2.0/mlflow/registered-models/search"],
    ["POST", "/api/2.0/mlflow/registered-models/create"],
    ["PATCH", "/api/2.0/mlflow/model-versions/update"],
    ["GET", "/api/2.0/mlflow/traces"],
    ["GET", "/api/2.0/mlflow/traces/tr-1/info"],
    ["POST", "/api/2.0/mlflow/runs/log-model"],
    ["POST", "/ajax-api/2.0/mlflow/gateway-proxy"],
    ["POST", "/ajax-api/2.0/mlflow/experiments/search-datasets"],
    ["POST", "/graphql"],
    ["GET", "/get-artifact"],
  ])("answers %s %s 501 NOT_IMPLEMENTED in MLflow's error shape, naming the feature", async (method, path) => {
    const res = await call(method, path, { token: ADMIN_TOKEN });
    const json = res.json as { error_code: string; message: string };
    expect(res.status).toBe(501);
    expect(Object.keys(json)).toEqual(["error_code", "message"]);
    expect(json.error_code).toBe("NOT_IMPLEMENTED");
    expect(json.message).toContain(`is not supported by this tracker (${method} ${path})`);
  });

  it("still answers 405 for a known endpoint asked with another method", async () => {
    const res = await call("PUT", "/api/2.0/mlflow/registered-models/search");
    expect(res.status).toBe(405);
  });
});
