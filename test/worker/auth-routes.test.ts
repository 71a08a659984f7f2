/**
 * Auth and exposure, over every route the app registers (read from app.routes, so a route added
 * later is covered without editing this file): writes and admin routes refuse missing, malformed,
 * wrong and revoked tokens; no answer or log line carries a token or its hash; security headers;
 * the per-token write rate limit.
 */
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITS } from "../../functions/domain/limits";
import { sha256Hex, tokenCache } from "../../functions/store/tokens";
import siteHeaders from "../../site/public/_headers?raw";
import wranglerToml from "../../wrangler.toml?raw";
import { ADMIN_TOKEN, type Answer, call } from "./support/call";
import { appRoutes, concretePath, dumpDatabase, expectClientError, expectSecurityHeaders, isAdminRoute, isReadRoute, mintToken, type Route, revokeToken } from "./support/hostile";

const routes = appRoutes().map((route) => ({ ...route, url: concretePath(route.path) }));
const adminRoutes = routes.filter(isAdminRoute);
const writeRoutes = routes.filter((r) => !isAdminRoute(r) && !isReadRoute(r));
const readRoutes = routes.filter((r) => !isAdminRoute(r) && isReadRoute(r));
console.log(`auth: ${routes.length} routes enumerated (${writeRoutes.length} write, ${adminRoutes.length} admin, ${readRoutes.length} read)`);

let writeToken = "";
let revokedToken = "";
let refusals = 0;
afterAll(() => console.log(`auth: ${refusals} requests with a missing, malformed, wrong or revoked token refused`));

/** Authorization headers that must never open a write. */
function rejectedAuthorizations(): Array<[string, string | undefined]> {
  const flipped = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith("a") ? "b" : "a");
  return [
    ["missing", undefined],
    ["no scheme", writeToken],
    ["basic scheme", `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`],
    ["empty bearer", "Bearer "],
    ["two tokens", `Bearer ${writeToken} ${writeToken}`],
    ["illegal characters", `Bearer ${writeToken}!`],
    ["oversized", `Bearer ${"a".repeat(600)}`],
    ["wrong token", "Bearer kdgat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["admin token off by one character", `Bearer ${flipped}`],
    ["admin token prefix", `Bearer ${ADMIN_TOKEN.slice(0, 16)}`],
    ["revoked token", `Bearer ${revokedToken}`],
  ];
}

async function expectUnauthenticated(route: Route & { url: string }, authorization: string | undefined, label: string) {
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  const answer = await call(route.method, route.url, { headers, body: route.method === "GET" ? undefined : {} });
  const context = `${route.method} ${route.path} with ${label}`;
  refusals++;
  expect(expectClientError(answer, context).error_code, context).toBe("UNAUTHENTICATED");
  expect(answer.status, context).toBe(401);
  expect(answer.headers.get("WWW-Authenticate"), context).toMatch(/^Bearer /);
  expectSecurityHeaders(answer, context);
  for (const secret of [writeToken, revokedToken, ADMIN_TOKEN]) expect(answer.text, context).not.toContain(secret);
}

/** Sends every rejected Authorization to each route; none may answer anything but 401 or change the database. */
async function expectAllRejected(routes: Array<Route & { url: string }>, extra: Array<[string, string]> = []) {
  for (const route of routes) {
    const before = await dumpDatabase();
    for (const [label, authorization] of [...rejectedAuthorizations(), ...extra]) await expectUnauthenticated(route, authorization, label);
    expect((await dumpDatabase()) === before, `${route.method} ${route.path} changed the database`).toBe(true);
  }
}

beforeAll(async () => {
  writeToken = await mintToken("writer");
  revokedToken = await mintToken("revoked");
  // A revoked token is one that worked before.
  expect((await call("POST", "/api/v1/runs/hcrl_sa/teacher_autoencoder/end", { token: revokedToken, body: {} })).status).not.toBe(401);
  await revokeToken("revoked");
});

describe("the route table", () => {
  it("holds the MLflow and /api/v1 routes, the admin routes among them", () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining(["POST /api/2.0/mlflow/runs/log-batch", "PUT /api/v1/runs/:dataset/:name", "POST /api/v1/import"]));
    expect(adminRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(["POST /api/v1/tokens", "GET /api/v1/tokens", "DELETE /api/v1/tokens/:name", "POST /api/v1/import"]),
    );
    // The searches are the only POSTs that read.
    expect(readRoutes.filter((r) => r.method === "POST").map((r) => r.path)).toEqual(expect.arrayContaining(["/api/2.0/mlflow/runs/search", "/ajax-api/2.0/mlflow/experiments/search"]));
    expect(readRoutes.every((r) => r.method === "GET" || r.path.endsWith("/search"))).toBe(true);
  });
});

describe("writes and admin routes refuse a request without a valid token", () => {
  it("on every write route", () => expectAllRejected(writeRoutes), 60_000);

  it("on every admin route, also for a live write token", () => expectAllRejected(adminRoutes, [["a write token", `Bearer ${writeToken}`]]), 30_000);
});

describe("the token is checked before the body", () => {
  it("an over-cap body without a token is 401, not 400, on every write and admin route", async () => {
    // Larger than every cap (1 MB MLflow, 8 MB uploads): a route that capped first would answer 400.
    const body = "x".repeat(LIMITS.maxUploadBytes + 1);
    for (const route of [...writeRoutes, ...adminRoutes].filter((r) => r.method !== "GET")) {
      const answer = await call(route.method, route.url, { body });
      expect(answer.status, `${route.method} ${route.path}`).toBe(401);
    }
  }, 60_000);
});

describe("public reads", () => {
  it("answer without a token, never with a server error", async () => {
    for (const route of readRoutes) {
      const answer = await call(route.method, route.url, { body: route.method === "POST" ? {} : undefined });
      const context = `${route.method} ${route.path}`;
      expect(answer.status, `${context}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
      expect([401, 403], context).not.toContain(answer.status);
      expectSecurityHeaders(answer, context);
    }
  }, 30_000);
});

/** What console would print of a value: messages, stacks, causes and own properties, nested. */
function printable(value: unknown, depth = 0): string {
  if (depth > 6 || value === null || typeof value !== "object") return String(value);
  const fields = Object.entries(value).map(([key, field]) => `${key}: ${printable(field, depth + 1)}`);
  if (value instanceof Error) fields.unshift(value.message, value.stack ?? "", `cause: ${printable(value.cause, depth + 1)}`);
  return fields.join("\n");
}

describe("token secrecy", () => {
  const logged: string[] = [];
  /** Keeps what the Worker logs for the assertions (off the test log: these tests provoke errors). */
  const capture = () => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => printable(a)).join(" "));
      });
    }
  };
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function secrets(): Promise<string[]> {
    const { results } = await env.DB.prepare("select token_hash from api_tokens").all<{ token_hash: string }>();
    return [writeToken, revokedToken, ADMIN_TOKEN, await sha256Hex(ADMIN_TOKEN), ...results.map((r) => r.token_hash)];
  }

  it("no read, public or admin, returns a token or a token hash", async () => {
    // Something to export: a run started with the write token.
    expect((await call("PUT", "/api/v1/runs/hcrl_sa/teacher_autoencoder", { token: writeToken, body: { seed: 1 } })).status).toBe(201);
    const answers: Array<[string, Answer]> = [];
    for (const route of [...readRoutes, ...adminRoutes.filter((r) => r.method === "GET")]) {
      for (const token of [undefined, ADMIN_TOKEN, writeToken]) {
        answers.push([`${route.method} ${route.path}`, await call(route.method, route.url, { token, body: route.method === "POST" ? {} : undefined })]);
      }
    }
    const listed = await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN });
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toMatchObject({ tokens: expect.arrayContaining([expect.objectContaining({ name: "writer" })]) });
    for (const secret of await secrets()) {
      for (const [context, answer] of answers) expect(answer.text, context).not.toContain(secret);
    }
  }, 30_000);

  it("failed auth logs nothing secret and echoes nothing secret", async () => {
    capture();
    for (const [label, authorization] of rejectedAuthorizations()) {
      const answer = await call("POST", "/api/2.0/mlflow/runs/create", { headers: authorization ? { Authorization: authorization } : {}, body: {} });
      expect(answer.status, label).toBe(401);
    }
    for (const secret of await secrets()) expect(logged.join("\n")).not.toContain(secret);
  });

  it("a server error (the token table gone) answers a bare 500 and logs no token", async () => {
    capture();
    tokenCache.entries.clear(); // this isolate knows the token already: make the lookup reach D1
    await env.DB.exec("alter table api_tokens rename to api_tokens_hidden");
    try {
      const answer = await call("POST", "/api/2.0/mlflow/runs/create", { token: writeToken, body: {} });
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.text)).toEqual({ error_code: "INTERNAL_ERROR", message: "Internal error" });
      expectSecurityHeaders(answer, "500");
    } finally {
      await env.DB.exec("alter table api_tokens_hidden rename to api_tokens");
    }
    expect(logged.join("\n")).toContain("no such table: api_tokens");
    for (const secret of [writeToken, ADMIN_TOKEN, await sha256Hex(writeToken)]) expect(logged.join("\n")).not.toContain(secret);
  });
});

describe("security headers", () => {
  it("are on JSON answers, errors and unknown routes alike", async () => {
    for (const [method, path] of [
      ["GET", "/health"],
      ["GET", "/api/v1/runs"],
      ["POST", "/api/2.0/mlflow/runs/search"],
      ["GET", "/no/such/route"],
    ]) {
      const answer = await call(method, path, { body: method === "POST" ? {} : undefined });
      expectSecurityHeaders(answer, `${method} ${path}`);
      expect(answer.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    }
  });

  it("the site's _headers give every page a CSP, nosniff and a Referrer-Policy", () => {
    const rules = siteHeaders.split("\n");
    expect(rules).toContain("/*");
    expect(siteHeaders).toMatch(/^\s+Content-Security-Policy: default-src 'self';.*frame-ancestors 'none'/m);
    expect(siteHeaders).toMatch(/^\s+X-Content-Type-Options: nosniff$/m);
    expect(siteHeaders).toMatch(/^\s+Referrer-Policy: \S+/m);
  });
});

describe("the per-token write rate limit", () => {
  /** The real app with the tight test limiter (3 writes a minute) in place of the configured one. */
  const tightCall = (path: string, token: string | undefined, body: object) => call("POST", path, { token, body, env: { WRITE_RATE_LIMITER: env.TEST_TIGHT_RATE_LIMITER } });

  it("answers 429 REQUEST_LIMIT_EXCEEDED with Retry-After once a token spends its budget, and only for that token's writes", async () => {
    const limit = 3;
    const spender = await mintToken("spender");
    const write = () => tightCall("/api/2.0/mlflow/runs/create", spender, { run_name: "budget" });
    // The limiter counts in fixed windows: the first `limit` writes always pass, and the budget is
    // gone by write 2 * limit + 1 even if a window boundary falls in between.
    for (let i = 0; i < limit; i++) expect((await write()).status).toBe(200);
    let refused: Answer | undefined;
    for (let i = 0; i <= limit && !refused; i++) {
      const response = await write();
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(200);
    }
    expect(refused, "no 429 after 2 * limit + 1 writes").toBeDefined();
    expect(refused!.headers.get("Retry-After")).toBe("60");
    expect(refused!.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(refused!.json).toEqual({ error_code: "REQUEST_LIMIT_EXCEEDED", message: expect.any(String) });

    // Reads with the same token, writes with another token, and tokenless writes are not throttled.
    expect((await tightCall("/api/2.0/mlflow/runs/search", spender, {})).status).toBe(200);
    expect((await tightCall("/api/2.0/mlflow/runs/create", writeToken, { run_name: "other" })).status).toBe(200);
    expect((await tightCall("/api/2.0/mlflow/runs/create", undefined, {})).status).toBe(401);
  });

  it("the configured budget is high enough for the benchmarks (one token, many concurrent writers)", async () => {
    const [, limit, period] = wranglerToml.match(/name = "WRITE_RATE_LIMITER"[^[]*simple = \{ limit = (\d+), period = (\d+) \}/) ?? [];
    expect(Number(limit) / Number(period)).toBeGreaterThanOrEqual(100);
    const spender = await mintToken("bench");
    const writes = await Promise.all(Array.from({ length: 20 }, (_, i) => call("POST", "/api/2.0/mlflow/runs/create", { token: spender, body: { run_name: `w${i}` } })));
    expect(writes.map((r) => r.status)).toEqual(writes.map(() => 200));
  }, 30_000);
});
