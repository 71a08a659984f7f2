/**
 * The one way worker tests call the Worker: `call()` sends one request and reads the whole answer;
 * `post` / `get` are the MLflow client's calls on top of it.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { app } from "../../../functions/index";

/** The admin token the test Worker holds: vitest.config.ts binds it (scripts/admin-token.mjs), so it is written once. */
export const ADMIN_TOKEN = env.ADMIN_TOKEN;

/** A request that takes longer than this counts as a hang. */
const HANG_MS = 10_000;

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
  /**
   * Runs the app in this isolate (`app.fetch`, waiting for its `waitUntil` work) with these bindings
   * swapped in; `{}` swaps none. Without it the request goes through the Worker's own fetch handler.
   */
  env?: { [K in keyof Env]?: unknown };
}

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  readonly json: any;
}

/** `path` is a path on the Worker, or a whole URL (a signed URL the Worker handed out). */
export async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  const raw = options.body;
  const bytes = raw instanceof ArrayBuffer || ArrayBuffer.isView(raw);
  const body = raw === undefined || bytes || typeof raw === "string" || raw instanceof ReadableStream ? raw : JSON.stringify(raw);
  if (raw !== undefined && !bytes && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
  const url = /^https?:/.test(path) ? path : `http://x${path}`;
  const request = new Request(`${url}${query}`, { method, headers, body, duplex: "half" } as RequestInit);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${method} ${path} hung for ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    const response = await Promise.race([send(request, options.env), hang]);
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
  } finally {
    clearTimeout(timer);
  }
}

async function send(request: Request, bindings: CallOptions["env"]): Promise<Response> {
  if (!bindings) return exports.default.fetch(request);
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface MlflowOptions extends Omit<CallOptions, "body" | "query"> {
  /** The API mount, `/api/2.0/mlflow` unless given (the MLflow UI's is `/ajax-api/2.0/mlflow`). */
  prefix?: string;
  /** Sent instead of the JSON payload (a string, or a stream of unknown length). */
  rawBody?: string | ReadableStream<Uint8Array>;
}

/** Calls an MLflow endpoint as the MLflow client does, with the admin token unless `token` is given (`null` sends none). */
function mlflow(method: "GET" | "POST", endpoint: string, payload: unknown, options: MlflowOptions): Promise<Answer> {
  const { token = ADMIN_TOKEN, prefix = "/api/2.0/mlflow", rawBody, ...rest } = options;
  const sent: CallOptions = method === "GET" ? { query: payload as Record<string, string> | undefined } : { body: rawBody ?? payload ?? {} };
  return call(method, `${prefix}/${endpoint}`, { ...rest, ...sent, token });
}

/** POST with a JSON body (`{}` when none). */
export const post = (endpoint: string, payload?: unknown, options: MlflowOptions = {}) => mlflow("POST", endpoint, payload, options);
/** GET with a query string. */
export const get = (endpoint: string, query?: Record<string, string>, options: MlflowOptions = {}) => mlflow("GET", endpoint, query, options);
