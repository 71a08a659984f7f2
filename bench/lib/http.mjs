// A small HTTP/1.1 client for load generation: keep-alive sockets (node:http), JSON bodies, the D1
// rows from the Server-Timing header, deliberate connection cuts, and retries with backoff.
import http from "node:http";

/**
 * @typedef {object} Reply
 * @property {number} status
 * @property {string} text
 * @property {number} ms          wall time of this attempt
 * @property {number} rowsRead    D1 rows read (Server-Timing), NaN when the header is missing
 * @property {number} rowsWritten D1 rows written (Server-Timing), NaN when the header is missing
 */

/**
 * @typedef {object} RequestOptions
 * @property {string} method
 * @property {string} path
 * @property {unknown} [body]       an object (sent as JSON) or a ready string
 * @property {Record<string,string>} [headers]
 * @property {boolean} [auth]       send the client's bearer token (default: for anything but GET)
 * @property {"partial"|"after-body"} [cut] destroy the connection after half the body, or after the
 *           whole body but before the response: the attempt fails with a connection error
 * @property {number} [timeoutMs]
 */

const D1_TIMING = /rows_read=(\d+) rows_written=(\d+)(?: calls=(\d+))?/;

/** Parses `d1;desc="rows_read=R rows_written=W calls=C"` (C: D1 round trips). */
export function d1Rows(serverTiming) {
  const match = D1_TIMING.exec(String(serverTiming ?? ""));
  return match ? { rowsRead: Number(match[1]), rowsWritten: Number(match[2]), calls: match[3] === undefined ? NaN : Number(match[3]) } : { rowsRead: NaN, rowsWritten: NaN, calls: NaN };
}

/** A client for one server; maxSockets bounds the keep-alive connections it opens. */
export function createClient(baseUrl, { token, maxSockets = 16 } = {}) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

  /** @param {RequestOptions} options @returns {Promise<Reply>} */
  function request(options) {
    const { method, path, body, cut, timeoutMs = 30_000 } = options;
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const headers = { ...options.headers };
    if (payload !== undefined) {
      headers["Content-Type"] ??= "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    if (token && (options.auth ?? method !== "GET")) headers.Authorization = `Bearer ${token}`;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        // A cut request gets its own connection, so that cutting it does not disturb the pool.
        { host: base.hostname, port: base.port, method, path, headers, agent: cut ? false : agent, timeout: timeoutMs },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              ms: performance.now() - started,
              ...d1Rows(res.headers["server-timing"]),
            });
          });
        },
      );
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      if (cut === "partial" && payload !== undefined) {
        req.write(payload.slice(0, Math.max(1, payload.length >> 1)), () => setTimeout(() => req.destroy(new Error("cut: partial body")), 2));
      } else if (cut) {
        req.end(payload, () => req.destroy(new Error("cut: after body")));
      } else {
        req.end(payload);
      }
    });
  }

  return { request, close: () => agent.destroy() };
}

/** Connection errors and 5xx (and 429) are worth retrying; any other 4xx is the caller's fault. */
export const isRetryable = (reply) => reply.status >= 500 || reply.status === 429;

/**
 * Sends a request until it gets a non-retryable answer, with exponential backoff and jitter.
 * The first attempt may be cut on purpose (options.cut); retries never are.
 * @param {ReturnType<typeof createClient>} client
 * @param {RequestOptions} options
 * @returns {Promise<Reply & {attempts: number, retries: {connection: number, status: number, causes: Record<string, number>}}>}
 */
export async function requestWithRetry(client, options, { maxAttempts = 8, baseDelayMs = 25 } = {}) {
  /** Counts of retries, and what caused them: `HTTP 503: <error_code>` or the connection error. */
  const retries = { connection: 0, status: 0, causes: {} };
  const note = (cause) => (retries.causes[cause] = (retries.causes[cause] ?? 0) + 1);
  let lastError;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const reply = await client.request(attempt === 1 ? options : { ...options, cut: undefined });
      if (!isRetryable(reply) || attempt === maxAttempts) return { ...reply, attempts: attempt, retries };
      retries.status++;
      lastError = new Error(`HTTP ${reply.status}: ${reply.text.slice(0, 200)}`);
      note(`HTTP ${reply.status} ${/"error_code":"(\w+)"/.exec(reply.text)?.[1] ?? reply.text.slice(0, 60)}`);
    } catch (error) {
      retries.connection++;
      lastError = error;
      note(String(error.message ?? error).slice(0, 60));
    }
    const delay = baseDelayMs * 2 ** (attempt - 1);
    await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * delay));
  }
  throw Object.assign(new Error(`${options.method} ${options.path}: gave up after ${maxAttempts} attempts: ${lastError?.message}`), { retries });
}

/** Parses a reply's JSON body or throws with the status and text. */
export function jsonOf(reply, what) {
  try {
    return JSON.parse(reply.text);
  } catch {
    throw new Error(`${what}: HTTP ${reply.status}, not JSON: ${reply.text.slice(0, 300)}`);
  }
}

/** Throws unless the reply is a 2xx. */
export function expectOk(reply, what) {
  if (reply.status < 200 || reply.status > 299) throw new Error(`${what}: HTTP ${reply.status}: ${reply.text.slice(0, 500)}`);
  return reply;
}
