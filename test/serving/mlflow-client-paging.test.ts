/**
 * The real MLflow 2.17.2 Python client against the local Worker: it follows the next_page_token of
 * a history longer than one page (25,000 points) and of runs/search pages cut short by size, so it
 * gets every point and every run. Skipped, saying why, when the client is not installed here.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const CLIENT = "/work/shared/mlflow-client/site";
const hasClient = existsSync(CLIENT) && existsSync("/usr/bin/python3");
let server: TestServer;

beforeAll(async () => {
  if (hasClient) server = await startTestServer({ publicReadLimit: 1_000_000 });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const SCRIPT = String.raw`
import json, mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
client = MlflowClient()
exp = client.create_experiment("client-paging")
run = client.create_run(exp, run_name="long")
points = 26_000
for start in range(0, points, 1000):
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1700000000000 + s, s) for s in range(start, start + 1000)])
history = client.get_metric_history(run.info.run_id, "loss")
# 40 runs of 78 params of 2,000 characters: ~156 kB each, so runs/search cuts its pages by size.
for i in range(40):
    r = client.create_run(exp, run_name=f"big-{i:02d}", start_time=1700000000000 + i)
    client.log_batch(r.info.run_id, params=[Param(f"config_{k:02d}", str(k) * 2000) for k in range(78)])
found = mlflow.search_runs([exp], max_results=1000, output_format="list")
print(json.dumps({"history": [m.step for m in history], "runs": [r.info.run_name for r in found]}))
`;

it.skipIf(!hasClient)(
  "MLflow's client reads a 26,000-point history and a size-cut search to the end",
  () => {
    const result = spawnSync("/usr/bin/python3", ["-c", SCRIPT], {
      env: { ...process.env, PYTHONPATH: CLIENT, MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: server.adminToken },
      encoding: "utf8",
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(result.status, result.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(out.history).toEqual(Array.from({ length: 26_000 }, (_, s) => s));
    // Newest first: "long" started now, the big runs at their given (2023) start times.
    expect(out.runs).toEqual(["long", ...Array.from({ length: 40 }, (_, i) => `big-${String(39 - i).padStart(2, "0")}`)]);
  },
  300_000,
);
