import { env, exports } from "cloudflare:workers";

/** The admin token the test Worker holds: vitest.config.ts binds it (scripts/admin-token.mjs), so it is written once. */
export const ADMIN_TOKEN = env.ADMIN_TOKEN;

export interface CallOptions {
  token?: string | null;
  prefix?: string;
  rawBody?: string;
}

/** Calls the Worker like the MLflow client does: GET with a query string, POST with a JSON body. */
export async function call(method: string, path: string, payload?: unknown, options: CallOptions = {}) {
  const { token = ADMIN_TOKEN, prefix = "/api/2.0/mlflow" } = options;
  let url = `http://x${prefix}/${path}`;
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (method === "GET" && payload) {
    url += `?${new URLSearchParams(payload as Record<string, string>)}`;
  } else if (method !== "GET") {
    body = options.rawBody ?? JSON.stringify(payload ?? {});
    headers["Content-Type"] = "application/json";
  }
  const response = await exports.default.fetch(new Request(url, { method, headers, body }));
  const text = await response.text();
  const rowsRead = Number(response.headers.get("Server-Timing")?.match(/rows_read=(\d+)/)?.[1]);
  return { status: response.status, contentType: response.headers.get("Content-Type"), text, json: JSON.parse(text) as any, rowsRead };
}

export const post = (path: string, payload?: unknown, options?: CallOptions) => call("POST", path, payload, options);
export const get = (path: string, query?: Record<string, string>, options?: CallOptions) => call("GET", path, query, options);
