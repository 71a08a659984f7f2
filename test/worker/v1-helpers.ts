import { env, exports } from "cloudflare:workers";

/** The admin token the test Worker holds: vitest.config.ts binds it (scripts/admin-token.mjs). */
export const ADMIN = env.ADMIN_TOKEN;

/** Calls the Worker; a JSON-able body is sent as JSON text, a string as is. */
export async function call(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  return exports.default.fetch(new Request(`http://x${path}`, { method, headers, body }));
}

export async function json<T = any>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Every row of the run tables, to prove that a request changed nothing. */
export async function snapshot() {
  const tables = ["experiments", "runs", "params", "tags", "metrics", "latest_metrics", "api_tokens"];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = (await env.DB.prepare(`select * from ${t} order by 1, 2`).all()).results;
  return out;
}
