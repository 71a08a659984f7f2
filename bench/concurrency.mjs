// Part B: reliability under load. 200 simulated SLURM jobs write at once, each: start a run (half
// through PUT /api/v1/runs/..., half through MLflow runs/create), log 1,000 points (4 keys x 250
// steps) in batches of 1..250 points, end the run (FINISHED, or FAILED for 10%). On top of that:
//   - 10% of requests are deliberately sent twice (half one after the other, half both at once);
//   - some first attempts are cut: the socket is destroyed after half the body, or after the whole
//     body but before the response (the server may or may not have done the work); the client retries.
// A connection error, 5xx or 429 is retried with backoff; any other 4xx is an error. Afterwards every
// run is read back through the API: each key must hold exactly its 250 points (no loss, no duplicate),
// each run its final status, and each run name exactly one run (a retried start must not add one).
// `node bench/concurrency.mjs [--jobs 200]` writes bench/results/concurrency.json and the
// "Concurrency and retries" figures in bench/README.md.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ROOT } from "../scripts/local-server.mjs";
import { experimentId, KEYS, MLFLOW, mintToken, point, T0 } from "./lib/api.mjs";
import { createClient, expectOk, jsonOf, requestWithRetry } from "./lib/http.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { cpuDelta, serverCpuSeconds, withServer } from "./lib/server.mjs";
import { fmt, latencySummary, pool, rng } from "./lib/stats.mjs";

export const DEFAULTS = { jobs: 200, pointsPerJob: 1000, maxBatch: 250, duplicateRate: 0.1, cutRate: 0.05, failRate: 0.1, deadlineMs: 300_000 };
const EXPERIMENT = "kd-gat-pipeline";
const DATASETS = ["hcrl_ch", "hcrl_sa", "set_01", "set_02", "set_03", "set_04"];
const CONFIG = readFileSync(join(ROOT, "test", "fixtures", "student_curriculum_kd_config.json"), "utf8");

/** What one simulated job does; everything random is drawn from a PRNG seeded by the job number. */
function planJob(j, options) {
  const random = rng(j + 1);
  const dataset = DATASETS[j % DATASETS.length];
  const name = `job${String(j).padStart(3, "0")}_curriculum${j % 3 === 0 ? "_kd" : ""}`;
  const batches = [];
  for (let done = 0; done < options.pointsPerJob; ) {
    const size = Math.min(options.pointsPerJob - done, 1 + Math.floor(random() * options.maxBatch));
    batches.push([done, size]);
    done += size;
  }
  return {
    j,
    api: j % 2 === 0 ? "v1" : "mlflow",
    dataset,
    name,
    runName: `${dataset}/${name}`,
    status: random() < options.failRate ? "FAILED" : "FINISHED",
    // v1 (even) jobs: 3 in 4 send an Idempotency-Key with the PUT; 1 in 2 leave metric timestamps to the server.
    idempotencyKey: j % 2 === 0 && j % 8 !== 0 ? `bench-job-${j}-start` : undefined,
    serverTimestamps: j % 4 === 0,
    batches,
    random,
    /** How each request was sent (cut, twice), to explain a problem found afterwards. */
    sent: [],
  };
}

/** The metric points j in [from, from + size) as a v1 body: one entry per step. */
function v1MetricsBody(from, size, serverTimestamps) {
  const byStep = new Map();
  for (let j = from; j < from + size; j++) {
    const p = point(j);
    const entry = byStep.get(p.step) ?? { step: p.step, ...(!serverTimestamps && { timestamp: p.timestamp }), metrics: {} };
    entry.metrics[p.key] = p.value;
    byStep.set(p.step, entry);
  }
  return JSON.stringify([...byStep.values()]);
}

/** Error lines in wrangler's output (it keeps the last 20 kB), counted with run ids masked. */
function serverErrors(output) {
  const counts = {};
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour codes (ESC [ ... m)
  for (const line of output.replace(/\x1b\[[0-9;]*m/g, "").split("\n")) {
    const message = /\[ERROR\]\s*(.*)/.exec(line)?.[1];
    if (!message) continue;
    const key = message
      .replace(/\/api\/v1\/runs\/[^\s:]+/g, "/api/v1/runs/{id}/...")
      .trim()
      .slice(0, 120);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Runs all jobs; returns counters and per-job outcomes. */
async function runJobs(client, plans, experiment, options) {
  const counters = { logical: 0, exchanges: 0, duplicatesSent: 0, cuts: { partial: 0, "after-body": 0 }, retries: { connection: 0, status: 0 }, retryCauses: {}, errors: [] };
  const latencies = [];
  /** Latencies by kind of request, e.g. "PUT /api/v1/runs/{id}". */
  const byKind = {};
  const outcomes = new Array(plans.length);

  const stopAt = performance.now() + options.deadlineMs;
  /** One logical request: maybe cut on its first attempt, retried until done, maybe sent twice. */
  async function send(plan, kind, request, { mayDuplicate = true } = {}) {
    if (performance.now() > stopAt) throw new Error(`time limit of ${options.deadlineMs / 1000} s reached: job abandoned`);
    counters.logical++;
    const roll = plan.random();
    const cut = roll < options.cutRate / 2 ? "partial" : roll < options.cutRate ? "after-body" : undefined;
    if (cut) counters.cuts[cut]++;
    const once = async (first) => {
      const reply = await requestWithRetry(client, { ...request, cut: first ? cut : undefined, timeoutMs: 60_000 });
      counters.exchanges += reply.attempts;
      counters.retries.connection += reply.retries.connection;
      counters.retries.status += reply.retries.status;
      for (const [cause, n] of Object.entries(reply.retries.causes)) counters.retryCauses[cause] = (counters.retryCauses[cause] ?? 0) + n;
      latencies.push(reply.ms);
      byKind[kind] ??= [];
      byKind[kind].push(reply.ms);
      if (reply.status >= 400) throw new Error(`${request.method} ${request.path}: HTTP ${reply.status}: ${reply.text.slice(0, 300)}`);
      return reply;
    };
    const duplicate = mayDuplicate && plan.random() < options.duplicateRate;
    const sequential = duplicate && plan.random() < 0.5;
    plan.sent.push(`${request.method} ${request.path.split("/").slice(-1)[0]}${cut ? ` cut:${cut}` : ""}${duplicate ? ` twice:${sequential ? "sequential" : "concurrent"}` : ""}`);
    if (!duplicate) return once(true);
    counters.duplicatesSent++;
    if (sequential) {
      const reply = await once(true);
      await once(false);
      return reply;
    }
    const [reply] = await Promise.all([once(true), once(false)]);
    return reply;
  }

  async function job(plan) {
    const v1Path = `/api/v1/runs/${plan.dataset}/${plan.name}`;
    const startTime = T0 + plan.j;
    let runId;
    if (plan.api === "v1") {
      const headers = plan.idempotencyKey ? { "Idempotency-Key": plan.idempotencyKey } : {};
      runId = jsonOf(await send(plan, "PUT /api/v1/runs/{id}", { method: "PUT", path: v1Path, body: CONFIG, headers }), "PUT").run_id;
    } else {
      // runs/create is not idempotent in MLflow: never sent twice on purpose (a cut one may still leave a stray run).
      const body = { experiment_id: experiment, run_name: plan.runName, start_time: startTime, tags: [{ key: "bench", value: "concurrency" }] };
      runId = jsonOf(await send(plan, "runs/create", { method: "POST", path: `${MLFLOW}/runs/create`, body }, { mayDuplicate: false }), "runs/create").run.info.run_id;
    }
    for (const [from, size] of plan.batches) {
      if (plan.api === "v1") {
        await send(plan, "POST /api/v1/runs/{id}/metrics", { method: "POST", path: `${v1Path}/metrics`, body: v1MetricsBody(from, size, plan.serverTimestamps) });
      } else {
        const metrics = Array.from({ length: size }, (_, k) => point(from + k));
        await send(plan, "runs/log-batch", { method: "POST", path: `${MLFLOW}/runs/log-batch`, body: { run_id: runId, metrics } });
      }
    }
    const endTime = T0 + 3_600_000 + plan.j;
    if (plan.api === "v1") {
      const body = { status: plan.status, end_time: endTime, ...(plan.status === "FAILED" && { error: "CUDA out of memory (simulated)" }) };
      await send(plan, "POST /api/v1/runs/{id}/end", { method: "POST", path: `${v1Path}/end`, body });
    } else {
      await send(plan, "runs/update", { method: "POST", path: `${MLFLOW}/runs/update`, body: { run_id: runId, status: plan.status, end_time: endTime } });
    }
    return runId;
  }

  const started = performance.now();
  const jobsStarted = await pool(
    plans.length,
    plans.length,
    async (i) => {
      try {
        outcomes[i] = { runId: await job(plans[i]) };
      } catch (error) {
        outcomes[i] = { error: String(error.message ?? error) };
        counters.errors.push(`job ${i}: ${error.message ?? error}`);
      }
    },
    { deadlineMs: options.deadlineMs },
  );
  const seconds = (performance.now() - started) / 1000;
  const latencyByKind = Object.fromEntries(Object.entries(byKind).map(([kind, values]) => [kind, latencySummary(values)]));
  return { counters, latency: latencySummary(latencies), latencyByKind, seconds, outcomes, jobsStarted };
}

/** Reads every run back and compares it with what its job sent. */
async function verify(client, plans, outcomes, experiment, options) {
  const expectedPerKey = options.pointsPerJob / KEYS.length;
  const totals = { points: 0, lost: 0, duplicated: 0, wrongStatus: 0, extraRuns: 0, unreadable: 0 };
  const problems = [];
  await pool(plans.length, 8, async (i) => {
    const plan = plans[i];
    const runId = outcomes[i]?.runId;
    if (!runId) return;
    try {
      const get = async (path) => jsonOf(expectOk(await requestWithRetry(client, { method: "GET", path }), path), path);
      let status;
      let runsWithName;
      if (plan.api === "v1") {
        const detail = await get(`/api/v1/runs/${plan.dataset}/${plan.name}`);
        status = detail.run.status;
        runsWithName = detail.attempts.length;
        if (detail.run.mlflow_run_id !== runId) problems.push(`${plan.runName}: latest attempt ${detail.run.mlflow_run_id} is not the job's run ${runId}`);
      } else {
        status = (await get(`${MLFLOW}/runs/get?run_id=${runId}`)).run.info.status;
        const search = await requestWithRetry(client, {
          method: "POST",
          path: `${MLFLOW}/runs/search`,
          body: { experiment_ids: [experiment], filter: `attributes.run_name = '${plan.runName}'`, max_results: 10 },
        });
        runsWithName = (jsonOf(expectOk(search, "runs/search"), "runs/search").runs ?? []).length;
      }
      if (status !== plan.status) {
        totals.wrongStatus++;
        problems.push(`${plan.runName}: status ${status}, expected ${plan.status}`);
      }
      if (runsWithName !== 1) {
        totals.extraRuns += runsWithName - 1;
        problems.push(
          `${plan.runName} (${plan.api}${plan.idempotencyKey ? ", with Idempotency-Key" : ""}): ${runsWithName} runs/attempts with this name, expected 1; start sent as: ${plan.sent[0]}`,
        );
      }
      for (const key of KEYS) {
        const points =
          plan.api === "v1"
            ? (await get(`/api/v1/runs/${plan.dataset}/${plan.name}/metrics/${key}`)).points
            : ((await get(`${MLFLOW}/metrics/get-history?run_id=${runId}&metric_key=${key}&max_results=25000`)).metrics ?? []);
        const steps = new Set(points.map((p) => p.step));
        const lost = expectedPerKey - [...steps].filter((s) => Number.isInteger(s) && s >= 0 && s < expectedPerKey).length;
        const duplicated = points.length - steps.size;
        totals.points += points.length;
        totals.lost += lost;
        totals.duplicated += duplicated;
        if (lost || duplicated) problems.push(`${plan.runName} ${key}: ${points.length} points, ${lost} lost, ${duplicated} duplicated`);
      }
    } catch (error) {
      totals.unreadable++;
      problems.push(`${plan.runName}: ${error.message}`);
    }
  });
  return { expectedPoints: plans.length * options.pointsPerJob, ...totals, problems: problems.slice(0, 50), problemCount: problems.length };
}

export async function runConcurrency(overrides = {}) {
  const options = { ...DEFAULTS, ...overrides };
  const environment = environmentNote();
  const result = await withServer({ label: "concurrency" }, async (server) => {
    const token = await mintToken(server.url, "bench-slurm");
    const client = createClient(server.url, { token, maxSockets: options.jobs });
    try {
      const experiment = await experimentId(client, EXPERIMENT);
      const plans = Array.from({ length: options.jobs }, (_, j) => planJob(j, options));
      const cpuBefore = serverCpuSeconds(server.persistTo);
      const clientCpuBefore = process.cpuUsage();
      const run = await runJobs(client, plans, experiment, options);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const cpuSeconds = { ...cpuDelta(cpuBefore, serverCpuSeconds(server.persistTo)), "bench client": Number(((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)) };
      const check = await verify(client, plans, run.outcomes, experiment, options);
      const { outcomes, ...rest } = run;
      const c = run.counters;
      return {
        options,
        ...rest,
        jobsCompleted: outcomes.filter((o) => o?.runId).length,
        pointsPerSecond: (outcomes.filter((o) => o?.runId).length * options.pointsPerJob) / run.seconds,
        requestsPerSecond: c.exchanges / run.seconds,
        verify: check,
        serverReloads: server.reloads(),
        serverErrors: serverErrors(server.output()),
        cpuSeconds,
      };
    } finally {
      client.close();
    }
  });
  const full = { environment, ...result };
  saveJson("concurrency", full);
  writeReadmeBlock("concurrency", "Concurrency and retries", concurrencyMarkdown(full));
  return full;
}

/** The generated part of README section "Concurrency and retries". */
export function concurrencyMarkdown(r) {
  const c = r.counters;
  const v = r.verify;
  const ok = r.counters.errors.length === 0 && v.lost === 0 && v.duplicated === 0 && v.wrongStatus === 0 && v.extraRuns === 0 && v.unreadable === 0 && r.jobsCompleted === r.options.jobs;
  return [
    `Measured ${r.environment.at} (Node ${r.environment.node}, ${r.environment.cpus}; load average before: ${r.environment.loadavg}; busiest processes: ${r.environment.topProcesses}).`,
    "",
    `**${ok ? "PASS" : "FAIL"}**: ${r.jobsCompleted}/${r.options.jobs} jobs completed in ${fmt(r.seconds)} s.`,
    "",
    table(
      ["figure", "value"],
      [
        ["throughput", `${fmt(r.pointsPerSecond)} points/s, ${fmt(r.requestsPerSecond)} HTTP requests/s`],
        ["latency per HTTP exchange p50 / p95 / p99 / max", `${fmt(r.latency.p50)} / ${fmt(r.latency.p95)} / ${fmt(r.latency.p99)} / ${fmt(r.latency.max)} ms`],
        ["logical requests / HTTP exchanges", `${c.logical} / ${c.exchanges}`],
        ["sent twice on purpose", c.duplicatesSent],
        ["connections cut (half body / after full body)", `${c.cuts.partial} / ${c.cuts["after-body"]}`],
        ["retries after a connection error / after a 5xx or 429", `${c.retries.connection} / ${c.retries.status}`],
        [
          "what the retries answered",
          Object.entries(c.retryCauses)
            .map(([cause, n]) => `${n} x ${cause}`)
            .join("; ")
            .replaceAll("|", "\\|") || "-",
        ],
        [
          "CPU seconds during the run, by process",
          Object.entries(r.cpuSeconds)
            .map(([n, sec]) => `${n} ${sec}`)
            .join(", "),
        ],
        ["wrangler reloads of the Worker during the run", r.serverReloads],
        ["errors the client could not retry (4xx, or gave up)", c.errors.length],
        ["points expected / read back", `${v.expectedPoints} / ${v.points}`],
        ["points lost / stored twice", `${v.lost} / ${v.duplicated}`],
        ["runs with a wrong final status", v.wrongStatus],
        ["extra runs or attempts (a retried start that created another)", v.extraRuns],
        ["runs that could not be read back", v.unreadable],
      ],
    ),
    "",
    "Latency by request kind (ms, per HTTP exchange that got an answer):",
    "",
    table(
      ["request", "n", "p50", "p95", "p99"],
      Object.entries(r.latencyByKind).map(([kind, l]) => [`\`${kind}\``, l.n, fmt(l.p50), fmt(l.p95), fmt(l.p99)]),
    ),
    ...(Object.keys(r.serverErrors).length
      ? ["", "Errors wrangler logged (in the last 20 kB of its output):", "", ...Object.entries(r.serverErrors).map(([line, n]) => `- ${n} x \`${line}\``)]
      : []),
    ...(c.errors.length ? ["", "First errors:", "", ...c.errors.slice(0, 8).map((e) => `- ${e.replaceAll("|", "\\|")}`)] : []),
    ...(v.problemCount ? ["", `Verification problems (${v.problemCount}; first ones):`, "", ...v.problems.slice(0, 8).map((p) => `- ${p.replaceAll("|", "\\|")}`)] : []),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { jobs: { type: "string", default: String(DEFAULTS.jobs) } } });
  const result = await runConcurrency({ jobs: Number(values.jobs) });
  console.log(concurrencyMarkdown(result));
  if (result.counters.errors.length || result.verify.problemCount) process.exitCode = 1;
}
