/**
 * The shared HTTP client (functions/client) against a real HTTP server on this machine that fails
 * on purpose: what is retried (network errors, an answer cut short, 5xx, 429), how long it waits
 * (the core's backoff, or a longer Retry-After), what is not (4xx, a Retry-After past the limit, a
 * timeout when asked), and paging to the end through the typed v1 client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { allPages, csvPage, retryingFetch, UnreachableError, v1Client } from "../../functions/client/index.js";
import { HTTP_BACKOFF, MAX_RETRY_AFTER_MS } from "../../functions/domain/retry.js";

type Step = (req: IncomingMessage, res: ServerResponse) => void;
let script: Step[] = [];
const seen: string[] = [];
let server: Server;
let base = "";

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Step =>
  (_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
/** Promises a long answer, sends half of it, and hangs up. */
const cutShort: Step = (_req, res) => {
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
  res.write('{"partial": ');
  setTimeout(() => res.destroy(), 20);
};
const hangUp: Step = (req) => req.socket.destroy();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? "");
    const step = script.shift() ?? json(500, { error_code: "INTERNAL_ERROR", message: "script ran out" });
    step(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  script = [];
  seen.length = 0;
});

/**
 * A retrying fetch that records its waits instead of sleeping them. The tests below call it as
 * `fetch` (not the global one, and not test/support/call.ts): this client is what is under test.
 */
function recorded(options: Parameters<typeof retryingFetch>[0] = {}) {
  const waits: number[] = [];
  const fetch = retryingFetch({ ...options, wait: async (ms) => void waits.push(ms) });
  return { fetch, waits };
}

describe("retryingFetch", () => {
  it("retries a hang-up, an answer cut short and 5xx with the core's doubling backoff, and returns the answer", async () => {
    script = [hangUp, cutShort, json(503, {}), json(502, {}), json(200, { ok: true })];
    const { fetch, waits } = recorded();
    const response = await fetch(`${base}/x`);
    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
    expect(seen).toHaveLength(5);
    expect(waits).toHaveLength(4);
    waits.forEach((ms, i) => {
      const ceiling = HTTP_BACKOFF.firstMs * 2 ** i;
      expect(ms, `wait ${i + 1}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms, `wait ${i + 1}`).toBeLessThanOrEqual(ceiling);
    });
  });

  it("waits out a 429's Retry-After when it is longer than the backoff", async () => {
    script = [json(429, { error_code: "REQUEST_LIMIT_EXCEEDED" }, { "Retry-After": "7" }), json(200, {})];
    const { fetch, waits } = recorded();
    expect((await fetch(`${base}/x`)).status).toBe(200);
    expect(waits).toEqual([7000]);
  });

  it("does not retry a 4xx, nor an answer whose Retry-After is past the limit", async () => {
    script = [json(400, { error_code: "INVALID_PARAMETER_VALUE", message: "no" })];
    const { fetch, waits } = recorded();
    const refused = await fetch(`${base}/x`);
    expect([refused.status, await refused.json()]).toEqual([400, { error_code: "INVALID_PARAMETER_VALUE", message: "no" }]);
    script = [json(503, {}, { "Retry-After": String(MAX_RETRY_AFTER_MS / 1000 + 1) })];
    expect((await fetch(`${base}/x`)).status).toBe(503);
    expect([seen.length, waits]).toEqual([2, []]);
  });

  it("after its retries, returns the last 5xx, and throws UnreachableError when nothing answered", async () => {
    script = [json(503, {}), json(503, {}), json(503, { last: true })];
    const { fetch, waits } = recorded({ backoff: { ...HTTP_BACKOFF, retries: 2 } });
    const last = await fetch(`${base}/x`);
    expect([last.status, await last.json(), waits.length]).toEqual([503, { last: true }, 2]);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await fetch(`http://127.0.0.1:${port}/y`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect([(error as UnreachableError).reason, (error as UnreachableError).timedOut]).toEqual(["ECONNREFUSED", false]);
    expect(waits.length).toBe(4);
  });

  it("gives up on a silent server at the first timeout when asked to", async () => {
    script = [() => {}];
    const { fetch, waits } = recorded({ timeoutMs: 300, retryTimeouts: false });
    const error = (await fetch(`${base}/silent`).catch((e: unknown) => e)) as UnreachableError;
    expect([error.reason, error.timedOut, waits.length]).toEqual(["no answer within 300 ms", true, 0]);
    server.closeAllConnections();
  });
});

describe("pages through the typed v1 client", () => {
  const page = (runs: string[], next?: string) => json(200, { format: "kdgat-export", version: 1, exported_at: 1, experiments: [], runs, ...(next && { next_page_token: next }) });

  it("follows next_page_token to the last page, retrying a failed page on the way", async () => {
    script = [page(["a"], "t1"), json(503, {}), page(["b"], "t2"), page(["c"])];
    const client = v1Client(base, { token: "secret-token", wait: async () => {} });
    const all = await allPages(async (page_token) => (await client.export.$get({ query: { page_token } })).json());
    expect(all.map((p) => p.runs)).toEqual([["a"], ["b"], ["c"]]);
    expect(seen).toEqual(["/api/v1/export", "/api/v1/export?page_token=t1", "/api/v1/export?page_token=t1", "/api/v1/export?page_token=t2"]);
  });

  it("refuses a page token that comes back twice: the read would never end", async () => {
    script = [page(["a"], "loop"), page(["b"], "loop")];
    const client = v1Client(base);
    await expect(allPages(async (page_token) => (await client.export.$get({ query: { page_token } })).json())).rejects.toThrow(/twice/);
  });

  it("follows X-Next-Page-Token for CSV pages", async () => {
    const csv =
      (text: string, next?: string): Step =>
      (_req, res) => {
        res.writeHead(200, { "Content-Type": "text/csv", ...(next && { "X-Next-Page-Token": next }) });
        res.end(text);
      };
    script = [csv("run_id\na\n", "n1"), csv("run_id\nb\n")];
    const client = v1Client(base);
    const all = await allPages(async (page_token) => csvPage((await client["runs.csv"].$get({ query: { page_token } })) as unknown as Response));
    expect(all.map((p) => p.csv)).toEqual(["run_id\na\n", "run_id\nb\n"]);
    expect(seen).toEqual(["/api/v1/runs.csv", "/api/v1/runs.csv?page_token=n1"]);
  });
});
