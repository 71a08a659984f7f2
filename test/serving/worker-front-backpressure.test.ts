/**
 * The local front (scripts/worker-front.mjs) relays bodies with backpressure both ways: a client
 * that reads a large download slowly holds the Worker back instead of making the front buffer the
 * answer, and a Worker that reads an upload slowly holds the client back. The Worker here is a
 * plain HTTP server that makes its body only as it is asked for (and counts it), so how far it got
 * ahead of the reader is exact: with backpressure, socket buffers' worth; without, the whole body.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local-server.mjs";
import { startWorkerFront } from "../../scripts/worker-front.mjs";

const MiB = 1024 * 1024;
/** The body each way: far more than every buffer on the path (Node's streams and the kernel's sockets). */
const BODY_BYTES = 256 * MiB;
/** What the buffers between the two ends may hold at most (two loopback connections' socket buffers and Node's). */
const IN_FLIGHT_BYTES = 48 * MiB;
const CHUNK = Buffer.alloc(MiB, 7);

/** A body of BODY_BYTES made chunk by chunk only when its reader asks; made() is how much so far. */
function lazyBody() {
  let made = 0;
  const stream = new Readable({
    highWaterMark: MiB,
    read() {
      if (made >= BODY_BYTES) return void this.push(null);
      made += CHUNK.length;
      this.push(CHUNK);
    },
  });
  return { stream, made: () => made };
}

/** Resolves once value() has not changed for 500 ms (the buffers on the way are full). */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  let sameSince = Date.now();
  while (Date.now() - sameSince < 500) {
    await new Promise((r) => setTimeout(r, 50));
    if (value() !== last) {
      last = value();
      sameSince = Date.now();
    }
  }
  return last;
}

let worker: Server;
let front: Awaited<ReturnType<typeof startWorkerFront>>;
let frontPort: number;
let download: ReturnType<typeof lazyBody>;
/** The upload as the Worker got it: paused until resumeUpload(), then counted to its end. */
let uploadReceived: Promise<number>;
let resumeUpload: () => void;

beforeAll(async () => {
  worker = createServer((req, res) => {
    if (req.method === "GET") {
      download = lazyBody();
      res.writeHead(200, { "Content-Length": String(BODY_BYTES) });
      download.stream.pipe(res);
      return;
    }
    req.pause();
    uploadReceived = new Promise((resolve) => {
      resumeUpload = () => {
        let bytes = 0;
        req.on("data", (chunk: Buffer) => (bytes += chunk.length));
        req.on("end", () => {
          res.end("{}");
          resolve(bytes);
        });
        req.resume();
      };
    });
  });
  await new Promise<void>((resolve) => worker.listen(0, "127.0.0.1", resolve));
  frontPort = await freePort();
  front = await startWorkerFront({ hostname: "127.0.0.1", port: frontPort, logRequests: false });
  const { port } = worker.address() as AddressInfo;
  front.controller.onReloadComplete({ proxyData: { userWorkerUrl: { protocol: "http:", hostname: "127.0.0.1", port: String(port) }, headers: {} }, config: { name: "w" } });
});

afterAll(async () => {
  await front?.controller.teardown();
  worker?.closeAllConnections();
  await new Promise((resolve) => worker?.close(resolve));
});

describe("the front between a client and the Worker", () => {
  it("lets a slow reader of a large download hold the Worker back, then relays all of it", async () => {
    const answer = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      request({ host: "127.0.0.1", port: frontPort, path: "/api/2.0/mlflow-artifacts/artifacts/big.bin" }, resolve).on("error", reject).end();
    });
    answer.pause();
    const made = await settled(() => download.made());
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(IN_FLIGHT_BYTES);
    let bytes = 0;
    answer.on("data", (chunk: Buffer) => (bytes += chunk.length));
    const ended = new Promise((resolve) => answer.on("end", resolve));
    answer.resume();
    await ended;
    expect(bytes).toBe(BODY_BYTES);
  });

  it("lets a Worker that reads an upload slowly hold the client back, then relays all of it", async () => {
    const upload = lazyBody();
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: frontPort, method: "PUT", path: "/api/2.0/mlflow-artifacts/artifacts/big.bin", headers: { "Content-Length": String(BODY_BYTES) } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      upload.stream.pipe(req);
    });
    const made = await settled(() => upload.made());
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(IN_FLIGHT_BYTES);
    resumeUpload();
    expect(await uploadReceived).toBe(BODY_BYTES);
    expect(await answered).toBe(200);
  });
});
