// The floor of a log-batch on the local stack, against raw SQLite, in the same run on this machine:
// how much of workerd's busy thread one 1000-point batch takes (workerd runs the Worker, miniflare's
// D1 object and its SQLite on that one thread, so this bounds the points/s a whole core can give)
//   - the tracker's runs/log-batch, as write-speed.mjs sends it (a minted token, concurrency 8);
//   - the least Worker (bench/d1-minimal) on a copy of the tracker's state folder (the same runs),
//     through the same local serving:
//     the body parsed and handed to the store's logBatch (the same D1 batch, no HTTP layer), and
//     the body parsed with nothing written (the local serving alone);
//   - raw SQLite's points per CPU second (write-speed.mjs rawSqlite), which the load does not change.
// `node bench/d1-floor.mjs [--batches 200] [--rounds 3]` writes bench/results/d1-floor.json and the
// "The local D1's floor" block of bench/README.md.
import { cpSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createMlflowRun, experimentId, logBatchBody, MLFLOW, mintToken } from "./lib/api.mjs";
import { createClient } from "./lib/http.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { readProcStat, removeDir, serverProcesses, tempStateDir, withServer } from "./lib/server.mjs";
import { fmt, percentile } from "./lib/stats.mjs";
import { concurrent, POINTS_PER_BATCH, rawSqlite, TARGETS } from "./write-speed.mjs";

const MINIMAL_CONFIG = fileURLToPath(new URL("./d1-minimal/wrangler.toml", import.meta.url));
const RUNS = 8;
const CONCURRENCY = 8;
const median = (values) => percentile(values, 50);

/** CPU seconds of the workerd process's main thread (the one that runs every isolate). */
function mainThreadCpu(persistTo) {
  const workerd = serverProcesses(persistTo).find((p) => p.comm === "workerd");
  if (!workerd) throw new Error("no workerd process found for the server");
  return () => readProcStat(`/proc/${workerd.pid}/task/${workerd.pid}/stat`).cpu;
}

/** Steps go on from batch to batch, so that every batch writes new points. */
function batchSource(runs) {
  let sent = 0;
  return () => {
    const i = sent++;
    return logBatchBody(runs[i % runs.length], POINTS_PER_BATCH, Math.floor(i / runs.length) * (POINTS_PER_BATCH / 4));
  };
}

/** `batches` batches to `path` at concurrency 8 (after 16 warm-up): the main thread's CPU ms per batch and points/s. */
async function measure(client, path, nextBody, cpu, batches) {
  const send = (count) => {
    const bodies = Array.from({ length: count }, nextBody);
    return concurrent(client, count, CONCURRENCY, (i) => ({ method: "POST", path, body: bodies[i] }));
  };
  await send(16);
  const before = cpu();
  const { seconds, replies } = await send(batches);
  return { mainThreadMsPerBatch: ((cpu() - before) * 1000) / replies.length, pointsPerSecond: (replies.length * POINTS_PER_BATCH) / seconds };
}

export async function runD1Floor({ batches = 200, rounds = 3 } = {}) {
  const trackerState = tempStateDir("d1-floor");
  const minimalState = tempStateDir("d1-floor-minimal");
  const environment = environmentNote();
  const samples = { tracker: [], store: [], parse: [] };
  /** Raw SQLite, once per round (its rate per CPU second moves with the machine's speed, as workerd's does). */
  const sqlite = [];
  try {
    // The runs and a token, made by the tracker; then its database is copied (server stopped) for the least Worker.
    const { runs, token } = await withServer({ label: "d1-floor", persistTo: trackerState }, async (server) => {
      const minted = await mintToken(server.url);
      const client = createClient(server.url, { token: minted });
      try {
        const experiment = await experimentId(client, "bench-d1-floor");
        return { runs: await Promise.all(Array.from({ length: RUNS }, (_, i) => createMlflowRun(client, experiment, `floor-${i}`))), token: minted };
      } finally {
        client.close();
      }
    });
    cpSync(trackerState, minimalState, { recursive: true });
    // Both servers up, each on its own copy of the same runs; the rows take turns round by round, so that all meet the same load.
    await withServer({ label: "d1-floor", persistTo: trackerState }, (tracker) =>
      withServer({ label: "d1-floor-minimal", persistTo: minimalState, config: MINIMAL_CONFIG }, async (minimal) => {
        const trackerClient = createClient(tracker.url, { token, maxSockets: CONCURRENCY });
        const minimalClient = createClient(minimal.url, { maxSockets: CONCURRENCY });
        try {
          const trackerBody = batchSource(runs);
          const minimalBody = batchSource(runs);
          const trackerCpu = mainThreadCpu(tracker.persistTo);
          const minimalCpu = mainThreadCpu(minimal.persistTo);
          for (let round = 0; round < rounds; round++) {
            sqlite.push(rawSqlite());
            samples.tracker.push(await measure(trackerClient, `${MLFLOW}/runs/log-batch`, trackerBody, trackerCpu, batches));
            samples.store.push(await measure(minimalClient, "/api/log-batch", minimalBody, minimalCpu, batches));
            samples.parse.push(await measure(minimalClient, "/api/parse", minimalBody, minimalCpu, batches));
          }
        } finally {
          trackerClient.close();
          minimalClient.close();
        }
      }),
    );
  } finally {
    removeDir(trackerState);
    removeDir(minimalState);
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      {
        mainThreadMsPerBatch: median(list.map((s) => s.mainThreadMsPerBatch)),
        pointsPerSecond: median(list.map((s) => s.pointsPerSecond)),
        rounds: list,
      },
    ]),
  );
  const sqliteSummary = {
    version: sqlite[0].version,
    pointsPerCpuSecond: median(sqlite.map((r) => r.pointsPerCpuSecond)),
    pointsPerSecond: median(sqlite.map((r) => r.pointsPerSecond)),
    rounds: sqlite,
  };
  const result = { environment, batches, rounds, concurrency: CONCURRENCY, sqlite: sqliteSummary, summary };
  saveJson("d1-floor", result);
  writeReadmeBlock("d1-floor", "The local D1's floor", d1FloorMarkdown(result));
  return result;
}

const LABELS = {
  tracker: "the tracker's `runs/log-batch` (token, Hono, body read, MLflow's rules, one D1 batch, Server-Timing)",
  store: "the least Worker: the body parsed, the store's `logBatch` (the same D1 batch), no HTTP layer",
  parse: "the least Worker: the body parsed, nothing written (the local serving alone)",
};

export function d1FloorMarkdown({ environment, batches, rounds, sqlite, summary }) {
  const perCore = (ms) => (1000 * POINTS_PER_BATCH) / ms;
  const rows = Object.entries(summary).map(([name, s]) => [
    LABELS[name],
    fmt(s.mainThreadMsPerBatch),
    fmt(perCore(s.mainThreadMsPerBatch)),
    `${fmt((100 * perCore(s.mainThreadMsPerBatch)) / sqlite.pointsPerCpuSecond)}%`,
    fmt(s.pointsPerSecond),
  ]);
  return [
    `Measured ${environment.at} (Node ${environment.node}, ${environment.cpus}; load average before: ${environment.loadavg}). ${rounds} rounds of ${batches} 1000-point batches at concurrency ${CONCURRENCY} per row (after 16 warm-up each), medians; raw SQLite ${sqlite.version} once per round (write-speed.mjs's: the same points into the same WITHOUT ROWID table, 1000-point transactions): ${fmt(sqlite.pointsPerCpuSecond)} points per CPU second (${fmt(sqlite.pointsPerSecond)} points/s wall, synchronous=NORMAL).`,
    "",
    table(["what the request does", "workerd main-thread CPU ms / batch", "at most points/s on one whole core", "of raw SQLite per CPU second", "points/s measured"], rows),
    "",
    `workerd runs every isolate and the local D1's SQLite on its main thread, so a whole core for that thread is the most this stack can reach; raw SQLite's one process gets one core too. Target: kdgat's log-batch >= ${TARGETS.logBatchVsSqlite * 100}% of raw SQLite.`,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { batches: { type: "string", default: "200" }, rounds: { type: "string", default: "3" } } });
  const result = await runD1Floor({ batches: Number(values.batches), rounds: Number(values.rounds) });
  console.log(d1FloorMarkdown(result));
}
