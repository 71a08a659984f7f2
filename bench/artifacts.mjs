// Artifacts: upload and download throughput of one file through the local Worker (R2 under
// .wrangler/state) and through MLflow 2.17.2's own artifact proxy (serve.sh), in the same run, and
// the Worker's memory against the file size (peak RSS of its workerd, sampled every 20 ms).
// `node bench/artifacts.mjs [--mb 200] [--small-mb 20] [--put-mb 80] [--mlflow-port 8852] [--port 8851]` writes
// bench/results/artifacts.json and the "Artifacts" figures in bench/README.md.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createMlflowRun, mintToken } from "./lib/api.mjs";
import { createClient } from "./lib/http.mjs";
import { startMlflow } from "./lib/mlflow.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { serverProcesses, withServer } from "./lib/server.mjs";
import { fmt } from "./lib/stats.mjs";

const MiB = 1024 * 1024;
const PART_BYTES = 10 * MiB; // MLflow's default MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE
const PART_CONCURRENCY = 4;

function makeFile(dir, mb) {
  const file = join(dir, `file-${mb}mb.bin`);
  const hash = createHash("sha256");
  const chunk = randomBytes(MiB);
  const parts = [];
  for (let i = 0; i < mb; i++) parts.push(chunk);
  const all = Buffer.concat(parts);
  writeFileSync(file, all);
  hash.update(all);
  return { file, size: all.length, sha256: hash.digest("hex") };
}

/** One HTTP request with the body streamed from a file range (or none); resolves with status, headers, bytes and sha256 of the answer. */
function send(url, { method = "GET", token, file, start = 0, length, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const all = { ...headers, ...(token && { Authorization: `Bearer ${token}` }), ...(file && { "Content-Length": String(length) }) };
    const req = request({ method, hostname: target.hostname, port: target.port, path: target.pathname + target.search, headers: all }, (res) => {
      const hash = createHash("sha256");
      let bytes = 0;
      const head = [];
      res.on("data", (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (head.length < 4) head.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, bytes, sha256: hash.digest("hex"), text: Buffer.concat(head).toString("utf8").slice(0, 500) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (file) createReadStream(file, { start, end: start + length - 1 }).pipe(req);
    else req.end();
  });
}

const ok = (reply, what) => {
  if (reply.status !== 200) throw new Error(`${what}: ${reply.status} ${reply.text}`);
  return reply;
};

/** Resident memory (MiB) of these processes, from /proc. */
function rssMiB(pids) {
  return pids.reduce((sum, pid) => {
    try {
      return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);
}

/** Peak resident memory (MiB) of the workerd processes of the server under persistTo, sampled every 20 ms while fn runs. */
async function peakRss(persistTo, fn) {
  const pids = serverProcesses(persistTo)
    .filter((p) => p.comm.startsWith("workerd"))
    .map((p) => p.pid);
  const before = rssMiB(pids);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pids));
  }, 20);
  try {
    const result = await fn();
    return { result, beforeMiB: before, peakMiB: Math.max(peak, rssMiB(pids)) };
  } finally {
    clearInterval(timer);
  }
}

async function timed(fn) {
  const started = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - started) / 1000 };
}

const mbps = (bytes, seconds) => bytes / MiB / seconds;

/** Upload (one PUT), download (one GET) of `f` into a run's artifact root on `base`. */
async function putAndGet(base, root, f, token) {
  const url = `${base}/api/2.0/mlflow-artifacts/artifacts/${root}/${f.size}.bin`;
  const up = await timed(async () => ok(await send(url, { method: "PUT", token, file: f.file, length: f.size, headers: { "Content-Type": "application/octet-stream" } }), `PUT ${url}`));
  const down = await timed(async () => ok(await send(url, { token }), `GET ${url}`));
  if (down.result.bytes !== f.size || down.result.sha256 !== f.sha256) throw new Error(`download of ${url} differs from the upload`);
  return { uploadMBps: mbps(f.size, up.seconds), downloadMBps: mbps(f.size, down.seconds), uploadSeconds: up.seconds, downloadSeconds: down.seconds };
}

/** The client's proxied multipart upload: mpu/create, 10 MiB parts (4 at a time) to the signed URLs, mpu/complete. */
async function multipart(base, root, f, token) {
  const json = (reply) => JSON.parse(Buffer.from(reply.text).toString());
  const post = async (route, body) => {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const target = new URL(`${base}/api/2.0/mlflow-artifacts/mpu/${route}/${root}/mpu`);
      const req = request(
        {
          method: "POST",
          hostname: target.hostname,
          port: target.port,
          path: target.pathname,
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  };
  const run = await timed(async () => {
    const numParts = Math.ceil(f.size / PART_BYTES);
    const create = await post("create", { path: f.file, num_parts: numParts });
    if (create.status !== 200) throw new Error(`mpu/create: ${create.status} ${create.text}`);
    const { upload_id, credentials } = json(create);
    const parts = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PART_CONCURRENCY }, async () => {
        while (next < credentials.length) {
          const c = credentials[next++];
          const start = (c.part_number - 1) * PART_BYTES;
          const reply = ok(await send(c.url, { method: "PUT", file: f.file, start, length: Math.min(PART_BYTES, f.size - start) }), `part ${c.part_number}`);
          parts.push({ part_number: c.part_number, etag: reply.headers.etag, url: c.url });
        }
      }),
    );
    parts.sort((a, b) => a.part_number - b.part_number);
    const done = await post("complete", { path: f.file, upload_id, parts });
    if (done.status !== 200) throw new Error(`mpu/complete: ${done.status} ${done.text}`);
  });
  return { uploadMBps: mbps(f.size, run.seconds), uploadSeconds: run.seconds };
}

/** One GET of what multipart() stored, hashed and checked against the file. */
async function getBack(base, root, f, token) {
  const name = f.file.slice(f.file.lastIndexOf("/") + 1);
  const url = `${base}/api/2.0/mlflow-artifacts/artifacts/${root}/mpu/${name}`;
  const down = await timed(async () => ok(await send(url, { token }), "GET multipart"));
  if (down.result.sha256 !== f.sha256 || down.result.bytes !== f.size) throw new Error("the multipart upload differs from the file");
  return { downloadMBps: mbps(f.size, down.seconds), downloadSeconds: down.seconds };
}

/** MLflow's proxy: one PUT and one GET of the file into a run of its own server, started for this and stopped after. */
async function throughMlflow(port, f) {
  const mlflow = await startMlflow(port);
  if (!mlflow) return undefined;
  try {
    const created = await fetch(`${mlflow.url}/api/2.0/mlflow/runs/create`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ experiment_id: "0", start_time: 1 }),
    });
    const runId = (await created.json()).run.info.run_id;
    return await putAndGet(mlflow.url, `0/${runId}/artifacts`, f);
  } finally {
    mlflow.stop();
  }
}

export async function runArtifacts({ mb = 200, smallMb = 20, putMb = 80, mlflowPort = 8852, port = 8851 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kdgat-bench-artifacts-"));
  try {
    const big = makeFile(dir, mb);
    const small = makeFile(dir, smallMb);
    const largePut = makeFile(dir, putMb);
    const mlflow = await throughMlflow(mlflowPort, big);
    const worker = await withServer({ label: "artifacts", port }, async (server) => {
      try {
        return await throughWorker(server);
      } catch (error) {
        // The local server's last output says why it dropped a request (a reload, a crash).
        console.error(server.output?.().slice(-4000));
        throw error;
      }
    });
    async function throughWorker(server) {
      const token = await mintToken(server.url);
      const client = createClient(server.url, { token, maxSockets: 1 });
      const runId = await createMlflowRun(client, "0", "bench-artifacts", Date.now());
      client.close();
      const root = `0/${runId}/artifacts`;
      // Up to 100 MiB in one PUT; over it a single PUT is refused (Workers' request limit), so the
      // big file goes in parts, as the client sends it with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true.
      const single = {};
      for (const f of [small, largePut]) {
        const sample = await peakRss(server.persistTo, () => putAndGet(server.url, root, f, token));
        single[f.size / MiB] = { ...sample.result, workerdBeforeMiB: sample.beforeMiB, workerdPeakMiB: sample.peakMiB };
      }
      const sizes = {};
      for (const f of [small, big]) {
        const up = await peakRss(server.persistTo, () => multipart(server.url, root, f, token));
        const down = await peakRss(server.persistTo, () => getBack(server.url, root, f, token));
        sizes[f.size / MiB] = { ...up.result, ...down.result, workerdBeforeMiB: up.beforeMiB, workerdPeakMiB: up.peakMiB, downloadBeforeMiB: down.beforeMiB, downloadPeakMiB: down.peakMiB };
      }
      return { single, multipart: sizes };
    }
    return { env: environmentNote(), mb, smallMb, putMb, partMiB: PART_BYTES / MiB, partConcurrency: PART_CONCURRENCY, mlflow, worker };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function artifactsMarkdown(r) {
  const single = r.worker.single;
  const parts = r.worker.multipart;
  const rows = [
    ...[r.smallMb, r.putMb].map((mb) => [`Worker, one PUT, one GET (${mb} MiB)`, fmt(single[mb].uploadMBps), fmt(single[mb].downloadMBps)]),
    ...[r.smallMb, r.mb].map((mb) => [
      `Worker, multipart (${r.partMiB} MiB parts, ${r.partConcurrency} at a time), one GET (${mb} MiB)`,
      fmt(parts[mb].uploadMBps),
      fmt(parts[mb].downloadMBps),
    ]),
    ...(r.mlflow ? [[`MLflow 2.17.2's proxy (serve.sh), one PUT, one GET (${r.mb} MiB)`, fmt(r.mlflow.uploadMBps), fmt(r.mlflow.downloadMBps)]] : []),
  ];
  const line = (label, m) => [label, fmt(m.workerdBeforeMiB), fmt(m.workerdPeakMiB), fmt(m.workerdPeakMiB - m.workerdBeforeMiB)];
  const get = (m) => ({ workerdBeforeMiB: m.downloadBeforeMiB, workerdPeakMiB: m.downloadPeakMiB });
  const memory = [
    ...[r.smallMb, r.putMb].map((mb) => line(`${mb} MiB, one PUT + GET`, single[mb])),
    ...[r.smallMb, r.mb].flatMap((mb) => [line(`${mb} MiB, multipart upload`, parts[mb]), line(`${mb} MiB, GET`, get(parts[mb]))]),
  ];
  return [
    `Measured ${r.env.at} on ${r.env.cpus}, load ${r.env.loadavg} (other work on the machine: ${r.env.topProcesses}). Command: \`node bench/artifacts.mjs --mb ${r.mb} --small-mb ${r.smallMb} --put-mb ${r.putMb}\`.`,
    "The Worker runs locally (wrangler's dev engine behind scripts/worker-front.mjs; R2 is its local simulation under the state folder), MLflow's server beside it, both on the same machine in the same run; every download is hashed and checked against the file.",
    "",
    "Throughput, MiB/s:",
    "",
    table(["path", "upload", "download"], rows),
    "",
    "workerd's resident memory (MiB, all its processes; peak sampled every 20 ms) around each upload and download:",
    "",
    table(["file", "before", "peak", "peak - before"], memory),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      mb: { type: "string", default: "200" },
      "small-mb": { type: "string", default: "20" },
      "put-mb": { type: "string", default: "80" },
      "mlflow-port": { type: "string", default: "8852" },
      port: { type: "string", default: "8851" },
    },
  });
  const result = await runArtifacts({
    mb: Number(values.mb),
    smallMb: Number(values["small-mb"]),
    putMb: Number(values["put-mb"]),
    mlflowPort: Number(values["mlflow-port"]),
    port: Number(values.port),
  });
  saveJson("artifacts", result);
  const markdown = artifactsMarkdown(result);
  writeReadmeBlock("artifacts", "Artifacts (`node bench/artifacts.mjs`)", markdown);
  console.log(markdown);
}
