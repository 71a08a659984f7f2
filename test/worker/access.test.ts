/**
 * One access helper per route (functions/http/access.ts), read from app.routes so that a route
 * added later is covered: each route carries exactly one, and the order inside each is rate limit,
 * then token, then body cap (a refused write never reads its body).
 */
import { describe, expect, it } from "vitest";
import { ACCESS_KINDS } from "../../functions/http/access";
import { call } from "./support/call";
import { accessKinds, appRoutes, concretePath, mintToken } from "./support/hostile";

// Wildcard routes too (the artifact proxy): every route the app answers.
const routes = appRoutes({ wildcards: true });

/** A body that never ends: a route that read it before refusing the token would never answer. */
const endlessBody = () => new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"name": "')) });

/** The app itself, in this isolate (`env: {}`: no loopback pipe to leave dangling); call() gives up on a hang. */
const send = (method: string, path: string, token: string) => call(method, path, { token, body: endlessBody(), env: {} });

describe("access per route kind", () => {
  it("every route carries exactly one access helper, of the five kinds", () => {
    expect(routes.length).toBeGreaterThan(40);
    const counts = routes.map((route) => `${route.method} ${route.path}: ${accessKinds(route).join(", ") || "none"}`);
    expect(counts.filter((line) => !/: \w+$/.test(line))).toEqual([]);
    const kinds = new Set(routes.flatMap(accessKinds));
    expect([...kinds].sort()).toEqual([...ACCESS_KINDS].sort());
    // A GET never needs a write token; a POST is a search only when it carries publicSearch.
    for (const route of routes) {
      const [kind] = accessKinds(route);
      if (route.method === "GET") expect(["publicRead", "admin"], route.path).toContain(kind);
      if (kind === "publicSearch") expect(route.method, route.path).toBe("POST");
    }
  });

  it("a write or admin request with a wrong token and an endless body is refused 401 before its body is read", async () => {
    const writer = await mintToken("access-writer");
    const bodyRoutes = routes.filter((route) => ["write", "admin"].includes(accessKinds(route)[0]) && route.method !== "GET" && route.method !== "DELETE");
    expect(bodyRoutes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(["PUT /api/v1/runs/:dataset/:name", "POST /api/v1/runs/:dataset/:name/metrics", "POST /api/v1/import", "POST /api/2.0/mlflow/runs/log-batch"]),
    );
    for (const route of bodyRoutes) {
      const admin = accessKinds(route)[0] === "admin";
      for (const token of ["kdgat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ...(admin ? [writer] : [])]) {
        const answer = await send(route.method, `${concretePath(route.path)}?experiment=kdgat-pipeline`, token);
        expect([answer.status, (answer.json as { error_code: string }).error_code], `${route.method} ${route.path}`).toEqual([401, "UNAUTHENTICATED"]);
      }
    }
  }, 60_000);
});
