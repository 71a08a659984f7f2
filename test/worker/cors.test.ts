/** CORS: any origin may read (GET, HEAD, the two POST searches) without credentials, and never write. */
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Answer, call } from "./support/call";

const EVIL = "https://evil.example";

const preflight = (path: string, method: string, requestHeaders = "authorization,content-type") =>
  call("OPTIONS", path, { headers: { Origin: EVIL, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": requestHeaders } });

const allowedHeaders = (response: Answer) =>
  (response.headers.get("Access-Control-Allow-Headers") ?? "")
    .toLowerCase()
    .split(",")
    .map((h) => h.trim());

const WRITES: Array<[string, string]> = [
  ["POST", "/api/2.0/mlflow/runs/log-batch"],
  ["POST", "/api/2.0/mlflow/runs/create"],
  ["POST", "/api/2.0/mlflow/experiments/delete"],
  ["POST", "/ajax-api/2.0/mlflow/runs/log-metric"],
  ["PUT", "/api/v1/runs/hcrl_sa/teacher_curriculum"],
  ["POST", "/api/v1/runs/hcrl_sa/teacher_curriculum/metrics"],
  ["POST", "/api/v1/runs/hcrl_sa/teacher_curriculum/end"],
  ["POST", "/api/v1/tokens"],
  ["DELETE", "/api/v1/tokens/ci"],
  ["POST", "/api/v1/import"],
];

const READS: Array<[string, string]> = [
  ["GET", "/api/v1/runs"],
  ["GET", "/api/v1/export"],
  ["GET", "/api/2.0/mlflow/runs/get"],
  ["HEAD", "/api/v1/leaderboard"],
  ["POST", "/api/2.0/mlflow/runs/search"],
  ["POST", "/ajax-api/2.0/mlflow/experiments/search"],
];

describe("CORS", () => {
  it("answers a preflight for a write route from another origin with no CORS permission at all", async () => {
    for (const [method, path] of WRITES) {
      const answer = await preflight(path, method);
      expect(answer.headers.get("Access-Control-Allow-Origin"), `${method} ${path}`).toBeNull();
      expect(allowedHeaders(answer), `${method} ${path}`).not.toContain("authorization");
      expect(answer.headers.get("Access-Control-Allow-Credentials"), `${method} ${path}`).toBeNull();
    }
  });

  it("allows reads and the POST searches from any origin, with Content-Type but never Authorization or credentials", async () => {
    for (const [method, path] of READS) {
      const answer = await preflight(path, method);
      expect(answer.status, `${method} ${path}`).toBe(204);
      expect(answer.headers.get("Access-Control-Allow-Origin"), `${method} ${path}`).toBe("*");
      expect(answer.headers.get("Access-Control-Allow-Methods")?.split(","), `${method} ${path}`).toContain(method);
      expect(allowedHeaders(answer), `${method} ${path}`).toEqual(["content-type", "x-d1-bookmark"]);
      expect(answer.headers.get("Access-Control-Allow-Credentials"), `${method} ${path}`).toBeNull();
    }
  });

  it("marks read answers readable by any origin, and write answers by none", async () => {
    const search = await call("POST", "/api/2.0/mlflow/runs/search", { headers: { Origin: EVIL, "Content-Type": "application/json" }, body: {} });
    expect(search.status).toBe(200);
    expect(search.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const read = await call("GET", "/api/v1/runs", { headers: { Origin: EVIL } });
    expect(read.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const write = await call("POST", "/api/2.0/mlflow/experiments/create", { token: ADMIN_TOKEN, headers: { Origin: EVIL }, body: { name: "from-evil" } });
    expect(write.status).toBe(200);
    expect(write.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
