// Part A: tracking-service speed.
//   A1/A2  runs/log-batch throughput with 1000-point batches at concurrency 1 and 8, D1 rows written
//          per point (Server-Timing), and probes that split a request's cost (proxy, parse+validate, D1).
//   A3     leaderboard and runs/search latency and D1 rows read over 100,000 seeded runs.
// `node bench/tracking.mjs [--batches 200] [--queries 200]` writes bench/results/tracking.json and the
// "Tracking API" figures in bench/README.md.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createMlflowRun, experimentId, KEYS, logBatchBody, MLFLOW, mintToken } from "./lib/api.mjs";
import { createClient, expectOk, jsonOf } from "./lib/http.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { SEED, seedLocalD1 } from "./lib/seed.mjs";
import { cpuDelta, removeDir, serverCpuSeconds, tempStateDir, withServer } from "./lib/server.mjs";
import { fmt, latencySummary, pool, sum } from "./lib/stats.mjs";

/** MLflow 2.17.2 on SQLite on this machine (the brief's reference figures). */
export const MLFLOW_REFERENCE = { pointsPerSecond: { 1: 10_000, 8: 18_000 }, searchP50Ms: 290 };
export const TARGETS = { pointsPerSecondAt8: 50_000, rowsWrittenPerPoint: 1.2, queryP50Ms: 20, rowsReadPerQuery: 200 };
const POINTS_PER_BATCH = 1000;
const PHASE_DEADLINE_MS = 120_000;
const PROBE_SAMPLES = 100;

/**
 * Sends prepared requests with `concurrency` in flight; returns throughput, latency and D1 rows.
 * @param {ReturnType<typeof createClient>} client
 * @param {Array<{method: string, path: string, body?: string}>} requests
 */
async function load(client, requests, concurrency, persistTo) {
  const replies = [];
  const cpuBefore = serverCpuSeconds(persistTo);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  await pool(
    requests.length,
    concurrency,
    async (i) => {
      replies.push(expectOk(await client.request(requests[i]), `${requests[i].method} ${requests[i].path}`));
    },
    { deadlineMs: PHASE_DEADLINE_MS },
  );
  const seconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  return {
    requests: replies.length,
    seconds,
    latency: latencySummary(replies.map((r) => r.ms)),
    rowsRead: sum(replies.map((r) => r.rowsRead)),
    rowsWritten: sum(replies.map((r) => r.rowsWritten)),
    cpuSeconds: { ...cpuDelta(cpuBefore, serverCpuSeconds(persistTo)), "bench client": Number(((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)) },
  };
}

/** `count` 1000-point batches spread over `runs`, each run's steps increasing batch by batch. */
function logBatchRequests(runIds, count, pointsPerBatch) {
  const stepsPerBatch = Math.ceil(pointsPerBatch / KEYS.length);
  return Array.from({ length: count }, (_, i) => ({
    method: "POST",
    path: `${MLFLOW}/runs/log-batch`,
    body: logBatchBody(runIds[i % runIds.length], pointsPerBatch, Math.floor(i / runIds.length) * stepsPerBatch),
  }));
}

/** A1 + A2 + the cost probes, on a fresh local D1. */
export async function benchLogBatch({ batches = 200 } = {}) {
  return withServer({ label: "logbatch" }, async (server) => {
    const token = await mintToken(server.url);
    const client = createClient(server.url, { token, maxSockets: 8 });
    try {
      const experiment = await experimentId(client, "bench-log-batch");
      const newRuns = (n, label) => Promise.all(Array.from({ length: n }, (_, i) => createMlflowRun(client, experiment, `${label}-${i}`)));
      // Warm-up: compile paths, fill caches.
      await load(client, logBatchRequests(await newRuns(2, "warmup"), 20, POINTS_PER_BATCH), 2, server.persistTo);

      const throughput = {};
      for (const concurrency of [1, 8]) {
        const phase = await load(client, logBatchRequests(await newRuns(concurrency, `c${concurrency}`), batches, POINTS_PER_BATCH), concurrency, server.persistTo);
        const points = phase.requests * POINTS_PER_BATCH;
        throughput[concurrency] = {
          ...phase,
          points,
          pointsPerSecond: points / phase.seconds,
          vsMlflow: points / phase.seconds / MLFLOW_REFERENCE.pointsPerSecond[concurrency],
          rowsWrittenPerPoint: phase.rowsWritten / points,
        };
      }

      // Probes, one request at a time, to split a request's cost: the floor (wrangler's proxy, Hono,
      // middleware: /health), one D1 query (experiments/get), JSON + zod validation of 1000 points
      // with the token and run lookups but no write (unknown run), and the D1 write (10 vs 1000 points).
      // Server CPU per request (from /proc) is less disturbed by other load than wall time.
      const [probeRun] = await newRuns(1, "probe");
      let probeStep = 1_000_000;
      const freshBatch = (points) => () => {
        probeStep += 1000;
        return { method: "POST", path: `${MLFLOW}/runs/log-batch`, body: logBatchBody(probeRun, points, probeStep) };
      };
      const probeRequests = {
        "GET /health (no D1)": () => ({ method: "GET", path: "/health" }),
        "GET experiments/get (1 D1 query)": () => ({ method: "GET", path: `${MLFLOW}/experiments/get?experiment_id=${experiment}` }),
        "log-batch 1000 points, unknown run (parse + zod, token and run lookups, no write)": () => ({
          method: "POST",
          path: `${MLFLOW}/runs/log-batch`,
          body: logBatchBody("0".repeat(32), 1000),
        }),
        "log-batch 10 points": freshBatch(10),
        "log-batch 1000 points": freshBatch(1000),
      };
      const probes = {};
      for (const [label, next] of Object.entries(probeRequests)) {
        for (let i = 0; i < 10; i++) await client.request(next()); // warm-up
        const replies = [];
        const cpuBefore = serverCpuSeconds(server.persistTo);
        for (let i = 0; i < PROBE_SAMPLES; i++) replies.push(await client.request(next()));
        const cpuMsPerRequest = Object.fromEntries(
          Object.entries(cpuDelta(cpuBefore, serverCpuSeconds(server.persistTo))).map(([name, s]) => [name, Number(((s * 1000) / PROBE_SAMPLES).toFixed(2))]),
        );
        const last = replies.at(-1);
        probes[label] = { latency: latencySummary(replies.map((r) => r.ms)), status: last.status, rowsRead: last.rowsRead, rowsWritten: last.rowsWritten, cpuMsPerRequest };
      }
      const small = await load(client, logBatchRequests(await newRuns(8, "small"), 800, 10), 8, server.persistTo);
      return {
        batches,
        pointsPerBatch: POINTS_PER_BATCH,
        throughput,
        probes,
        smallBatchesAt8: { ...small, requestsPerSecond: small.requests / small.seconds },
        serverReloads: server.reloads(),
      };
    } finally {
      client.close();
    }
  });
}

/** The read queries of A3 (each a GET path or a runs/search body). */
function readQueries(experiment) {
  return {
    "GET /api/v1/leaderboard?metric=gat_f1&top=10": { method: "GET", path: "/api/v1/leaderboard?metric=gat_f1&top=10" },
    "GET /api/v1/leaderboard?metric=gat_f1&top=10&dataset=hcrl_sa": { method: "GET", path: "/api/v1/leaderboard?metric=gat_f1&top=10&dataset=hcrl_sa" },
    'runs/search order_by ["metrics.gat_f1 DESC"], max_results 10': {
      method: "POST",
      path: `${MLFLOW}/runs/search`,
      body: JSON.stringify({ experiment_ids: [String(experiment)], order_by: ["metrics.gat_f1 DESC"], max_results: 10 }),
    },
  };
}

/** How many results a reply holds and whether their values are in descending order. */
function checkRanking(label, reply) {
  const body = jsonOf(expectOk(reply, label), label);
  const values = body.entries ? body.entries.map((e) => e.value) : (body.runs ?? []).map((run) => run.data?.metrics?.find((m) => m.key === "gat_f1")?.value);
  const sorted = values.every((v, i) => i === 0 || v <= values[i - 1]);
  return { results: values.length, descending: sorted, best: values[0] };
}

/** A3 on a local D1 seeded with SEED.runs runs. */
export async function benchQueries({ queries = 200 } = {}) {
  const persistTo = tempStateDir("seeded");
  try {
    const seedSeconds = seedLocalD1(persistTo);
    return await withServer({ persistTo }, async (server) => {
      const client = createClient(server.url, { maxSockets: 1 });
      try {
        const results = {};
        for (const [label, request] of Object.entries(readQueries(SEED.experimentId))) {
          const check = checkRanking(label, await client.request(request));
          await load(client, Array(20).fill(request), 1, server.persistTo); // warm-up
          const measured = await load(client, Array(queries).fill(request), 1, server.persistTo);
          results[label] = { ...check, latency: measured.latency, rowsReadPerRequest: measured.rowsRead / measured.requests };
        }
        return { runs: SEED.runs, latestRuns: SEED.names, seedSeconds, queriesEach: queries, results, serverReloads: server.reloads() };
      } finally {
        client.close();
      }
    });
  } finally {
    removeDir(persistTo);
  }
}

const pass = (ok) => (ok ? "met" : "**not met**");

/** The generated part of README section "Tracking API". */
export function trackingMarkdown({ logBatch, queries, environment }) {
  const lines = [
    `Measured ${environment.at} (Node ${environment.node}, ${environment.cpus}; load average before: ${environment.loadavg}; busiest processes: ${environment.topProcesses}).`,
    "",
  ];
  if (logBatch) {
    const t = logBatch.throughput;
    lines.push(
      `### runs/log-batch, ${logBatch.pointsPerBatch}-point batches (4 keys, steps increasing), ${logBatch.batches} batches per row`,
      "",
      table(
        ["concurrency", "points/s", "vs MLflow 2.17.2 (SQLite)", "batch latency p50 / p95 / p99 ms", "D1 rows written per point", "server CPU s (by process)", "client CPU s"],
        Object.entries(t).map(([c, r]) => [
          c,
          fmt(r.pointsPerSecond),
          `${fmt(r.vsMlflow)}x of ~${fmt(MLFLOW_REFERENCE.pointsPerSecond[c])}`,
          `${fmt(r.latency.p50)} / ${fmt(r.latency.p95)} / ${fmt(r.latency.p99)}`,
          r.rowsWrittenPerPoint.toFixed(3),
          Object.entries(r.cpuSeconds)
            .filter(([n]) => n !== "bench client")
            .map(([n, s]) => `${n} ${s}`)
            .join(", "),
          r.cpuSeconds["bench client"],
        ]),
      ),
      "",
      `Target >= ${fmt(TARGETS.pointsPerSecondAt8)} points/s at concurrency 8: ${pass(t[8].pointsPerSecond >= TARGETS.pointsPerSecondAt8)}. ` +
        `D1 rows written per point <= ${TARGETS.rowsWrittenPerPoint}: ${pass(Math.max(t[1].rowsWrittenPerPoint, t[8].rowsWrittenPerPoint) <= TARGETS.rowsWrittenPerPoint)}.`,
      "",
      `Where a request's time goes (one request at a time, ${PROBE_SAMPLES} samples each after 10 warm-up; server CPU ms per request by process, from /proc):`,
      "",
      table(
        ["probe", "HTTP status", "p50 ms", "p95 ms", "server CPU ms / request", "D1 rows read / written"],
        Object.entries(logBatch.probes).map(([label, p]) => [
          label,
          p.status ?? "",
          fmt(p.latency.p50),
          fmt(p.latency.p95),
          Object.entries(p.cpuMsPerRequest ?? {})
            .filter(([, ms]) => ms > 0)
            .map(([n, ms]) => `${n} ${ms}`)
            .join(", "),
          `${p.rowsRead} / ${p.rowsWritten}`,
        ]),
      ),
      "",
      `10-point batches at concurrency 8: ${fmt(logBatch.smallBatchesAt8.requestsPerSecond)} requests/s (p50 ${fmt(logBatch.smallBatchesAt8.latency.p50)} ms), ` +
        `${(logBatch.smallBatchesAt8.rowsWritten / (logBatch.smallBatchesAt8.requests * 10)).toFixed(2)} D1 rows written per point. ` +
        `wrangler reloads of the Worker during these measurements: ${logBatch.serverReloads}.`,
      "",
    );
  }
  if (queries) {
    lines.push(
      `### Reads over ${fmt(queries.runs)} runs (${fmt(queries.latestRuns)} latest attempts), ${queries.queriesEach} sequential requests each`,
      "",
      table(
        ["query", "results", "p50 ms", "p95 ms", "D1 rows read / request", `p50 < ${TARGETS.queryP50Ms} ms`, `rows <= ${TARGETS.rowsReadPerQuery}`],
        Object.entries(queries.results).map(([label, r]) => [
          `\`${label}\``,
          `${r.results}${r.descending ? "" : " (NOT in order)"}`,
          fmt(r.latency.p50),
          fmt(r.latency.p95),
          fmt(r.rowsReadPerRequest),
          pass(r.latency.p50 < TARGETS.queryP50Ms),
          pass(r.rowsReadPerRequest <= TARGETS.rowsReadPerQuery),
        ]),
      ),
      "",
      `MLflow 2.17.2 on SQLite here: ~${MLFLOW_REFERENCE.searchP50Ms} ms p50 for the top 100 of only 2,000 runs. Seeding took ${fmt(queries.seedSeconds)} s. wrangler reloads of the Worker during these measurements: ${queries.serverReloads}.`,
    );
  }
  return lines.join("\n");
}

export async function runTracking(options = {}) {
  const environment = environmentNote();
  const logBatch = options.only === "queries" ? undefined : await benchLogBatch(options);
  const queries = options.only === "log-batch" ? undefined : await benchQueries(options);
  const result = { environment, logBatch, queries };
  saveJson("tracking", result);
  writeReadmeBlock("tracking", "Tracking API", trackingMarkdown(result));
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { batches: { type: "string", default: "200" }, queries: { type: "string", default: "200" }, only: { type: "string" } },
  });
  const result = await runTracking({ batches: Number(values.batches), queries: Number(values.queries), only: values.only });
  console.log(trackingMarkdown(result));
}
