// Part C: the cost of hostile input.
//   Generated hostile bodies, up to each endpoint's caps (long digit runs ending in a letter, quote,
//   backslash and `1e` runs, nesting, many clauses, over-cap strings), are sent one at a time to every
//   parser's endpoint while a public read (GET /api/v1/runs) is issued in a loop. Prints the slowest
//   answer per endpoint and how much the read was delayed beyond its own idle latency.
//   Target: every hostile answer < 50 ms, the read never delayed by more than that.
// `node bench/hostile-cost.mjs [--reads 200]` writes bench/results/hostile-cost.json.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createMlflowRun, experimentId, MLFLOW, mintToken } from "./lib/api.mjs";
import { createClient, expectOk, jsonOf } from "./lib/http.mjs";
import { environmentNote, saveJson, table } from "./lib/report.mjs";
import { withServer } from "./lib/server.mjs";
import { fmt, latencySummary } from "./lib/stats.mjs";

export const TARGET_MS = 50;
const KB = 1024;
const MB = 1024 * KB;
/** The caps of functions/domain/limits.ts (filter, order_by entry, page token, bodies). */
const CAPS = { filter: 32 * KB, orderBy: 1 * KB, pageToken: 1 * KB, body: 1 * MB, upload: 8 * MB };

/** `unit` repeated to `length` characters, after `head` and before `tail`. */
const fill = (length, unit, head = "", tail = "") => head + unit.repeat(Math.ceil(length / unit.length)).slice(0, Math.max(0, length - head.length - tail.length)) + tail;

/** The shapes that made the old parsers quadratic (or echo their input), `length` characters each. */
const shapes = (length, head = "", tail = "") => ({
  "digits then a letter": fill(length, "1", head, `x${tail}`),
  "digits and dots": fill(length, "1.", head, `x${tail}`),
  "1e runs": fill(length, "1e", head, tail),
  "escaped quotes": fill(length, '\\"', `${head}"`, tail),
  "doubled quotes": fill(length, "''", `${head}'`, tail),
  "backslash runs": fill(length, "\\", `${head}"`, tail),
  nesting: fill(length, "[", head, tail),
  "paren nesting": fill(length, "(", head, tail),
  "many clauses": fill(length, "metrics.a > 1 AND ", head, `metrics.a > 1${tail}`),
  // Refused at its first character: what moving a body of this size costs, parsing aside.
  "baseline (refused at once)": fill(length, "x", "", tail),
});

/** Every hostile request: [endpoint, shape, request options]. */
function hostileRequests({ experiment, runId, v1Run }) {
  const requests = [];
  const add = (endpoint, bodies, toRequest) => {
    for (const [shape, body] of Object.entries(bodies)) requests.push([endpoint, shape, toRequest(body)]);
  };
  const runsSearch = (extra) => ({ method: "POST", path: `${MLFLOW}/runs/search`, body: { experiment_ids: [experiment], ...extra }, auth: false });
  const experimentsSearch = (extra) => ({ method: "POST", path: `${MLFLOW}/experiments/search`, body: extra, auth: false });
  for (const length of [CAPS.filter, CAPS.body - KB]) {
    add("runs/search filter", shapes(length, "metrics.a > "), (filter) => runsSearch({ filter }));
    add("experiments/search filter", shapes(length, "tags.a = "), (filter) => experimentsSearch({ filter }));
  }
  for (const length of [CAPS.orderBy, 64 * KB]) {
    add("runs/search order_by", shapes(length, "metrics.`"), (item) => runsSearch({ order_by: [item] }));
    add("experiments/search order_by", shapes(length), (item) => experimentsSearch({ order_by: [item] }));
  }
  for (const length of [CAPS.pageToken, 64 * KB]) {
    add("runs/search page_token", shapes(length), (text) => runsSearch({ page_token: Buffer.from(text).toString("base64").slice(0, length) }));
    add("GET /api/v1/runs page_token", { base64url: fill(length, "A") }, (token) => ({ method: "GET", path: `/api/v1/runs?experiment=hostile&page_token=${token}`, auth: false }));
  }
  add("PUT config", shapes(CAPS.body - KB, '{"a": '), (body) => ({ method: "PUT", path: "/api/v1/runs/set_01/hostile_config", body, headers: { "Content-Type": "application/json" } }));
  const upload = (format, contentType) => (body) => ({
    method: "POST",
    path: `/api/v1/runs/${v1Run}/metrics?experiment=hostile&format=${format}`,
    body,
    headers: { "Content-Type": contentType },
  });
  add("POST metrics (csv)", shapes(CAPS.upload - KB, "step,loss\r\n0,"), upload("csv", "text/csv"));
  add("POST metrics (csv)", { "quoted cell": fill(CAPS.upload - KB, '""', 'step,loss\r\n0,"', '"\r\n') }, upload("csv", "text/csv"));
  add("POST metrics (metrics.json)", shapes(CAPS.upload - KB, '{"gat": '), upload("metrics.json", "application/json"));
  add("POST metrics (metrics.json)", shapes(CAPS.body - KB, '{"gat": '), upload("metrics.json", "application/json"));
  // MLflow string values of 80 KB, as many as fit in one body under the cap.
  const values = (text) => {
    const count = Math.max(1, Math.floor((CAPS.body - 16 * KB) / JSON.stringify(text).length));
    return Array.from({ length: count }, (_, i) => ({ key: `m${i}`, value: text, timestamp: 1, step: 0 }));
  };
  add("runs/log-batch string values", shapes(80 * KB), (text) => ({ method: "POST", path: `${MLFLOW}/runs/log-batch`, body: { run_id: runId, metrics: values(text) } }));
  return requests;
}

/** Issues the public read in a loop until stop() is called; returns each read's start, end and latency. */
/** Connections reset under a client (who, during which hostile request, the error): counted, not fatal. */
const resets = [];
let inFlight = "warm-up";

function readLoop(client) {
  const latencies = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const start = performance.now();
      const reply = await client.request({ method: "GET", path: "/api/v1/runs?experiment=hostile" }).catch((error) => {
        resets.push({ who: "public read", during: inFlight, error: error.message });
      });
      if (!reply) continue;
      expectOk(reply, "GET /api/v1/runs");
      latencies.push({ start, end: performance.now(), ms: reply.ms });
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return latencies;
    },
  };
}

export async function runHostileCost({ reads = 200 } = {}) {
  return withServer({ label: "hostile" }, async (server) => {
    const token = await mintToken(server.url);
    const writer = createClient(server.url, { token, maxSockets: 2 });
    const reader = createClient(server.url, { maxSockets: 1 });
    try {
      const experiment = await experimentId(writer, "hostile");
      const runId = await createMlflowRun(writer, experiment, "target");
      const v1Run = "set_01/hostile_metrics";
      expectOk(await writer.request({ method: "PUT", path: `/api/v1/runs/${v1Run}?experiment=hostile`, body: "{}" }), "PUT run");
      // The read's own latency, with nothing else going on (after a warm-up).
      for (let i = 0; i < 20; i++) await reader.request({ method: "GET", path: "/api/v1/runs?experiment=hostile" });
      const idle = [];
      for (let i = 0; i < reads; i++) idle.push(expectOk(await reader.request({ method: "GET", path: "/api/v1/runs?experiment=hostile" }), "GET /api/v1/runs").ms);

      const requests = hostileRequests({ experiment, runId, v1Run });
      // Warm-up: each endpoint's code path compiled once.
      for (const [, , request] of requests.slice(0, 3)) await writer.request(request);
      const loop = readLoop(reader);
      const answers = [];
      for (const [endpoint, shape, request] of requests) {
        const start = performance.now();
        inFlight = `${endpoint} ${shape}`;
        const reply = await writer.request(request).catch((error) => {
          resets.push({ who: "hostile client", during: inFlight, error: error.message });
        });
        if (!reply) continue;
        // 431: the request line is over the HTTP server's header limit (answered before the Worker runs).
        const message = reply.status >= 400 && reply.status !== 431 ? (jsonOf(reply, `${endpoint} ${shape}`).message ?? "") : "";
        const bytes = Buffer.byteLength(typeof request.body === "string" ? request.body : JSON.stringify(request.body ?? "")) + request.path.length;
        answers.push({ endpoint, shape, bytes, status: reply.status, ms: reply.ms, messageLength: message.length, start, end: performance.now() });
      }
      const sampled = await loop.stop();
      const busy = sampled.map((read) => read.ms);
      // The slowest read that overlapped a hostile request of each endpoint.
      const readDuring = (endpoint) =>
        Math.max(0, ...sampled.filter((read) => answers.some((a) => a.endpoint === endpoint && a.start < read.end && read.start < a.end)).map((read) => read.ms));
      const idleSummary = latencySummary(idle);
      const byEndpoint = {};
      for (const answer of answers) {
        const worst = byEndpoint[answer.endpoint];
        if (!worst || answer.ms > worst.ms) byEndpoint[answer.endpoint] = answer;
      }
      const endpoints = Object.values(byEndpoint).map((worst) => ({
        ...worst,
        requests: answers.filter((a) => a.endpoint === worst.endpoint).length,
        statuses: [...new Set(answers.filter((a) => a.endpoint === worst.endpoint).map((a) => a.status))].sort(),
        longestMessage: Math.max(...answers.filter((a) => a.endpoint === worst.endpoint).map((a) => a.messageLength)),
        slowestReadMs: readDuring(worst.endpoint),
        baselineMs: Math.max(...answers.filter((a) => a.endpoint === worst.endpoint && a.shape.startsWith("baseline") && a.bytes >= worst.bytes * 0.9).map((a) => a.ms)),
      }));
      const result = {
        environment: environmentNote(),
        targetMs: TARGET_MS,
        read: { idle: idleSummary, underAttack: latencySummary(busy), worstDelayMs: Math.max(...busy) - idleSummary.p50 },
        endpoints,
        answers,
        resets,
      };
      saveJson("hostile-cost", result);
      return result;
    } finally {
      writer.close();
      reader.close();
    }
  });
}

export function hostileCostMarkdown(result) {
  const rows = result.endpoints.map((e) => [
    e.endpoint,
    String(e.requests),
    e.statuses.join(", "),
    `${e.shape} (${fmt(e.bytes / KB)} KB)`,
    fmt(e.ms),
    Number.isFinite(e.baselineMs) ? fmt(e.baselineMs) : "-",
    fmt(e.slowestReadMs),
    String(e.longestMessage),
  ]);
  const { idle, underAttack, worstDelayMs } = result.read;
  return [
    table(["endpoint", "hostile requests", "statuses", "slowest body", "slowest answer (ms)", "same-size junk (ms)", "slowest read meanwhile (ms)", "longest message (chars)"], rows),
    "",
    `Public read GET /api/v1/runs: idle p50 ${fmt(idle.p50)} ms, max ${fmt(idle.max)} ms; during the hostile requests p50 ${fmt(underAttack.p50)} ms, max ${fmt(underAttack.max)} ms (${underAttack.n} reads); worst delay beyond idle p50: ${fmt(worstDelayMs)} ms (target < ${result.targetMs} ms).`,
    "",
    `Connections reset under a client: ${result.resets.length}${result.resets.map((r) => `\n- ${r.who}, during ${r.during}: ${r.error}`).join("")}`,
    "",
    `Taken ${result.environment.at} on ${result.environment.cpus}, load average ${result.environment.loadavg}.`,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { reads: { type: "string", default: "200" } } });
  const result = await runHostileCost({ reads: Number(values.reads) });
  console.log(hostileCostMarkdown(result));
}
