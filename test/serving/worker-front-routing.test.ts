/**
 * The local front (scripts/worker-front.mjs) sends the Worker's own paths past wrangler's asset
 * router, straight to the Worker: every API path must be one of them, and no page or file of the
 * site may be (it would then never reach the asset router and answer the Worker's 404), and a
 * request sent that way is answered by the Worker as before.
 */
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWorkerPath } from "../../scripts/worker-front.mjs";
import { startTestServer, type TestServer } from "../support/server.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** Every file under a folder, as URL paths from it. */
function urlPaths(folder: string): string[] {
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else paths.push(`/${relative(folder, join(dir, entry.name)).split(sep).join("/")}`);
    }
  };
  walk(folder);
  return paths;
}

describe("the paths the front sends straight to the Worker", () => {
  it("are the API's", () => {
    for (const path of [
      "/health",
      "/version",
      "/health?x=1",
      "/api/2.0/mlflow/runs/log-metric",
      "/ajax-api/2.0/mlflow/runs/search",
      "/api/2.0/mlflow-artifacts/artifacts/x",
      "/api/v1/runs/set_01/teacher_autoencoder",
      "/api/v1/tokens",
    ]) {
      expect(isWorkerPath(path), path).toBe(true);
    }
  });

  it("are none of the site's pages and files", () => {
    const pages = urlPaths(join(ROOT, "site", "pages")).map((p) => p.replace(/\.astro$/, "").replace(/\/index$/, "/"));
    const files = urlPaths(join(ROOT, "site", "public"));
    expect(pages.length + files.length).toBeGreaterThan(5);
    for (const path of [...pages, ...files, "/", "/kd", "/healthz", "/api", "/versions/x", "/experiments/1/api/x"]) {
      expect(isWorkerPath(path), path).toBe(false);
    }
  });
});

describe("a request sent past the asset router", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("is answered by the Worker, and a client's own route header changes nothing", async () => {
    const health = await server.call("GET", "/health", { headers: { "MF-Route-Override": "no-such-worker" } });
    expect([health.status, health.text]).toEqual([200, "OK"]);
    const missing = await server.call("GET", "/api/v1/no-such-route", { headers: { "MF-Route-Override": "no-such-worker" } });
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe("ENDPOINT_NOT_FOUND");
    const page = await server.call("GET", "/no-such-page", { headers: { "MF-Route-Override": "kdgat-tracker" } });
    expect(page.status).toBe(404);
  });
});
