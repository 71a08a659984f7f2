/**
 * D1's Sessions API (functions/http/session.ts): anonymous reads may use any replica, writes start
 * at the primary, and a request that sends back a write's X-D1-Bookmark reads at least that write.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BOOKMARK_HEADER, BOOKMARK_SHAPE } from "../../functions/domain/sessions";
import { ADMIN_TOKEN, call } from "./support/call";

/** Calls the Worker with a D1 binding that records how each request started its session. */
async function withSessionsRecorded(method: string, path: string, headers: Record<string, string> = {}, body?: object) {
  const starts: unknown[] = [];
  const DB = new Proxy(env.DB, {
    get(d1, property) {
      if (property === "withSession") {
        return (start: D1SessionBookmark | D1SessionConstraint) => {
          starts.push(start);
          return d1.withSession(start);
        };
      }
      const value = Reflect.get(d1, property, d1);
      return typeof value === "function" ? value.bind(d1) : value;
    },
  });
  const response = await call(method, path, { headers, body, env: { DB } });
  return { response, starts };
}

describe("D1 sessions and bookmarks", () => {
  it("a write answers with its bookmark, and a read that sends it sees the write", async () => {
    const put = await call("PUT", "/api/v1/runs/sess_a/teacher_normal", { token: ADMIN_TOKEN, body: "{}" });
    expect(put.status).toBe(201);
    const bookmark = put.headers.get(BOOKMARK_HEADER);
    expect(bookmark).toMatch(BOOKMARK_SHAPE);
    const read = await call("GET", "/api/v1/runs/sess_a/teacher_normal", { headers: { [BOOKMARK_HEADER]: bookmark! } });
    expect(read.status).toBe(200);
    expect(read.json.run.mlflow_run_id).toBe(put.json.run_id);
    // The read's own session is at least as new as the bookmark it started from.
    expect(read.headers.get(BOOKMARK_HEADER)! >= bookmark!).toBe(true);
  });

  it("starts reads unconstrained, writes at the primary, and a request with a bookmark from it", async () => {
    const read = await withSessionsRecorded("GET", "/api/v1/summary");
    expect(read.response.status).toBe(200);
    expect(read.starts).toEqual(["first-unconstrained"]);
    // MLflow's searches are reads sent as POST.
    const search = await withSessionsRecorded("POST", "/api/2.0/mlflow/runs/search", { "Content-Type": "application/json" }, { experiment_ids: ["0"] });
    expect(search.starts).toEqual(["first-unconstrained"]);
    // A read with a token is a writer's client (MLflow's sends no bookmarks): it reads the primary.
    const own = await withSessionsRecorded("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", { Authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(own.response.status).toBe(200);
    expect(own.starts).toEqual(["first-primary"]);
    const write = await withSessionsRecorded(
      "POST",
      "/api/2.0/mlflow/experiments/create",
      { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      { name: "sess-b" },
    );
    expect(write.response.status).toBe(200);
    expect(write.starts).toEqual(["first-primary"]);
    const bookmark = write.response.headers.get(BOOKMARK_HEADER)!;
    const after = await withSessionsRecorded("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=sess-b", { [BOOKMARK_HEADER]: bookmark });
    expect(after.response.status).toBe(200);
    expect(after.starts).toEqual([bookmark]);
    // Every D1 call of the session is still counted.
    expect(after.response.headers.get("Server-Timing")).toMatch(/calls=[1-9]/);
  });

  it("refuses a malformed bookmark with a clear 400 before it reaches D1", async () => {
    const { response, starts } = await withSessionsRecorded("GET", "/api/v1/summary", { [BOOKMARK_HEADER]: `garbage\u001b[31m${"x".repeat(500)}` });
    expect(response.status).toBe(400);
    const body = response.json;
    expect(body.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(body.message).toContain(BOOKMARK_HEADER);
    expect(body.message.length).toBeLessThan(300);
    expect(starts).toEqual([]);
  });

  it("lets a cross-origin page send and read the bookmark", async () => {
    const preflight = await call("OPTIONS", "/api/v1/summary", {
      headers: { Origin: "https://example.org", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": BOOKMARK_HEADER },
    });
    expect(preflight.headers.get("Access-Control-Allow-Headers") ?? "").toContain(BOOKMARK_HEADER);
    const read = await call("GET", "/api/v1/summary", { headers: { Origin: "https://example.org" } });
    expect(read.headers.get("Access-Control-Expose-Headers") ?? "").toContain(BOOKMARK_HEADER);
  });
});
