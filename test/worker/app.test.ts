import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("the app shell", () => {
  it("answers /health and /version like MLflow's server", async () => {
    const health = await exports.default.fetch(new Request("http://x/health"));
    expect([health.status, await health.text()]).toEqual([200, "OK"]);
    const version = await exports.default.fetch(new Request("http://x/version"));
    expect(await version.text()).toBe("2.17.2");
  });

  it("reports the D1 rows each request read and wrote", async () => {
    const response = await exports.default.fetch(new Request("http://x/health"));
    expect(response.headers.get("Server-Timing")).toBe('d1;desc="rows_read=0 rows_written=0 calls=0"');
  });

  it("answers unknown routes with a JSON 404 in MLflow's error shape", async () => {
    const response = await exports.default.fetch(new Request("http://x/api/2.0/mlflow/runs/does-not-exist", { method: "POST" }));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error_code: "ENDPOINT_NOT_FOUND" });
  });
});
