// Writes side by side with MLflow 2.17.2's own server, in the same run, on this machine:
//   - where a local request's time goes: GET /health (the floor) on both servers;
//   - a single runs/log-metric, one at a time: p50 against MLflow's p50 (target: at most half);
//   - runs/log-batch, 1000-point batches at concurrency 8: points/s against MLflow's (target >= 5x)
//     and against the physical limit, raw SQLite inserting the same points into the same
//     WITHOUT ROWID table in 1000-point transactions (/usr/bin/python3's sqlite3; target >= half);
//   - D1 round trips per write (Server-Timing calls=);
//   - the Worker's CPU per 1000-point log-batch without D1 (bench/lib/log-batch-cpu.ts run in Node:
//     the route's own functions; target <= 10 ms).
// `node bench/write-speed.mjs [--samples 300] [--batches 200] [--mlflow-port 9251] [--port P] [--repeat N]` writes
// bench/results/write-speed.json and the "Writes side by side with MLflow" block of bench/README.md.
// MLflow runs from ../shared/mlflow-client/serve.sh (skipped, and said so, when it is absent).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { createMlflowRun, experimentId, logBatchBody, MLFLOW, mintToken, T0 } from "./lib/api.mjs";
import { createClient, expectOk } from "./lib/http.mjs";
import { startMlflow } from "./lib/mlflow.mjs";
import { BENCH_DIR, environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { cpuDelta, readProcStat, serverCpuSeconds, withServer } from "./lib/server.mjs";
import { fmt, latencySummary, percentile, pool } from "./lib/stats.mjs";

export const POINTS_PER_BATCH = 1000;
const PHASE_DEADLINE_MS = 180_000;
export const TARGETS = { logMetricP50Ratio: 0.5, logBatchVsMlflow: 5, logBatchVsSqlite: 0.5, cpuMsPerBatch: 10 };

/**
 * Where this run keeps the three databases (the local D1, MLflow's SQLite, raw SQLite's file: all
 * under the temp folder) and its file system: on a disk every D1 commit waits for an fsync (workerd
 * syncs its SQLite at every commit), on tmpfs (TMPDIR=/dev/shm) none does.
 */
function storageNote() {
  const dir = tmpdir();
  const fsType = spawnSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).stdout.trim() || "?";
  return { dir, fsType };
}

/** CPU seconds of a process group (MLflow's gunicorn and its workers), from /proc. */
function groupCpuSeconds(pgid) {
  let total = 0;
  for (const pid of spawnSync("pgrep", ["-g", String(pgid)], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)) {
    try {
      total += readProcStat(`/proc/${pid}/stat`).cpu;
    } catch {}
  }
  return total;
}

/** Server CPU ms per request, in total and by process, from CPU ms by process over `count` requests. */
function perRequest(cpuMs, count) {
  const byProcess = Object.fromEntries(
    Object.entries(cpuMs)
      .filter(([, ms]) => ms > 0)
      .map(([name, ms]) => [name, Number((ms / count).toFixed(2))]),
  );
  return { serverCpuMs: Object.values(cpuMs).reduce((a, b) => a + b, 0) / count, serverCpuByProcess: byProcess };
}

/** `count` requests one at a time; latencies, the last status, and the D1 round trips each reported. */
async function sequential(client, count, next) {
  const replies = [];
  for (let i = 0; i < count; i++) replies.push(expectOk(await client.request(next(i)), "sequential request"));
  return replies;
}

/** `count` requests with `concurrency` in flight; the wall time and latencies. */
export async function concurrent(client, count, concurrency, next) {
  const replies = [];
  const started = performance.now();
  await pool(count, concurrency, async (i) => replies.push(expectOk(await client.request(next(i)), "concurrent request")), { deadlineMs: PHASE_DEADLINE_MS });
  return { seconds: (performance.now() - started) / 1000, replies };
}

/** The Worker's pure work per 1000-point log-batch, in Node: median and mean ms over `iterations`. */
export async function workerCpu(iterations = 300) {
  const dir = mkdtempSync(join(tmpdir(), "kdgat-bench-cpu-"));
  try {
    const outfile = join(dir, "log-batch-cpu.mjs");
    await build({ entryPoints: [join(BENCH_DIR, "lib", "log-batch-cpu.ts")], bundle: true, platform: "node", format: "esm", outfile, logLevel: "error" });
    const { logBatchPureWork } = await import(pathToFileURL(outfile).href);
    const bodies = Array.from({ length: 50 }, (_, i) => logBatchBody("0123456789abcdef0123456789abcdef", POINTS_PER_BATCH, i * 250));
    for (let i = 0; i < 200; i++) logBatchPureWork(bodies[i % bodies.length]); // warm-up: JIT
    // CPU time, not wall time: on a shared machine the process is often scheduled out mid-batch.
    const times = [];
    for (let i = 0; i < iterations; i++) {
      const before = process.cpuUsage();
      logBatchPureWork(bodies[i % bodies.length]);
      const used = process.cpuUsage(before);
      times.push((used.user + used.system) / 1000);
    }
    return { iterations, p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), cpuMsPerBatch: times.reduce((a, b) => a + b, 0) / iterations, bodyBytes: bodies[0].length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Raw SQLite here: the same points into the same WITHOUT ROWID table, 1000-point transactions
 * (`executemany`, `INSERT OR IGNORE`), a file in WAL mode as the local D1 keeps its file (a -wal
 * beside it), in the temp folder the servers use. Twice: with synchronous=NORMAL (no fsync at a
 * commit: the physical limit the target is set against) and synchronous=FULL (one fsync per
 * commit, as workerd's local D1 does: strace shows one per D1 batch); on tmpfs both are the same.
 * Also points per CPU second of the Python process (a load-independent rate) and the p50 of 300
 * single-point transactions with synchronous=FULL: the floor of one durable write here.
 */
export function rawSqlite(points = 200_000) {
  const script = `
import sqlite3, sys, tempfile, time, os, shutil
n, per = int(sys.argv[1]), int(sys.argv[2])
keys = ["train_loss", "val_loss", "train_acc", "val_acc"]
rows = [("0123456789abcdef0123456789abcdef", keys[j % 4], j // 4, ${T0} + (j // 4) * 1000, round(1 / (1 + j // 4) + (j % 4) * 0.01, 6), 0) for j in range(n)]
def table(sync):
    d = tempfile.mkdtemp()
    db = sqlite3.connect(os.path.join(d, "m.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=" + sync)
    db.execute("""CREATE TABLE metrics (run_uuid text NOT NULL, key text NOT NULL, step integer NOT NULL,
      timestamp integer NOT NULL, value real NOT NULL, is_nan integer DEFAULT false NOT NULL,
      PRIMARY KEY(run_uuid, key, step, timestamp, value, is_nan)) WITHOUT ROWID""")
    return d, db
out = []
for sync in ["NORMAL", "FULL"]:
    d, db = table(sync)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, per):
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows[i:i + per])
        db.execute("COMMIT")
    out += [n / (time.perf_counter() - started), n / (time.process_time() - cpu)]
    if sync == "FULL":
        single = []
        for j in range(300):
            t = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?, ?)", ("single", "k", j, j, 0.5, 0))
            db.execute("COMMIT")
            single.append(time.perf_counter() - t)
        out.append(sorted(single)[150] * 1000)
    out.append(db.execute("PRAGMA journal_mode").fetchone()[0])
    db.close()
    shutil.rmtree(d)
print(*out, sqlite3.sqlite_version)
`;
  const result = spawnSync("/usr/bin/python3", ["-c", script, String(points), String(POINTS_PER_BATCH)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`raw SQLite: ${result.stderr}`);
  const [normal, normalCpu, journalMode, full, fullCpu, singleCommitMs, , version] = result.stdout.trim().split(" ");
  return {
    points,
    journalMode,
    version,
    pointsPerSecond: Number(normal),
    pointsPerCpuSecond: Number(normalCpu),
    syncedPointsPerSecond: Number(full),
    syncedPointsPerCpuSecond: Number(fullCpu),
    singleCommitP50Ms: Number(singleCommitMs),
  };
}

/** Blocks per server of the sequential phases (/health, log-metric), alternating between the servers. */
const BLOCKS = 10;

/** A server under test: its client, CPU reader, the run for single writes and 8 runs for batches. */
async function prepareServer(label, url, { token, cpu }) {
  const client = createClient(url, { token, maxSockets: 8 });
  const experiment = await experimentId(client, `bench-writes-${label}`);
  const runs = await Promise.all(Array.from({ length: 9 }, (_, i) => createMlflowRun(client, experiment, `writes-${label}-${Date.now()}-${i}`)));
  const [single, ...batchRuns] = runs;
  let step = 0;
  const logMetric = () => ({ method: "POST", path: `${MLFLOW}/runs/log-metric`, body: { run_id: single, key: "val_loss", value: 1 / (step + 1), timestamp: T0 + step, step: step++ } });
  return { client, cpu, batchRuns, logMetric };
}

/**
 * `samples` sequential requests per server in BLOCKS blocks, the servers taking turns block by
 * block, so that both meet the same load of the machine over time; latencies and CPU ms by process.
 */
async function alternating(servers, samples, next) {
  const results = servers.map(() => ({ replies: [], cpuMs: {} }));
  const perBlock = Math.ceil(samples / BLOCKS);
  for (let done = 0; done < samples; done += perBlock) {
    for (const [i, server] of servers.entries()) {
      const before = server.cpu();
      results[i].replies.push(...(await sequential(server.client, Math.min(perBlock, samples - done), () => next(server))));
      for (const [name, ms] of Object.entries(server.cpu(before))) results[i].cpuMs[name] = (results[i].cpuMs[name] ?? 0) + ms;
    }
  }
  return results;
}

/** One server's log-batch phase: 200 batches at concurrency 8 over its 8 runs (after 16 warm-up). `beforeBatch` runs right before it. */
async function measureBatches({ client, cpu, batchRuns }, batches, beforeBatch) {
  const bodies = Array.from({ length: batches + 16 }, (_, i) => logBatchBody(batchRuns[i % batchRuns.length], POINTS_PER_BATCH, Math.floor(i / batchRuns.length) * (POINTS_PER_BATCH / 4)));
  await concurrent(client, 16, 8, (i) => ({ method: "POST", path: `${MLFLOW}/runs/log-batch`, body: bodies[i] })); // warm-up
  const before = beforeBatch?.();
  const batchCpuBefore = cpu();
  const batch = await concurrent(client, batches, 8, (i) => ({ method: "POST", path: `${MLFLOW}/runs/log-batch`, body: bodies[16 + i] }));
  const batchCpu = cpu(batchCpuBefore);
  return {
    ...before,
    logBatch: {
      batches: batch.replies.length,
      seconds: batch.seconds,
      pointsPerSecond: (batch.replies.length * POINTS_PER_BATCH) / batch.seconds,
      latency: latencySummary(batch.replies.map((r) => r.ms)),
      d1Calls: d1Calls(batch.replies),
      ...perRequest(batchCpu, batch.replies.length),
    },
  };
}

const d1Calls = (replies) => [...new Set(replies.map((r) => r.calls).filter(Number.isFinite))];

/**
 * One round over the servers (kdgat first, then MLflow when present): /health and single
 * log-metrics alternating between them block by block, then each one's log-batch phase, kdgat's
 * with raw SQLite measured right before it.
 */
async function measureRound(servers, { samples, batches }) {
  for (const server of servers) {
    for (let i = 0; i < 20; i++) await server.client.request({ method: "GET", path: "/health" });
    await sequential(server.client, 20, server.logMetric); // warm-up
  }
  const health = await alternating(servers, samples, () => ({ method: "GET", path: "/health" }));
  const metric = await alternating(servers, samples, (server) => server.logMetric());
  const figures = [];
  for (const [i, server] of servers.entries()) {
    const { sqlite, ...batch } = await measureBatches(server, batches, i === 0 ? () => ({ sqlite: rawSqlite() }) : undefined);
    figures.push({
      sqlite,
      health: { ...latencySummary(health[i].replies.map((r) => r.ms)), ...perRequest(health[i].cpuMs, samples) },
      logMetric: { ...latencySummary(metric[i].replies.map((r) => r.ms)), d1Calls: d1Calls(metric[i].replies), ...perRequest(metric[i].cpuMs, samples) },
      ...batch,
    });
  }
  return figures;
}

/**
 * `repeat` rounds against the same two servers (fresh runs each round; see measureRound). The
 * README block shows every round in one table and the last round in detail.
 */
export async function runWriteSpeed({ samples = 300, batches = 200, mlflowPort = 9251, port, repeat = 1 } = {}) {
  const storage = storageNote();
  const cpu = await workerCpu();
  const mlflow = await startMlflow(mlflowPort);
  try {
    return await withServer({ label: "writes", port }, async (server) => {
      const token = await mintToken(server.url);
      // CPU ms by process (node: wrangler's dev engine and the local front; workerd: the Worker and its local D1).
      const ourCpu = (before) => {
        const now = serverCpuSeconds(server.persistTo);
        return before === undefined ? now : Object.fromEntries(Object.entries(cpuDelta(before, now)).map(([name, s]) => [name, s * 1000]));
      };
      const mlflowCpu = (before) => (before === undefined ? groupCpuSeconds(mlflow.pid) : { mlflow: (groupCpuSeconds(mlflow.pid) - before) * 1000 });
      const rounds = [];
      for (let round = 0; round < repeat; round++) {
        const environment = { ...environmentNote(), storage };
        const servers = [await prepareServer("kdgat", server.url, { token, cpu: ourCpu })];
        if (mlflow) servers.push(await prepareServer("mlflow", mlflow.url, { token, cpu: mlflowCpu }));
        try {
          const [{ sqlite, ...ours }, theirs] = await measureRound(servers, { samples, batches });
          if (theirs) delete theirs.sqlite;
          rounds.push({ environment, ours, mlflow: theirs, sqlite, loadAfter: environmentNote().loadavg });
        } finally {
          for (const { client } of servers) client.close();
        }
      }
      const result = { samples, batches, pointsPerBatch: POINTS_PER_BATCH, rounds, workerCpu: cpu };
      saveJson("write-speed", result);
      writeReadmeBlock("write-speed", "Writes side by side with MLflow", writeSpeedMarkdown(result));
      return result;
    });
  } finally {
    mlflow?.stop();
  }
}

const pass = (ok) => (ok ? "met" : "**not met**");
const byProcess = (figure) =>
  Object.entries(figure.serverCpuByProcess)
    .map(([name, ms]) => `${name} ${ms}`)
    .join(", ");

/** One line per round: the three targets' figures with the load average before and after. */
function roundsTable(rounds) {
  const na = "-";
  return table(
    [
      "round (UTC)",
      "load average before / after (1 min)",
      "log-metric p50 ms kdgat / MLflow (ratio)",
      "log-batch c8 points/s kdgat / MLflow (ratio)",
      "raw SQLite points/s no fsync / fsync per commit",
      "kdgat of raw SQLite (no fsync)",
    ],
    rounds.map(({ environment, ours: o, mlflow: m, sqlite, loadAfter }) => [
      environment.at.slice(11, 19),
      `${environment.loadavg.split(" ")[0]} / ${loadAfter.split(" ")[0]}`,
      `${fmt(o.logMetric.p50)} / ${m ? fmt(m.logMetric.p50) : na} (${m ? `${fmt(o.logMetric.p50 / m.logMetric.p50)}x` : na})`,
      `${fmt(o.logBatch.pointsPerSecond)} / ${m ? fmt(m.logBatch.pointsPerSecond) : na} (${m ? `${fmt(o.logBatch.pointsPerSecond / m.logBatch.pointsPerSecond)}x` : na})`,
      `${fmt(sqlite.pointsPerSecond)} / ${fmt(sqlite.syncedPointsPerSecond)}`,
      `${fmt((100 * o.logBatch.pointsPerSecond) / sqlite.pointsPerSecond)}%`,
    ]),
  );
}

export function writeSpeedMarkdown({ samples, batches, rounds, workerCpu: cpu }) {
  const { environment, ours: o, mlflow: m, sqlite } = rounds.at(-1);
  const ratio = (a, b) => (m ? `${fmt(a / b)}x` : "-");
  const cpuRate = (1000 * POINTS_PER_BATCH) / o.logBatch.serverCpuMs;
  const workerdBound = (1000 * POINTS_PER_BATCH) / (o.logBatch.serverCpuByProcess.workerd ?? Number.NaN);
  const lines = [
    `${rounds.length} round(s) against the same two servers, all databases under ${environment.storage?.dir ?? "?"} (${environment.storage?.fsType ?? "?"}):`,
    "",
    roundsTable(rounds),
    "",
    `The last round in detail. Measured ${environment.at} (Node ${environment.node}, ${environment.cpus}; load average before: ${environment.loadavg}; busiest processes: ${environment.topProcesses}). ` +
      `kdgat through \`npm start\`'s local serving (scripts/serve-worker.mjs + worker-front.mjs) with a minted write token; MLflow 2.17.2 from \`serve.sh\` (SQLite, 2 gunicorn workers) in the same run: /health and log-metric in ${BLOCKS} blocks per server taking turns with kdgat's, its log-batch phase right after kdgat's. ` +
      `All three databases under ${environment.storage?.dir ?? "?"} (${environment.storage?.fsType ?? "?"}).`,
    "",
    table(
      ["figure", "kdgat", "MLflow 2.17.2", "ratio", "target"],
      [
        [
          `GET /health p50 / p95 ms (${samples} sequential)`,
          `${fmt(o.health.p50)} / ${fmt(o.health.p95)}`,
          m ? `${fmt(m.health.p50)} / ${fmt(m.health.p95)}` : "-",
          ratio(o.health.p50, m?.health.p50),
          "-",
        ],
        [
          "GET /health server CPU ms / request (by process)",
          `${fmt(o.health.serverCpuMs)} (${byProcess(o.health)})`,
          m ? fmt(m.health.serverCpuMs) : "-",
          ratio(o.health.serverCpuMs, m?.health.serverCpuMs),
          "-",
        ],
        [
          `runs/log-metric p50 / p95 ms (${samples} sequential)`,
          `${fmt(o.logMetric.p50)} / ${fmt(o.logMetric.p95)}`,
          m ? `${fmt(m.logMetric.p50)} / ${fmt(m.logMetric.p95)}` : "-",
          ratio(o.logMetric.p50, m?.logMetric.p50),
          `<= ${TARGETS.logMetricP50Ratio}x: ${m ? pass(o.logMetric.p50 <= TARGETS.logMetricP50Ratio * m.logMetric.p50) : "-"}`,
        ],
        [
          "runs/log-metric server CPU ms / request (by process)",
          `${fmt(o.logMetric.serverCpuMs)} (${byProcess(o.logMetric)})`,
          m ? fmt(m.logMetric.serverCpuMs) : "-",
          ratio(o.logMetric.serverCpuMs, m?.logMetric.serverCpuMs),
          "-",
        ],
        [
          `runs/log-batch ${POINTS_PER_BATCH}-point batches at concurrency 8, points/s (${batches} batches)`,
          fmt(o.logBatch.pointsPerSecond),
          m ? fmt(m.logBatch.pointsPerSecond) : "-",
          ratio(o.logBatch.pointsPerSecond, m?.logBatch.pointsPerSecond),
          `>= ${TARGETS.logBatchVsMlflow}x: ${m ? pass(o.logBatch.pointsPerSecond >= TARGETS.logBatchVsMlflow * m.logBatch.pointsPerSecond) : "-"}`,
        ],
        [
          "runs/log-batch p50 / p95 ms at concurrency 8",
          `${fmt(o.logBatch.latency.p50)} / ${fmt(o.logBatch.latency.p95)}`,
          m ? `${fmt(m.logBatch.latency.p50)} / ${fmt(m.logBatch.latency.p95)}` : "-",
          "-",
          "-",
        ],
        [
          "runs/log-batch server CPU ms / batch (by process)",
          `${fmt(o.logBatch.serverCpuMs)} (${byProcess(o.logBatch)})`,
          m ? fmt(m.logBatch.serverCpuMs) : "-",
          ratio(o.logBatch.serverCpuMs, m?.logBatch.serverCpuMs),
          "-",
        ],
        ["D1 round trips per log-metric / log-batch (Server-Timing calls=)", `${o.logMetric.d1Calls.join(",")} / ${o.logBatch.d1Calls.join(",")}`, "-", "-", "1"],
      ],
    ),
    "",
    `Physical limit: raw SQLite ${sqlite.version} (/usr/bin/python3, journal_mode=${sqlite.journalMode}) inserting the same ${fmt(sqlite.points)} points into the same WITHOUT ROWID table in ${POINTS_PER_BATCH}-point transactions, measured right before kdgat's log-batch phase: ` +
      `**${fmt(sqlite.pointsPerSecond)} points/s** with synchronous=NORMAL (no fsync at a commit); kdgat's log-batch at concurrency 8 reached ${fmt((100 * o.logBatch.pointsPerSecond) / sqlite.pointsPerSecond)}% of it ` +
      `(target >= ${100 * TARGETS.logBatchVsSqlite}%: ${pass(o.logBatch.pointsPerSecond >= TARGETS.logBatchVsSqlite * sqlite.pointsPerSecond)}). ` +
      `With synchronous=FULL (one fsync per commit, as the local D1 syncs): ${fmt(sqlite.syncedPointsPerSecond)} points/s (kdgat ${fmt((100 * o.logBatch.pointsPerSecond) / sqlite.syncedPointsPerSecond)}% of it). ` +
      `Per CPU second, which the machine's load does not change: raw SQLite ${fmt(sqlite.pointsPerCpuSecond)} points (${fmt(sqlite.syncedPointsPerCpuSecond)} with fsync), kdgat ${fmt(cpuRate)} points per second of its server processes' CPU (${fmt((100 * cpuRate) / sqlite.pointsPerCpuSecond)}%); ` +
      `workerd runs the Worker and its local D1 on one thread, so a whole core for it would allow at most ${fmt(workerdBound)} points/s (${POINTS_PER_BATCH} points per ${fmt(o.logBatch.serverCpuByProcess.workerd ?? Number.NaN)} ms of workerd CPU), ${fmt((100 * workerdBound) / sqlite.pointsPerSecond)}% of raw SQLite's rate. ` +
      `One durable single-point transaction in raw SQLite here (synchronous=FULL, p50 of 300): ${fmt(sqlite.singleCommitP50Ms)} ms, the floor of one log-metric's commit on this file system.`,
    "",
    `Worker CPU per ${POINTS_PER_BATCH}-point log-batch without D1 (bench/lib/log-batch-cpu.ts in Node ${environment.node}: body text -> JSON, the body read (plainLogBatch; zod for any other shape), MLflow's batch rules, the guarded statements built and serialised, the answer; ${cpu.iterations} batches of ${fmt(cpu.bodyBytes / 1024)} KB after 200 warm-up): ` +
      `CPU time per batch p50 **${fmt(cpu.p50Ms)} ms**, p95 ${fmt(cpu.p95Ms)} ms, mean ${fmt(cpu.cpuMsPerBatch)} ms (target <= ${TARGETS.cpuMsPerBatch} ms: ${pass(cpu.p95Ms <= TARGETS.cpuMsPerBatch)}).`,
  ];
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      samples: { type: "string", default: "300" },
      batches: { type: "string", default: "200" },
      "mlflow-port": { type: "string", default: "9251" },
      port: { type: "string" },
      repeat: { type: "string", default: "1" },
    },
  });
  const result = await runWriteSpeed({
    samples: Number(values.samples),
    batches: Number(values.batches),
    mlflowPort: Number(values["mlflow-port"]),
    port: values.port === undefined ? undefined : Number(values.port),
    repeat: Number(values.repeat),
  });
  console.log(writeSpeedMarkdown(result));
}
