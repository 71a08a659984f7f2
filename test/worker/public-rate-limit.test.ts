/**
 * The public read budget per client address (PUBLIC_RATE_LIMITER, functions/http/security.ts):
 * the real app with the tight test limiter (3 reads a minute, vitest.config.ts) swapped in.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientKey, RATE_LIMIT_PERIOD_SECONDS } from "../../functions/http/security";
import wranglerToml from "../../wrangler.toml?raw";
import { ADMIN_TOKEN, type Answer, call, d1Cost } from "./support/call";
import { dumpDatabase, mintToken, revokeToken } from "./support/hostile";

declare global {
  namespace Cloudflare {
    interface Env {
      /** A 3-reads-a-minute limiter (vitest.config.ts) swapped in for PUBLIC_RATE_LIMITER. */
      TEST_TIGHT_PUBLIC_RATE_LIMITER: RateLimit;
    }
  }
}

const LIMIT = 3;

interface TightRequest {
  ip?: string;
  token?: string;
  body?: string | ReadableStream;
  /** Also swap the tight limiter in for the per-token budget. */
  tightTokenBudget?: boolean;
}

function tightCall(method: string, path: string, { ip, tightTokenBudget, ...options }: TightRequest = {}): Promise<Answer> {
  const limiters = {
    PUBLIC_RATE_LIMITER: env.TEST_TIGHT_PUBLIC_RATE_LIMITER,
    ...(tightTokenBudget && { WRITE_RATE_LIMITER: env.TEST_TIGHT_RATE_LIMITER }),
  };
  return call(method, path, { ...options, headers: ip ? { "CF-Connecting-IP": ip } : {}, env: limiters });
}

const EXPERIMENT = "/api/2.0/mlflow/experiments/get?experiment_id=0";
const read =
  (ip: string, token?: string, tightTokenBudget = false) =>
  () =>
    tightCall("GET", EXPERIMENT, { ip, token, tightTokenBudget });

/**
 * Sends reads until one is refused. The limiter counts in fixed windows: the first LIMIT reads
 * always pass, and the budget is gone by read 2 * LIMIT + 1 even if a window boundary falls in between.
 */
async function spendBudget(send: () => Promise<Answer>): Promise<Answer> {
  for (let i = 0; i < LIMIT; i++) expect((await send()).status).toBe(200);
  for (let i = 0; i <= LIMIT; i++) {
    const response = await send();
    if (response.status === 429) return response;
    expect(response.status).toBe(200);
  }
  throw new Error("no 429 after 2 * limit + 1 reads");
}

/** A request body that never ends: a handler that reads it never answers. */
const endlessBody = () => new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"filter": "')) });

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);

async function expectRefused(response: Answer, context: string): Promise<void> {
  expect(response.status, context).toBe(429);
  expect(response.headers.get("Retry-After"), context).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
  expect(response.headers.get("Content-Type"), context).toMatch(/^application\/json/);
  // Refused before any D1 call.
  expect(response.headers.get("Server-Timing"), context).toBe('d1;desc="rows_read=0 rows_written=0 calls=0"');
  // A HEAD answer has no body.
  if (context === "HEAD") return;
  expect(response.json, context).toEqual({ error_code: "REQUEST_LIMIT_EXCEEDED", message: expect.stringContaining("Too many reads") });
}

describe("the public read budget per client address", () => {
  it("refuses an address's reads over the budget with 429 + Retry-After, before D1 or the body, and only that address's", async () => {
    const ip = "198.51.100.7";
    const before = await dumpDatabase();
    await expectRefused(await spendBudget(read(ip)), "GET");
    await expectRefused(await tightCall("HEAD", EXPERIMENT, { ip }), "HEAD");
    for (const search of ["runs/search", "experiments/search"]) {
      // The body never ends: only a limiter that answers before reading it can answer at all.
      const answer = within(tightCall("POST", `/api/2.0/mlflow/${search}`, { ip, body: endlessBody() }), 5000, search);
      await expectRefused(await answer, search);
    }
    expect(await dumpDatabase()).toBe(before);

    expect((await tightCall("GET", EXPERIMENT, { ip: "198.51.100.8" })).status).toBe(200);
    expect((await tightCall("POST", "/api/2.0/mlflow/runs/search", { ip: "198.51.100.8", body: "{}" })).status).toBe(200);
  });

  it("does not count writes, with or without a token", async () => {
    const ip = "198.51.100.20";
    const writer = await mintToken("public-budget-writer");
    for (let i = 0; i < 3 * LIMIT; i++) {
      const write = await tightCall("POST", "/api/2.0/mlflow/runs/create", { ip, token: writer, body: JSON.stringify({ run_name: `w${i}` }) });
      expect(write.status).toBe(200);
      expect((await tightCall("POST", "/api/2.0/mlflow/runs/create", { ip, body: "{}" })).status).toBe(401);
    }
    for (let i = 0; i < LIMIT; i++) expect((await read(ip)()).status).toBe(200);
  });

  it("serves a read over the address's budget that carries a live token, counted against the token's budget", async () => {
    const ip = "198.51.100.30";
    await spendBudget(read(ip));
    const holder = await mintToken("public-budget-holder");
    expect((await read(ip, holder)()).status).toBe(200);
    expect((await read(ip, ADMIN_TOKEN)()).status).toBe(200);

    // A wrong or revoked token is anonymous: refused (after one lookup of the token).
    const wrong = await read(ip, "not-a-token-0123456789")();
    expect(wrong.status).toBe(429);
    expect(d1Cost(wrong).calls).toBeLessThanOrEqual(1);
    await revokeToken("public-budget-holder");
    expect((await read(ip, holder)()).status).toBe(429);

    // The token's own budget (tight here) bounds what it reads beyond the address's budget.
    const spender = await mintToken("public-budget-spender");
    await expectRefused(await spendBudget(read(ip, spender, true)), "token over both budgets");
  });

  it("counts an IPv6 client by its /64 network", async () => {
    await spendBudget(read("2001:db8:7:1::1"));
    expect((await read("2001:db8:7:1:ffff:ffff:ffff:fffe")()).status).toBe(429);
    expect((await read("2001:db8:7:2::1")()).status).toBe(200);

    expect(clientKey("2001:0DB8:0007:0001:0000:0000:0000:0001")).toBe(clientKey("2001:db8:7:1::1"));
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1:2:3:4")).toBe("fe80:0:0:0::/64");
    expect(clientKey("1:2:3:4:5:6:7:8")).toBe("1:2:3:4::/64");
    expect(clientKey("1:2:3::")).toBe("1:2:3:0::/64");
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("203.0.113.9")).not.toBe(clientKey("203.0.113.10"));
    expect(clientKey(undefined)).toBe("local");
  });

  it("is configured in wrangler.toml with the period Retry-After announces", () => {
    const [, limit, period] = wranglerToml.match(/name = "PUBLIC_RATE_LIMITER"[^[]*simple = \{ limit = (\d+), period = (\d+) \}/) ?? [];
    expect(Number(period)).toBe(RATE_LIMIT_PERIOD_SECONDS);
    // Generous enough for a person or a script reading the tracker: at least 10 reads a second.
    expect(Number(limit) / Number(period)).toBeGreaterThanOrEqual(10);
  });
});
