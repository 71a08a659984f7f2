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

export interface TestServer {
  url: string;
  port: number;
  adminToken: string;
  persistTo: string;
  /** Mints a write token through the API. */
  mintToken(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** A given persistTo is kept on stop, so that a server can be restarted on its data (and port). */
export async function startTestServer(options: { persistTo?: string; port?: number; publicReadLimit?: number; liveSite?: boolean } = {}): Promise<TestServer> {
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "kdgat-d1-"));
  const server = await startLocalServer({ persistTo, port: options.port, vars: { ADMIN_TOKEN }, publicReadLimit: options.publicReadLimit, liveSite: options.liveSite });
  return {
    url: server.url,
    port: server.port,
    adminToken: ADMIN_TOKEN,
    persistTo,
    async mintToken(name: string) {
      const response = await fetch(`${server.url}/api/v1/tokens`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name }),
      });
      if (!response.ok) throw new Error(`minting token failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    async stop() {
      await server.stop();
      if (!options.persistTo) rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
