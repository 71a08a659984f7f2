import { describe, expect, it } from "vitest";
import { call } from "./support/call";

describe("the app shell", () => {
  it("answers /health and /version like MLflow's server", async () => {
    const health = await call("GET", "/health");
    expect([health.status, health.text]).toEqual([200, "OK"]);
    const version = await call("GET", "/version");
    expect(version.text).toBe("2.17.2");
  });

  it("reports the D1 rows each request read and wrote", async () => {
    const response = await call("GET", "/health");
    expect(response.headers.get("Server-Timing")).toBe('d1;desc="rows_read=0 rows_written=0 calls=0"');
  });

  it("answers unknown routes with a JSON 404 in MLflow's error shape", async () => {
    const response = await call("POST", "/api/2.0/mlflow/runs/does-not-exist");
    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ error_code: "ENDPOINT_NOT_FOUND" });
  });
});
