/**
 * The one way worker tests call the Worker: `call()` sends one request and reads the whole answer;
 * `post` / `get` are the MLflow client's calls on top of it.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../../functions/index";
import { type Answer, type CallOptions as RequestOptions, readAnswer, toRequest } from "../../support/call";

export { d1Cost } from "../../support/call";
export type { Answer };

/** The admin token the test Worker holds: vitest.config.ts binds it (scripts/admin-token.mjs), so it is written once. */
export const ADMIN_TOKEN = env.ADMIN_TOKEN;

/** A request that takes longer than this counts as a hang. */
const HANG_MS = 10_000;

export interface CallOptions extends RequestOptions {
  /** These bindings swapped in for the app's (a tight rate limiter, `ARTIFACTS_PUBLIC`, ...). */
  env?: { [K in keyof Env]?: unknown };
}

/** `path` is a path on the Worker, or a whole URL (a signed URL the Worker handed out). */
export async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${method} ${path} hung for ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return readAnswer(await Promise.race([send(await withLength(toRequest("http://x", method, path, options), options.body), options.env), hang]));
  } finally {
    clearTimeout(timer);
  }
}

/** A body of known size comes with its Content-Length, as it does over HTTP (artifact uploads need it). */
async function withLength(request: Request, body: CallOptions["body"]): Promise<Request> {
  if (body === undefined || body instanceof ReadableStream || request.headers.has("Content-Length")) return request;
  const bytes = await request.arrayBuffer();
  const headers = new Headers(request.headers);
  headers.set("Content-Length", String(bytes.byteLength));
  // An empty body arrives over HTTP as none at all.
  return new Request(request, { headers, body: bytes.byteLength > 0 ? bytes : null });
}

/**
 * Runs the app in this isolate and waits for its `waitUntil` work. (Through the pool's
 * `exports.default.fetch` every request costs more than the one before: ~60 ms each after 300.)
 */
async function send(request: Request, bindings: CallOptions["env"] = {}): Promise<Response> {
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
