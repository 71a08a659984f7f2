/**
 * Shared helpers for the reliability and auth tests: minting tokens, dumping the database,
 * enumerating the app's routes, and fast-check arbitraries that each build one kind of bad input.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { type AccessKind, accessKind } from "../../../functions/http/access";
import { app } from "../../../functions/index";
import { isUnsupportedHandler } from "../../../functions/mlflow/unsupported";
import { ADMIN_TOKEN, type Answer, call } from "./call";

declare global {
  namespace Cloudflare {
    interface Env {
      /** A 3-writes-a-minute limiter (vitest.config.ts) that the rate-limit test swaps in. */
      TEST_TIGHT_RATE_LIMITER: RateLimit;
    }
  }
}

/**
 * The start of a text, safe to put in an assertion message: JSON-escaped, because the test runner's
 * log channel breaks on a lone surrogate (and cutting a text can leave one).
 */
export const excerpt = (text: string, length = 300) => JSON.stringify(text.slice(0, length));

/** A body of no known length (64 KiB chunks): the Worker can only count it as it streams in. */
export function unknownLengthBody(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.slice(at, at + 64 * 1024));
      controller.close();
    },
  });
}

/** Asserts MLflow's error shape: a JSON body `{"error_code": string, "message": string}` with a 4xx status. */
export function expectClientError(answer: Answer, context: string): { error_code: string; message: string } {
  const where = `${context}: ${answer.status} ${excerpt(answer.text)}`;
  expect(answer.status >= 400 && answer.status < 500, where).toBe(true);
  expect(answer.headers.get("Content-Type"), where).toMatch(/^application\/json\b/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(Object.keys(body).sort(), where).toEqual(["error_code", "message"]);
  expect([typeof body.error_code, typeof body.message], where).toEqual(["string", "string"]);
  return body as { error_code: string; message: string };
}

/** The hardening headers every Worker answer carries (functions/http/security.ts). */
export function expectSecurityHeaders(answer: Answer, context: string): void {
  expect(answer.headers.get("X-Content-Type-Options"), context).toBe("nosniff");
  expect(answer.headers.get("Referrer-Policy"), context).toBe("no-referrer");
  expect(answer.headers.get("Content-Security-Policy"), context).toBeTruthy();
}

export async function mintToken(name: string): Promise<string> {
  const answer = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name } });
  expect(answer.status, answer.text).toBe(201);
  return (answer.json as { token: string }).token;
}

export async function revokeToken(name: string): Promise<void> {
  const answer = await call("DELETE", `/api/v1/tokens/${name}`, { token: ADMIN_TOKEN });
  expect(answer.status, answer.text).toBe(200);
}

/**
 * Every user table, every row, in a stable order: equal dumps mean an unchanged database. A token's
 * last_used_at is left out: it is auth bookkeeping, refreshed after the answer (waitUntil).
 */
export async function dumpDatabase(): Promise<string> {
  const { results: tables } = await env.DB.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' order by name").all<{
    name: string;
  }>();
  const contents = await env.DB.batch(tables.map((t) => env.DB.prepare(`select * from "${t.name}"`)));
  const dump = tables.map((t, i) => {
    const rows = contents[i].results.map((row) => {
      const { last_used_at: _lastUsed, ...rest } = row as Record<string, unknown>;
      return JSON.stringify(t.name === "api_tokens" ? rest : row);
    });
    return `${t.name}\n${rows.sort().join("\n")}`;
  });
  return dump.join("\n\n");
}

// ---------------------------------------------------------------------------------------------
// Routes

export interface Route {
  method: string;
  /** As registered, e.g. `/api/v1/runs/:dataset/:name`. */
  path: string;
}

/** Every method + path the app answers, from `app.routes` (middleware entries left out). */
export function appRoutes({ wildcards = false } = {}): Route[] {
  const seen = new Map<string, Route>();
  for (const { method, path, handler } of app.routes) {
    if (method === "ALL" || (!wildcards && path.endsWith("*")) || isUnsupportedHandler(handler)) continue;
    seen.set(`${method} ${path}`, { method, path });
  }
  return [...seen.values()];
}

/** Plausible values for path parameters, by name; any other parameter gets `x`. */
const PATH_PARAM_VALUES: Record<string, string> = {
  dataset: "hcrl_sa",
  name: "teacher_autoencoder",
  key: "val_loss",
  metric: "val_loss",
};

/** The access kinds (http/access.ts) a route carries, as registered on the route itself. */
export function accessKinds(route: Route): AccessKind[] {
  return app.routes.filter((r) => r.method === route.method && r.path === route.path).flatMap((r) => accessKind(r.handler) ?? []);
}

export const isAdminRoute = (route: Route): boolean => accessKinds(route).includes("admin");

/** A public read: a GET, or a search sent as POST. */
export const isReadRoute = (route: Route): boolean => accessKinds(route).some((kind) => kind === "publicRead" || kind === "publicSearch");

export function concretePath(path: string): string {
  return path.replace(/:(\w+)(\{[^}]*\})?\??/g, (_, name: string) => PATH_PARAM_VALUES[name] ?? "x").replace(/\*$/, `0/${"0".repeat(32)}/artifacts/x`);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: each builds one specific kind of invalid input.

/** Strings that are not JSON at all: a prefix of a JSON text, garbage, or bare Python tokens. */
export function malformedJson(valid: object): fc.Arbitrary<string> {
  const text = JSON.stringify(valid);
  const truncated = fc.integer({ min: 1, max: text.length - 1 }).map((n) => text.slice(0, n));
  const trailing = fc.constantFrom("}", ",", "]", " x", "\u0000", "{}").map((tail) => text + tail);
  const garbage = fc.string({ unit: "binary", minLength: 1, maxLength: 40 });
  return fc.oneof(truncated, trailing, garbage).filter((s) => s.trim() !== "" && !parsesAsJson(s));
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A JSON document that is valid JSON but not an object. */
export const nonObjectJson: fc.Arbitrary<string> = fc
  .oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }))
  .map((value) => JSON.stringify(value));

/** Values that no string field accepts. */
export const notAString: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({}),
  fc.constant([]),
  fc.array(fc.string(), { minLength: 1, maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { minKeys: 1, maxKeys: 2 }),
  fc.boolean(),
);

/** Values that no integer field (timestamps, steps, ids sent as numbers) accepts. */
export const notAnInteger: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({}),
  fc.constant([1]),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "nan", "inf", "", "1e3x", "0x10", "twelve", "1.5"),
  fc.constantFrom(1.5, -0.25, 1e20, -1e20, 2 ** 63, Number.MAX_VALUE),
  fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
);

/** Values that no metric value accepts (a number, or the strings "NaN", "Infinity", "-Infinity"). */
export const notAMetricValue: fc.Arbitrary<unknown> = fc.oneof(fc.constant({}), fc.constant([1]), fc.constant(true), fc.constantFrom("twelve", "1,5", "NaN NaN", "0x", "--1", "∞"));

/** Python's bare NaN/Infinity tokens: not JSON, so a strict JSON endpoint must refuse them. */
export const bareNonFiniteToken = fc.constantFrom("NaN", "Infinity", "-Infinity");

/** Characters no key or name segment may hold: controls, invisible and bidi marks, lone surrogates, emoji, SQL and shell metacharacters. */
const forbiddenKeyChar = fc.constantFrom(
  "\u0000",
  "\n",
  "\t",
  "\u007f",
  "\u200b",
  "\u202e",
  "\ufeff",
  "\ud800",
  "\udfff",
  "😀",
  "\uff0f",
  "'",
  '"',
  ";",
  "%",
  "*",
  "\\",
  "`",
  "(",
  ")",
  "=",
  "<",
  ">",
  "|",
  "&",
  "$",
  "#",
  "?",
  ",",
  "!",
  "~",
  "[",
  "+",
);

const keySafe = fc.string({ unit: fc.constantFrom(..."abcXYZ019_-. :"), maxLength: 12 });

/** Metric, param and tag keys that MLflow's key rule refuses. */
export const invalidKey: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(keySafe, forbiddenKeyChar, keySafe).map(([a, bad, b]) => a + bad + b),
  keySafe.map((k) => `/${k}`),
  fc.tuple(keySafe, keySafe).map(([a, b]) => `${a}..${b}`),
  fc.constant(""),
  fc.constantFrom("x".repeat(251), "' OR '1'='1", "k; DROP TABLE metrics; --", "k\u0000"),
);

/** Run ids that name no run: well-formed unknown uuids and hostile strings. */
export const unknownRunId: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{32}$/),
  fc.constantFrom("", " ", "' OR 1=1 --", "%", "*", "../../etc/passwd", "\u0000", "😀".repeat(16), "a".repeat(10_000)),
  fc.string({ maxLength: 40 }),
);

/** SQL metacharacters and oddities to embed in names, filters and order_by clauses. */
export const sqlMeta = fc.constantFrom(
  "'",
  "''",
  '"',
  "`",
  ";",
  "--",
  "/*",
  "*/",
  "%",
  "_",
  "\\",
  "\u0000",
  "' OR '1'='1",
  "; DROP TABLE runs; --",
  ") OR (1=1",
  "UNION SELECT * FROM api_tokens",
  "\u202e",
  "\ud800",
);
