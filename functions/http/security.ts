import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import { BOOKMARK_HEADER } from "../domain/sessions";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { bearerToken, liveTokenName, tokenHashHex } from "./auth";

/**
 * Hardening headers on every Worker response (hono's secure-headers defaults: nosniff,
 * Referrer-Policy no-referrer, HSTS, X-Frame-Options...). None of them changes how an HTTP client
 * reads JSON. The CSP is for the odd browser that opens an API URL as a page: an API answer is
 * data, so it may load nothing and be framed by nobody. The site's own CSP is in site/public/_headers.
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  xFrameOptions: "DENY",
});

/** The window of both rate-limit bindings (`simple.period` in wrangler.toml); a refused client waits it out. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

const tooManyRequests = (message: string) => new ApiError("REQUEST_LIMIT_EXCEEDED", message, { "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS) });

/**
 * CORS of the public reads (http/access.ts applies it to them alone): open to any origin, without
 * credentials. Never Authorization: a page on another origin may read what anyone may read, and
 * nothing more; no browser page on another origin can send a write with a token it found.
 */
export const readCors: MiddlewareHandler = cors({
  origin: "*",
  allowMethods: ["GET", "HEAD", "POST"],
  allowHeaders: ["Content-Type", BOOKMARK_HEADER],
  exposeHeaders: ["ETag", "X-Next-Page-Token", BOOKMARK_HEADER],
  maxAge: 86400,
});

/**
 * The public budget's key for a client: the address Cloudflare saw (CF-Connecting-IP; absent when
 * the Worker runs locally). An IPv6 address counts by its /64 network: a single host is commonly
 * given a whole /64, so a per-address key would not bind it.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return "local";
  if (!address.includes(":") || address.includes(".")) return address;
  const [head, tail] = address.split("::");
  const groups = head ? head.split(":") : [];
  if (tail !== undefined) {
    const tailGroups = tail ? tail.split(":") : [];
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - tailGroups.length)).fill("0"), ...tailGroups);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * Per-address budget for reads (PUBLIC_RATE_LIMITER), before the body is read or D1 touched, so
 * that no anonymous client can make the tracker read without bound. A read over that budget that
 * carries a live token is counted against the token's own budget instead: token holders behind one
 * address (a cluster's NAT) are not held to the anonymous budget.
 */
export const addressRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { success } = await c.env.PUBLIC_RATE_LIMITER.limit({ key: clientKey(c.req.header("CF-Connecting-IP")) });
  if (success || (await withinTokenBudget(c))) return next();
  throw tooManyRequests("Too many reads from this address; retry after the Retry-After delay (reads with a write token have their own budget).");
});

/** Whether a read carries a live token with budget left: one D1 lookup, made only for reads over the public budget. */
async function withinTokenBudget(c: Context<AppEnv>): Promise<boolean> {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return false;
  const { success } = await c.env.WRITE_RATE_LIMITER.limit({ key: await tokenHashHex(c, token) });
  return success && (await liveTokenName(c, token)) !== undefined;
}

/**
 * Per-token budget (WRITE_RATE_LIMITER) for writes and admin requests, before the token is looked
 * up or the body read, so a runaway client costs neither D1 reads nor parsing. Keyed by the token's
 * hash (never the token itself). A request without a token is left to the token check, which
 * refuses it without touching D1.
 */
export const tokenRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return next();
  const { success } = await c.env.WRITE_RATE_LIMITER.limit({ key: await tokenHashHex(c, token) });
  if (!success) throw tooManyRequests("Too many writes with this token; retry after the Retry-After delay.");
  await next();
});
