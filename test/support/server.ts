/**
 * A real local tracker for Node-side tests (CLI, site) and benchmarks: the Worker served by
 * wrangler's dev engine (as `npm start` does) with a fresh, migrated local D1 in a temporary folder,
 * and the admin token of scripts/admin-token.mjs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_TOKEN } from "../../scripts/admin-token.mjs";
import { startLocalServer } from "../../scripts/local-server.mjs";
import { type Answer, type CallOptions, callServer } from "./call";

export interface TestServer {
  url: string;
  port: number;
  adminToken: string;
  persistTo: string;
  /** One request to this server (test/support/call.ts). */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** An MLflow POST with the admin token, as the MLflow client sends it. */
  post(endpoint: string, payload: object): Promise<Answer>;
  /** Mints a write token through the API. */
  mintToken(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** A given persistTo is kept on stop, so that a server can be restarted on its data (and port). */
export async function startTestServer(options: { persistTo?: string; port?: number; publicReadLimit?: number; liveSite?: boolean } = {}): Promise<TestServer> {
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "kdgat-d1-"));
  const server = await startLocalServer({ persistTo, port: options.port, vars: { ADMIN_TOKEN }, publicReadLimit: options.publicReadLimit, liveSite: options.liveSite });
  const call = (method: string, path: string, options?: CallOptions) => callServer(server.url, method, path, options);
  return {
    url: server.url,
    port: server.port,
    adminToken: ADMIN_TOKEN,
    persistTo,
    call,
    post: (endpoint, payload) => call("POST", `/api/2.0/mlflow/${endpoint}`, { token: ADMIN_TOKEN, body: payload }),
    async mintToken(name: string) {
      const answer = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name } });
      if (answer.status !== 201) throw new Error(`minting token failed: ${answer.status} ${answer.text}`);
      return (answer.json as { token: string }).token;
    },
    async stop() {
      await server.stop();
      if (!options.persistTo) rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
