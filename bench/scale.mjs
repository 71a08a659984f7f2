// Production limits at scale: the largest answers over 100,000 runs with 78 params each (and one
// metric key with 1,000,000 points), with the Worker process's peak memory while each is served.
//   runs/search max_results 50,000 (MLflow's maximum), next_page_token followed as MLflow's client does;
//   GET /api/v1/export, its first pages (the first ones hold the run with the 1,000,000-point key);
//   metrics/get-history of that key, followed to the end.
// Memory, two figures: the Worker isolate's JS heap (V8's Runtime.getHeapUsage through workerd's
// DevTools inspector, bench/lib/isolate-heap.mjs, ~every 10 ms), which is what a Worker's 128 MB
// bounds; and the resident set (VmRSS, /proc) of the server's workerd process, sampled every 5 ms,
// which also holds the local D1 (SQLite and its page cache) and so only bounds the isolate from above.
// `node --experimental-websocket bench/scale.mjs [--export-pages 40] [--state DIR]` writes bench/results/scale.json and the
// "Production limits at scale" block of bench/README.md. With --state the seeded database is kept in
// DIR and reused by the next run with the same DIR (seeding takes ~20 minutes on a loaded machine);
// `--seed-only` stops after seeding.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MLFLOW } from "./lib/api.mjs";
import { createClient, expectOk, jsonOf } from "./lib/http.mjs";
import { isolateHeap } from "./lib/isolate-heap.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { SEED, seedLocalD1 } from "./lib/seed.mjs";
import { ADMIN_TOKEN, removeDir, serverProcesses, tempStateDir, withServer } from "./lib/server.mjs";
import { fmt } from "./lib/stats.mjs";

const { values: args } = parseArgs({ options: { "export-pages": { type: "string", default: "40" }, state: { type: "string" }, "seed-only": { type: "boolean", default: false } } });
const EXPORT_PAGES = Number(args["export-pages"]);
const LONG_HISTORY = 1_000_000;
const MAX_RESULTS = 50_000;

const rssMb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
};

/**
 * Runs fn while sampling the workerd RSS and the Worker isolate's heap; returns fn's result with the
 * baseline and peak of each in MB.
 */
async function sampled(pid, heap, fn) {
  const baseline = rssMb(pid);
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 5);
  const started = performance.now();
  try {
    const { value, ...isolate } = await heap.sampled(fn);
    return {
      ...value,
      seconds: (performance.now() - started) / 1000,
      baselineMb: baseline,
      peakMb: Math.max(peak, rssMb(pid)),
      heapBaselineMb: isolate.baselineMb,
      heapPeakMb: isolate.peakMb,
      heapSamples: isolate.samples,
    };
  } finally {
    clearInterval(timer);
  }
}

/** Pages of one kind of request, each reply's size and rows read noted. */
async function pages(client, first, next, count, limit = 1000) {
  const out = { pages: 0, items: 0, maxPageBytes: 0, rowsRead: 0 };
  let request = first;
  while (request && out.pages < limit) {
    const reply = expectOk(await client.request({ ...request, timeoutMs: 120_000 }), request.path);
    const body = jsonOf(reply, request.path);
    out.pages++;
    out.items += count(body);
    out.maxPageBytes = Math.max(out.maxPageBytes, Buffer.byteLength(reply.text));
    out.rowsRead += reply.rowsRead;
    request = next(body, out);
  }
  return out;
}

/** Seeds persistTo, or reuses the seed a run with the same --state made (its seeding time noted there). */
function seeded(persistTo) {
  const marker = join(persistTo, "seeded.json");
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, "utf8")).seedSeconds;
  const seedSeconds = seedLocalD1(persistTo, { paramsOnEveryRun: true, longHistory: LONG_HISTORY });
  writeFileSync(marker, JSON.stringify({ seedSeconds }));
  return seedSeconds;
}

async function main() {
  const persistTo = args.state ?? tempStateDir("scale");
  const result = { environment: environmentNote() };
  try {
    result.seedSeconds = seeded(persistTo);
    console.log(`seeded in ${fmt(result.seedSeconds)} s`);
    if (args["seed-only"]) return;
    await withServer({ persistTo, inspectorPort: 0 }, async (server) => {
      const workerd = serverProcesses(persistTo).find((p) => p.comm === "workerd");
      if (!workerd) throw new Error("no workerd process found for the server");
      const heap = await isolateHeap(server.output);
      const client = createClient(server.url, { token: ADMIN_TOKEN, maxSockets: 1 });
      try {
        // Warm-up: one small request of each kind.
        expectOk(await client.request({ method: "POST", path: `${MLFLOW}/runs/search`, body: { experiment_ids: [String(SEED.experimentId)], max_results: 10 } }), "warm-up");
        const search = { method: "POST", path: `${MLFLOW}/runs/search` };
        const searchBody = (token, remaining) => ({ experiment_ids: [String(SEED.experimentId)], max_results: remaining, ...(token && { page_token: token }) });
        result.search = await sampled(workerd.pid, heap, () =>
          pages(
            client,
            { ...search, body: searchBody(undefined, MAX_RESULTS) },
            (body, so) => (body.next_page_token && so.items < MAX_RESULTS ? { ...search, body: searchBody(body.next_page_token, MAX_RESULTS - so.items) } : undefined),
            (body) => body.runs?.length ?? 0,
          ),
        );
        console.log("search", result.search);
        const exportPath = (token) => `/api/v1/export${token ? `?page_token=${token}` : ""}`;
        result.export = await sampled(workerd.pid, heap, () =>
          pages(
            client,
            { method: "GET", path: exportPath(), auth: false },
            (body) => (body.next_page_token ? { method: "GET", path: exportPath(body.next_page_token), auth: false } : undefined),
            (body) => body.runs.length,
            EXPORT_PAGES,
          ),
        );
        console.log("export", result.export);
        const first = jsonOf(
          expectOk(
            await client.request({ method: "POST", path: `${MLFLOW}/runs/search`, body: { experiment_ids: [String(SEED.experimentId)], filter: "metrics.long_loss > 0", max_results: 1 } }),
            "find",
          ),
          "find",
        );
        const runId = first.runs[0].info.run_id;
        const historyPath = (token) => `${MLFLOW}/metrics/get-history?run_id=${runId}&metric_key=long_loss&max_results=25000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`;
        result.history = await sampled(workerd.pid, heap, () =>
          pages(
            client,
            { method: "GET", path: historyPath() },
            (body) => (body.next_page_token ? { method: "GET", path: historyPath(body.next_page_token) } : undefined),
            (body) => body.metrics?.length ?? 0,
          ),
        );
        console.log("history", result.history);
      } finally {
        client.close();
        heap.close();
      }
    });
  } finally {
    if (!args.state) removeDir(persistTo);
  }
  if (args["seed-only"]) return;
  saveJson("scale", result);
  const row = (name, r, unit) => [
    name,
    `${fmt(r.items)} ${unit} in ${r.pages} pages`,
    `${fmt(r.maxPageBytes / 1024 / 1024)} MB`,
    fmt(r.seconds),
    `${fmt(r.heapBaselineMb)} -> ${fmt(r.heapPeakMb)} (${fmt(r.heapSamples)} samples)`,
    `${fmt(r.baselineMb)} -> ${fmt(r.peakMb)} (+${fmt(r.peakMb - r.baselineMb)})`,
    fmt(r.rowsRead),
  ];
  const env = result.environment;
  writeReadmeBlock(
    "scale",
    "Production limits at scale",
    `Measured ${env.at} (Node ${env.node}, ${env.cpus}; load average before: ${env.loadavg}; busiest processes: ${env.topProcesses}).
${SEED.runs.toLocaleString("en-US")} runs seeded by \`bench/lib/seed.mjs\` with 78 params on every run (7.8 million params) and one key of ${LONG_HISTORY.toLocaleString("en-US")} points (seeding took ${fmt(result.seedSeconds)} s). One client, one request at a time, tokens followed to the end (the export: its first ${EXPORT_PAGES} pages).

${table(
  [
    "answer",
    "returned",
    "largest page",
    "seconds",
    "Worker isolate JS heap MB: idle -> peak",
    "workerd process RSS MB (isolate + local D1): idle -> peak (+delta)",
    "D1 rows read (all pages)",
  ],
  [
    row(`runs/search max_results ${MAX_RESULTS.toLocaleString("en-US")}`, result.search, "runs"),
    row("GET /api/v1/export", result.export, "runs"),
    row("metrics/get-history, 1,000,000 points", result.history, "points"),
  ],
)}`,
  );
}

await main();
