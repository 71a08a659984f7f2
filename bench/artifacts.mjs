// Artifacts: upload and download throughput of one file through the local Worker (R2 under
// .wrangler/state) and through MLflow 2.17.2's own artifact proxy (serve.sh), in the same run, and
// where the memory of a download goes: workerd's and the Node front's resident memory apart, the
// Worker isolate's own heap and the R2 simulation's (DevTools inspector, lib/isolate-heap.mjs),
// with a reader that takes the file at full speed and one that takes it slowly (a slow client must
// not make the server hold the file). A minimal Worker (bench/r2-minimal: B.put(body) and
// new Response(object.body), nothing else) runs after the tracker on the same state folder, through
// the same front and dev engine, and reads the same stored objects: what it costs is miniflare's.
// `node --experimental-websocket bench/artifacts.mjs [--mb 200] [--small-mb 20] [--put-mb 80] [--slow-mbps 16]
// [--mlflow-port 8852] [--port 8851] [--reference-port 8853]` writes bench/results/artifacts.json and
// the "Artifacts" figures in bench/README.md.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createMlflowRun, mintToken } from "./lib/api.mjs";
import { createClient } from "./lib/http.mjs";
import { isolateHeap } from "./lib/isolate-heap.mjs";
import { startMlflow } from "./lib/mlflow.mjs";
import { environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { removeDir, serverProcesses, tempStateDir, withServer } from "./lib/server.mjs";
import { fmt } from "./lib/stats.mjs";

/** The minimal Worker over the same R2 binding (see the top of this file). */
const REFERENCE_CONFIG = fileURLToPath(new URL("./r2-minimal/wrangler.toml", import.meta.url));
/** The service name of miniflare's R2 simulation, whose isolate the inspector also serves. */
const R2_ISOLATE = "r2:bucket";

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

/**
 * One HTTP request with the body streamed from a file range (or none); resolves with status,
 * headers, bytes and sha256 of the answer. readMiBps: read the answer at most that fast (a slow
 * client: the socket is paused whenever the reader is ahead of that rate).
 */
function send(url, { method = "GET", token, file, start = 0, length, headers = {}, readMiBps } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const all = { ...headers, ...(token && { Authorization: `Bearer ${token}` }), ...(file && { "Content-Length": String(length) }) };
    const req = request({ method, hostname: target.hostname, port: target.port, path: target.pathname + target.search, headers: all }, (res) => {
      const hash = createHash("sha256");
      const started = performance.now();
      let bytes = 0;
      const head = [];
      res.on("data", (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (head.length < 4) head.push(chunk);
        const ahead = readMiBps ? (bytes / MiB / readMiBps) * 1000 - (performance.now() - started) : 0;
        if (ahead > 1) {
          res.pause();
          setTimeout(() => res.resume(), ahead);
        }
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

/** Resident memory (MiB) of one process, from /proc. */
function rssMiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Runs fn while sampling (every 20 ms) the resident memory of the server's workerd processes and
 * of its Node process (the front, scripts/worker-front.mjs, with wrangler's dev engine), apart; and
 * when given, the heaps of the Worker's isolate and the R2 simulation's. Resolves to {result,
 * seconds, workerd: {beforeMiB, peakMiB}, front: {...}, worker?: heap sample, r2?: heap sample}; no
 * server: only timed (MLflow's).
 */
async function watched(server, fn) {
  const processes = server ? serverProcesses(server.persistTo) : [];
  const groups = {
    workerd: processes.filter((p) => p.comm.startsWith("workerd")).map((p) => p.pid),
    front: processes.filter((p) => p.comm === "node").map((p) => p.pid),
  };
  const total = (pids) => pids.reduce((sum, pid) => sum + rssMiB(pid), 0);
  const memory = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, { beforeMiB: total(pids), peakMiB: total(pids) }]));
  const sample = () => {
    for (const [name, pids] of Object.entries(groups)) memory[name].peakMiB = Math.max(memory[name].peakMiB, total(pids));
  };
  const timer = setInterval(sample, 20);
  const timedRun = async () => {
    const started = performance.now();
    const result = await fn();
    return { result, seconds: (performance.now() - started) / 1000 };
  };
  try {
    const heaps = server?.heaps;
    if (!heaps) return { ...(await timedRun()), ...memory };
    const r2 = await heaps.r2.sampled(() => heaps.worker.sampled(timedRun));
    const worker = r2.value;
    return { ...worker.value, ...memory, worker: heapFigures(worker), r2: heapFigures(r2) };
  } finally {
    clearInterval(timer);
    sample();
  }
}

const heapFigures = (h) => ({ baselineMb: h.baselineMb, peakMb: h.peakMb, baselineBackingMb: h.baselineBackingMb, peakBackingMb: h.peakBackingMb });

/** The inspectors of the Worker's isolate and of the R2 simulation's, on a server started with an inspectorPort. */
async function openHeaps(server) {
  const worker = await isolateHeap(server.output);
  const r2 = await isolateHeap(server.output, { isolate: R2_ISOLATE });
  return {
    worker,
    r2,
    close: () => {
      worker.close();
      r2.close();
    },
  };
}

const mbps = (bytes, seconds) => bytes / MiB / seconds;

/** One PUT of `f` to url; {uploadMBps, memory...}. */
async function putOnce(server, url, f, token) {
  const m = await watched(server, async () =>
    ok(await send(url, { method: "PUT", token, file: f.file, length: f.size, headers: { "Content-Type": "application/octet-stream" } }), `PUT ${url}`),
  );
  return { ...m, uploadMBps: mbps(f.size, m.seconds) };
}

/** One GET of url, hashed and checked against `f`; readMiBps: a slow reader. */
async function getOnce(server, url, f, token, readMiBps) {
  const m = await watched(server, async () => ok(await send(url, { token, readMiBps }), `GET ${url}`));
  if (m.result.bytes !== f.size || m.result.sha256 !== f.sha256) throw new Error(`the download of ${url} differs from the file`);
  return { ...m, downloadMBps: mbps(f.size, m.seconds) };
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
}

/** The name multipart() stores a file under (the base name of the client's local path, under mpu/). */
const multipartName = (f) => `mpu/${f.file.slice(f.file.lastIndexOf("/") + 1)}`;

/** MLflow's proxy: one PUT and one GET of each file into a run of its own server, started for this and stopped after. */
async function throughMlflow(port, files) {
  const mlflow = await startMlflow(port);
  if (!mlflow) return undefined;
  try {
    const created = await fetch(`${mlflow.url}/api/2.0/mlflow/runs/create`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ experiment_id: "0", start_time: 1 }),
    });
    const runId = (await created.json()).run.info.run_id;
    const figures = {};
    for (const f of files) {
      const url = `${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/${f.size}.bin`;
      const up = await putOnce(undefined, url, f);
      const down = await getOnce(undefined, url, f);
      figures[f.size / MiB] = { uploadMBps: up.uploadMBps, downloadMBps: down.downloadMBps };
    }
    return figures;
  } finally {
    mlflow.stop();
  }
}

/**
 * Downloads of `objects` ({label, mb, f, url}) by a slow reader first (memory: the RSS "before" of
 * a process only climbs, so these come first, the smallest first), then at full speed (throughput).
 */
async function downloads(server, objects, token, slowMiBps) {
  const slow = {};
  for (const o of objects) slow[o.label] = await getOnce(server, o.url, o.f, token, slowMiBps);
  const fast = {};
  for (const o of objects) fast[o.label] = await getOnce(server, o.url, o.f, token);
  return { slow, fast };
}

/** The tracker's Worker: single PUTs, multipart uploads, then downloads of what they stored. */
async function throughTracker(server, { small, largePut, big }, slowMiBps) {
  const token = await mintToken(server.url);
  const client = createClient(server.url, { token, maxSockets: 1 });
  const runId = await createMlflowRun(client, "0", "bench-artifacts", Date.now());
  client.close();
  const root = `0/${runId}/artifacts`;
  const proxy = (name) => `${server.url}/api/2.0/mlflow-artifacts/artifacts/${root}/${name}`;
  // Up to 100 MiB in one PUT; over it a single PUT is refused (Workers' request limit), so the
  // big file goes in parts, as the client sends it with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true.
  const uploads = {};
  for (const f of [small, largePut]) uploads[`one PUT, ${f.size / MiB} MiB`] = await putOnce(server, proxy(`${f.size}.bin`), f, token);
  for (const f of [small, big]) {
    const m = await watched(server, () => multipart(server.url, root, f, token));
    uploads[`multipart, ${f.size / MiB} MiB`] = { ...m, uploadMBps: mbps(f.size, m.seconds) };
  }
  // The R2 keys are the proxy's paths: the minimal Worker reads the same objects by them.
  const objects = [
    ...[small, largePut].map((f) => ({ label: `one PUT, ${f.size / MiB} MiB`, f, key: `${root}/${f.size}.bin` })),
    ...[small, big].map((f) => ({ label: `multipart, ${f.size / MiB} MiB`, f, key: `${root}/${multipartName(f)}` })),
  ];
  server.heaps = await openHeaps(server);
  try {
    const read = await downloads(
      server,
      objects.map((o) => ({ ...o, url: proxy(o.key.slice(root.length + 1)) })),
      token,
      slowMiBps,
    );
    return { uploads, ...read, objects: objects.map(({ label, key, f }) => ({ label, key, mb: f.size / MiB })) };
  } finally {
    server.heaps.close();
  }
}

/** The minimal Worker (bench/r2-minimal) on the tracker's state folder: its single PUTs, and downloads of the tracker's objects. */
async function throughReference(server, { small, largePut, big }, objects, slowMiBps) {
  const uploads = {};
  for (const f of [small, largePut]) uploads[`one PUT, ${f.size / MiB} MiB`] = await putOnce(server, `${server.url}/api/reference/${f.size}.bin`, f);
  server.heaps = await openHeaps(server);
  try {
    const bySize = new Map([small, largePut, big].map((f) => [f.size / MiB, f]));
    const read = await downloads(
      server,
      objects.map((o) => ({ ...o, f: bySize.get(o.mb), url: `${server.url}/api/${o.key}` })),
      undefined,
      slowMiBps,
    );
    return { uploads, ...read };
  } finally {
    server.heaps.close();
  }
}

export async function runArtifacts({ mb = 200, smallMb = 20, putMb = 80, slowMiBps = 16, mlflowPort = 8852, port = 8851, referencePort = 8853 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kdgat-bench-artifacts-"));
  const persistTo = tempStateDir("artifacts");
  try {
    const files = { small: makeFile(dir, smallMb), largePut: makeFile(dir, putMb), big: makeFile(dir, mb) };
    const mlflow = await throughMlflow(mlflowPort, [files.largePut, files.big]);
    const onFailure = (server) => (error) => {
      // The local server's last output says why it dropped a request (a reload, a crash).
      console.error(server.output?.().slice(-4000));
      throw error;
    };
    const worker = await withServer({ label: "artifacts", port, persistTo, inspectorPort: 0 }, (server) => throughTracker(server, files, slowMiBps).catch(onFailure(server)));
    const reference = await withServer({ label: "artifacts-reference", port: referencePort, persistTo, inspectorPort: 0, config: REFERENCE_CONFIG }, (server) =>
      throughReference(server, files, worker.objects, slowMiBps).catch(onFailure(server)),
    );
    return { env: environmentNote(), mb, smallMb, putMb, slowMiBps, partMiB: PART_BYTES / MiB, partConcurrency: PART_CONCURRENCY, mlflow, worker, reference };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    removeDir(persistTo);
  }
}

const rise = (m) => fmt(m.peakMiB - m.beforeMiB);

export function artifactsMarkdown(r) {
  const w = r.worker;
  const ref = r.reference;
  const labels = w.objects.map((o) => o.label);
  const throughput = [
    ...labels.map((label) => [`tracker Worker, ${label}`, w.uploads[label] ? fmt(w.uploads[label].uploadMBps) : "", fmt(w.fast[label].downloadMBps)]),
    ...labels.map((label) => [
      `minimal Worker, ${label.startsWith("one PUT") ? label : `${label} (stored by the tracker)`}`,
      ref.uploads[label] ? fmt(ref.uploads[label].uploadMBps) : "",
      fmt(ref.fast[label].downloadMBps),
    ]),
    ...(r.mlflow ? Object.entries(r.mlflow).map(([size, m]) => [`MLflow 2.17.2's proxy (serve.sh), one PUT, ${size} MiB`, fmt(m.uploadMBps), fmt(m.downloadMBps)]) : []),
  ];
  const heap = (h) => `${fmt(h.peakMb - h.baselineMb)} + ${fmt(h.peakBackingMb - h.baselineBackingMb)}`;
  const slowRow = (who, m, label) => [`${who}, ${label}`, rise(m.workerd), rise(m.front), heap(m.worker), heap(m.r2)];
  const slow = [...labels.map((label) => slowRow("tracker", w.slow[label], label)), ...labels.map((label) => slowRow("minimal", ref.slow[label], label))];
  const fastRow = (who, m, label) => [`${who}, ${label}`, rise(m.workerd), rise(m.front), heap(m.worker), heap(m.r2)];
  const fast = [...labels.map((label) => fastRow("tracker", w.fast[label], label)), ...labels.map((label) => fastRow("minimal", ref.fast[label], label))];
  const uploads = Object.entries(w.uploads).map(([label, m]) => [`tracker, ${label}`, fmt(m.workerd.beforeMiB), rise(m.workerd), rise(m.front)]);
  const heapNote = "JS heap + ArrayBuffers, peak - baseline after a forced GC, MiB";
  return [
    `Measured ${r.env.at} on ${r.env.cpus}, load ${r.env.loadavg} (other work on the machine: ${r.env.topProcesses}). Command: \`node --experimental-websocket bench/artifacts.mjs --mb ${r.mb} --small-mb ${r.smallMb} --put-mb ${r.putMb} --slow-mbps ${r.slowMiBps}\`.`,
    "The Worker runs locally (wrangler's dev engine behind scripts/worker-front.mjs; R2 is miniflare's simulation under the state folder), MLflow's server beside it, both on the same machine in the same run; every download is hashed and checked against the file. The minimal Worker (bench/r2-minimal: `put(request.body)`, `new Response(object.body)`) runs next through the same front and engine on the same state folder and reads the same objects.",
    "",
    `Throughput, MiB/s (multipart: ${r.partMiB} MiB parts, ${r.partConcurrency} at a time; downloads at full speed):`,
    "",
    table(["path", "upload", "download"], throughput),
    "",
    `Memory of a download read slowly (${r.slowMiBps} MiB/s), MiB: rise of workerd's and of the front's resident memory (peak - before, sampled every 20 ms), and the Worker's and the R2 simulation's isolates (${heapNote}):`,
    "",
    table(["download", "workerd", "front", "Worker isolate", "R2 simulation isolate"], slow),
    "",
    "The same, read at full speed (after the slow ones: RSS only climbs, so a rise already taken does not show again):",
    "",
    table(["download", "workerd", "front", "Worker isolate", "R2 simulation isolate"], fast),
    "",
    "Uploads through the tracker, resident memory (MiB):",
    "",
    table(["upload", "workerd before", "workerd rise", "front rise"], uploads),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      mb: { type: "string", default: "200" },
      "small-mb": { type: "string", default: "20" },
      "put-mb": { type: "string", default: "80" },
      "slow-mbps": { type: "string", default: "16" },
      "mlflow-port": { type: "string", default: "8852" },
      port: { type: "string", default: "8851" },
      "reference-port": { type: "string", default: "8853" },
    },
  });
  const result = await runArtifacts({
    mb: Number(values.mb),
    smallMb: Number(values["small-mb"]),
    putMb: Number(values["put-mb"]),
    slowMiBps: Number(values["slow-mbps"]),
    mlflowPort: Number(values["mlflow-port"]),
    port: Number(values.port),
    referencePort: Number(values["reference-port"]),
  });
  saveJson("artifacts", result);
  const markdown = artifactsMarkdown(result);
  writeReadmeBlock("artifacts", "Artifacts (`node bench/artifacts.mjs`)", markdown);
  console.log(markdown);
}
