/**
 * The local server (`npm start`, the Node tests, the benchmarks) keeps clients apart, as production
 * does: a request refused early, cut, or hung up by its client gets its own answer (or none) and the
 * next client's write is executed and stored. Each hostile request goes over its own raw socket.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const MLFLOW_BODY_CAP = 1024 * 1024;
const UPLOAD_BODY_CAP = 8 * 1024 * 1024;
/** How long a hostile client waits for its answer; an early refusal comes in milliseconds. */
const ANSWER_WAIT_MS = 10_000;

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = await server.mintToken("serving-isolation");
});

afterAll(async () => {
  await server?.stop();
});

interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string | number>;
  /** What is sent of the body (never its end, for a chunked one). */
  body: Buffer[];
  /** Destroy the socket once the request is sent instead of waiting for the answer. */
  hangUp?: boolean;
}

/** `bytes` of body in 64 KiB pieces, each framed as an HTTP chunk when `chunked`. */
function bodyOf(bytes: number, chunked: boolean): Buffer[] {
  const piece = Buffer.alloc(64 * 1024, "x");
  return Array.from({ length: Math.ceil(bytes / piece.length) }, () => (chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece));
}

/**
 * Sends the request over a socket of its own; resolves with the status of the answer, or undefined
 * when none came (hung up, or nothing within ANSWER_WAIT_MS).
 */
function sendRaw(request: HostileRequest): Promise<number | undefined> {
  const head = [`${request.method} ${request.path} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`), "", ""].join(
    "\r\n",
  );
  return new Promise((resolve) => {
    const socket = connect(server.port, "127.0.0.1");
    let received = "";
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(undefined), ANSWER_WAIT_MS);
    socket.on("error", () => {});
    socket.on("data", (data) => {
      received += data.toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(received);
      if (status) done(Number(status[1]));
    });
    socket.on("close", () => done(undefined));
    socket.on("connect", () => {
      socket.write(head);
      for (const piece of request.body) socket.write(piece);
      // Hang up once the server has the request (its head, and what there is of the body).
      if (request.hangUp) setTimeout(() => done(undefined), 300);
    });
  });
}

let writes = 0;

/** Another client's MLflow write and a /api/v1 write, each answered, executed and read back. */
async function innocentWritesSucceed() {
  const name = `innocent-${++writes}`;
  const created = await server.call("POST", "/api/2.0/mlflow/experiments/create", { token, body: { name } });
  expect(created.status, created.text).toBe(200);
  const { experiment_id } = created.json as { experiment_id: string };
  const read = await server.call("GET", "/api/2.0/mlflow/experiments/get-by-name", { query: { experiment_name: name } });
  expect((read.json as { experiment: { experiment_id: string } }).experiment.experiment_id).toBe(experiment_id);

  const run = `/api/v1/runs/hcrl_sa/${name}`;
  const query = { experiment: "serving-isolation" };
  const started = await server.call("PUT", run, { token, query, body: { lr: 0.5 } });
  expect(started.status, started.text).toBe(201);
  const stored = await server.call("GET", run, { query });
  expect(stored.status).toBe(200);
  expect(JSON.stringify(stored.json)).toContain('"lr"');
}

const mlflowCreate = "/api/2.0/mlflow/experiments/create";
const upload = "/api/v1/runs/hcrl_sa/hostile_upload/metrics?experiment=serving-isolation";

const refusedEarly: Array<[string, () => HostileRequest, number]> = [
  [
    "an over-cap chunked POST to an MLflow route",
    () => ({ method: "POST", path: mlflowCreate, headers: { Authorization: `Bearer ${token}`, "Transfer-Encoding": "chunked" }, body: bodyOf(3 * MLFLOW_BODY_CAP, true) }),
    400,
  ],
  [
    "an over-cap chunked /api/v1 upload",
    () => ({ method: "POST", path: upload, headers: { Authorization: `Bearer ${token}`, "Transfer-Encoding": "chunked" }, body: bodyOf(UPLOAD_BODY_CAP + 2 * MLFLOW_BODY_CAP, true) }),
    400,
  ],
  [
    "a declared Content-Length over the cap, with part of the body",
    () => ({ method: "POST", path: mlflowCreate, headers: { Authorization: `Bearer ${token}`, "Content-Length": 50 * MLFLOW_BODY_CAP }, body: bodyOf(2 * MLFLOW_BODY_CAP, false) }),
    400,
  ],
  [
    "a bad token with a large body still streaming",
    () => ({ method: "POST", path: mlflowCreate, headers: { Authorization: "Bearer not-a-token", "Transfer-Encoding": "chunked" }, body: bodyOf(3 * MLFLOW_BODY_CAP, true) }),
    401,
  ],
];

for (const [label, request, status] of refusedEarly) {
  it(`${label}: its client reads the ${status} at once, the next client's writes succeed`, async () => {
    // Soft, so that a missing answer and a failed next write are both reported.
    expect.soft(await sendRaw(request())).toBe(status);
    await innocentWritesSucceed();
  });
}

const hungUp: Array<[string, () => HostileRequest]> = [
  ["a GET that declares a body, never sends it and hangs up", () => ({ method: "GET", path: "/api/v1/runs", headers: { "Content-Length": 100 }, body: [], hangUp: true })],
  [
    "a write that declares a body, never sends it and hangs up",
    () => ({ method: "POST", path: mlflowCreate, headers: { Authorization: `Bearer ${token}`, "Content-Length": 100 }, body: [], hangUp: true }),
  ],
];

for (const [label, request] of hungUp) {
  it(`${label}: the next client's writes succeed`, async () => {
    expect(await sendRaw(request())).toBeUndefined();
    await innocentWritesSucceed();
  });
}

it("a write that sends half its body and hangs up is not executed, and the next client's writes succeed", async () => {
  const halfSent = {
    method: "POST",
    path: mlflowCreate,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": 64 },
    body: [Buffer.from('{"name": "half-sent"')],
    hangUp: true,
  };
  expect(await sendRaw(halfSent)).toBeUndefined();
  await innocentWritesSucceed();
  const read = await server.call("GET", "/api/2.0/mlflow/experiments/get-by-name", { query: { experiment_name: "half-sent" } });
  expect(read.status).toBe(404);
});
