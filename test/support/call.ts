/**
 * One request shape for every test that calls the tracker: `toRequest` builds the request,
 * `readAnswer` reads the whole answer. The worker tests run it through the app in the test isolate
 * (test/worker/support/call.ts); the Node-side tests send it to a real local server (`callServer`,
 * `TestServer.call` in ./server.ts).
 */

export interface CallOptions {
  /**
   * A string, bytes or a stream are sent as is; anything else as JSON. A body other than bytes comes
   * with `Content-Type: application/json` unless `headers` name one.
   */
  body?: BodyInit | object;
  /** Added to the path as a query string. */
  query?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`; none when absent or empty. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Aborts the request (and the reading of its answer): `AbortSignal.timeout(ms)` bounds a call. */
  signal?: AbortSignal;
}

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  readonly json: any;
}

/** `path` is a path on `origin`, or a whole URL (a signed URL the tracker handed out). */
export function toRequest(origin: string, method: string, path: string, options: CallOptions = {}): Request {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  const raw = options.body;
  const bytes = raw instanceof ArrayBuffer || ArrayBuffer.isView(raw);
  const body = raw === undefined || bytes || typeof raw === "string" || raw instanceof ReadableStream ? raw : JSON.stringify(raw);
  if (raw !== undefined && !bytes && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
  const url = /^https?:/.test(path) ? path : `${origin}${path}`;
  return new Request(`${url}${query}`, { method, headers, body: body as BodyInit | undefined, signal: options.signal, duplex: "half" } as RequestInit);
}

export async function readAnswer(response: Response): Promise<Answer> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    text,
    get json() {
      return JSON.parse(text);
    },
  };
}

/** Calls a tracker served at `origin` (a real local server) over HTTP. */
export async function callServer(origin: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  return readAnswer(await fetch(toRequest(origin, method, path, options)));
}

/** What the Worker's `Server-Timing` says an answer cost in D1 (`d1;desc="rows_read=R rows_written=W calls=C"`); NaN for what it does not say. */
export function d1Cost(answer: { headers: Headers }): { rowsRead: number; rowsWritten: number; calls: number } {
  const timing = answer.headers.get("Server-Timing") ?? "";
  const read = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(timing)?.[1] ?? Number.NaN);
  return { rowsRead: read("rows_read"), rowsWritten: read("rows_written"), calls: read("calls") };
}
