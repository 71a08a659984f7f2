// runs/search side by side with MLflow 2.17.2's own server (../shared/mlflow-client/serve.sh), in the
// same run: both get the same 2,000 runs through the same MLflow REST calls (runs/create with 9 tags,
// runs/log-batch with 78 params and 4 metrics), then the same searches, sequentially; the answers'
// run names are compared, and latency p50 / p95 and the Worker's D1 rows read are reported.
// `node bench/search.mjs [--runs 2000] [--samples 50] [--mlflow-port 9301]` writes
// bench/results/search.json and the "runs/search against MLflow" block of bench/README.md.
import { parseArgs } from "node:util";
import { MLFLOW, T0 } from "./lib/api.mjs";
import { createClient, expectOk, jsonOf } from "./lib/http.mjs";
import { startMlflow } from "./lib/mlflow.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { ADMIN_TOKEN, withServer } from "./lib/server.mjs";
import { fmt, latencySummary, pool } from "./lib/stats.mjs";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "2000" }, samples: { type: "string", default: "50" }, "mlflow-port": { type: "string", default: "9301" } },
});
const RUNS = Number(args.runs);
const SAMPLES = Number(args.samples);
const WARMUP = 10;
const PARAMS = 78;

export const SEARCHES = {
  "filter `tags.group = 'g1' and params.lr = '3'`": { filter: "tags.group = 'g1' and params.lr = '3'", max_results: 100 },
  "filter `params.lr = '3' and tags.group = 'g1'`": { filter: "params.lr = '3' and tags.group = 'g1'", max_results: 100 },
  "order_by `metrics.gat_f1 DESC`, top 100": { order_by: ["metrics.gat_f1 DESC"], max_results: 100 },
  "filter `tags.group = 'g1'`, order_by `metrics.gat_f1 DESC`, top 10": { filter: "tags.group = 'g1'", order_by: ["metrics.gat_f1 DESC"], max_results: 10 },
};

/** Run i: group g(i % 10), lr i % 7, a config.json's 78 params, the pipeline's 9 tags, 4 metrics. */
function runCalls(i, experimentId) {
  const tags = [
    ["group", `g${i % 10}`],
    ["dataset", `ds_${i % 40}`],
    ["model_size", i % 2 ? "student" : "teacher"],
    ["stage", "evaluation"],
    ["use_kd", String(i % 3 === 0)],
    ["model_arch", "gat"],
    ["status", "complete"],
    ["start_time", new Date(T0 + i * 60_000).toISOString()],
  ].map(([key, value]) => ({ key, value }));
  const params = [
    { key: "lr", value: String(i % 7) },
    ...Array.from({ length: PARAMS - 1 }, (_, k) => ({ key: `config_${String(k + 1).padStart(2, "0")}`, value: String((i * 7 + k) % 1000) })),
  ];
  const value = (salt) => ((i * 2654435761 + salt * 40503) % 1000003) / 1000003;
  const metrics = ["gat_f1", "gat_accuracy", "fusion_f1", "vgae_auc"].map((key, k) => ({ key, value: value(k + 1), timestamp: T0 + i * 60_000 + 1000, step: 9 }));
  return {
    create: { experiment_id: experimentId, run_name: `run-${String(i).padStart(5, "0")}`, start_time: T0 + i * 60_000, tags },
    batch: (runId) => ({ run_id: runId, params, metrics }),
  };
}

async function seed(client) {
  const created = await client.request({ method: "POST", path: `${MLFLOW}/experiments/create`, body: { name: "search-bench" } });
  const experimentId = jsonOf(expectOk(created, "experiments/create"), "experiments/create").experiment_id;
  const started = performance.now();
  await pool(RUNS, 8, async (i) => {
    const calls = runCalls(i, experimentId);
    const run = jsonOf(expectOk(await client.request({ method: "POST", path: `${MLFLOW}/runs/create`, body: calls.create }), "runs/create"), "runs/create");
    expectOk(await client.request({ method: "POST", path: `${MLFLOW}/runs/log-batch`, body: calls.batch(run.run.info.run_id) }), "runs/log-batch");
  });
  return { experimentId, seedSeconds: (performance.now() - started) / 1000 };
}

async function measure(client, experimentId) {
  const out = {};
  for (const [name, search] of Object.entries(SEARCHES)) {
    const request = { method: "POST", path: `${MLFLOW}/runs/search`, body: { experiment_ids: [experimentId], ...search } };
    const replies = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const reply = expectOk(await client.request(request), `runs/search ${name}`);
      if (i >= WARMUP) replies.push(reply);
    }
    const runs = jsonOf(replies[0], "runs/search").runs ?? [];
    out[name] = {
      latency: latencySummary(replies.map((r) => r.ms)),
      rowsRead: replies[0].rowsRead,
      names: runs.map((r) => r.info.run_name),
      paramsPerRun: runs[0]?.data.params?.length ?? 0,
    };
  }
  return out;
}

async function main() {
  const port = Number(args["mlflow-port"]);
  const started = await startMlflow(port);
  if (!started) throw new Error("serve.sh (../shared/mlflow-client) is missing: this bench compares with MLflow's own server.");
  const result = { environment: environmentNote(), runs: RUNS, samples: SAMPLES };
  try {
    const mlflow = createClient(`http://127.0.0.1:${port}`, { maxSockets: 8 });
    await withServer({ label: "search" }, async (server) => {
      const ours = createClient(server.url, { token: ADMIN_TOKEN, maxSockets: 8 });
      try {
        // Each server is measured right after its own seeding, while no other request is in flight.
        const oursSeed = await seed(ours);
        console.log(`ours seeded in ${fmt(oursSeed.seedSeconds)} s`);
        result.ours = await measure(ours, oursSeed.experimentId);
        const mlflowSeed = await seed(mlflow);
        console.log(`MLflow seeded in ${fmt(mlflowSeed.seedSeconds)} s`);
        result.mlflow = await measure(mlflow, mlflowSeed.experimentId);
        result.seedSeconds = { ours: oursSeed.seedSeconds, mlflow: mlflowSeed.seedSeconds };
      } finally {
        ours.close();
      }
    });
    mlflow.close();
  } finally {
    started.stop();
  }
  const rows = Object.keys(SEARCHES).map((name) => {
    const [o, m] = [result.ours[name], result.mlflow[name]];
    const same = JSON.stringify(o.names) === JSON.stringify(m.names);
    if (!same) console.warn(`answers differ for ${name}:\n ours   ${o.names.slice(0, 5)}\n mlflow ${m.names.slice(0, 5)}`);
    return [
      name,
      String(o.names.length),
      same ? "yes" : "NO",
      `${fmt(o.latency.p50)} / ${fmt(o.latency.p95)}`,
      `${fmt(m.latency.p50)} / ${fmt(m.latency.p95)}`,
      `${fmt(m.latency.p50 / o.latency.p50)}x`,
      String(o.rowsRead),
    ];
  });
  saveJson("search", result);
  const env = result.environment;
  writeReadmeBlock(
    "search",
    "runs/search against MLflow",
    `Measured ${env.at} (Node ${env.node}, ${env.cpus}; load average before: ${env.loadavg}; busiest processes: ${env.topProcesses}).
${RUNS} runs (78 params, 9 tags, 4 metrics each) seeded into both servers through the same MLflow REST calls (${fmt(result.seedSeconds.ours)} s ours, ${fmt(result.seedSeconds.mlflow)} s MLflow, concurrency 8); then ${WARMUP} warm-up and ${SAMPLES} measured sequential requests per search and server.

${table(["runs/search", "runs returned", "same runs as MLflow", "ours p50 / p95 ms", "MLflow 2.17.2 p50 / p95 ms", "MLflow p50 / ours", "our D1 rows read"], rows)}`,
  );
  console.log(rows.map((r) => r.join("  |  ")).join("\n"));
}

await main();
