import type { Context } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import { BOOKMARK_HEADER } from "../domain/sessions";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { PUBLIC_POST_ROUTES } from "../mlflow/access";
import { sha256Hex } from "../store/tokens";
import { bearerToken, liveTokenName } from "./auth";

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

const tooManyRequests = (message: string) =>
  new ApiError("REQUEST_LIMIT_EXCEEDED", message, { "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS) });

/** Where index.ts mounts the MLflow API; its PUBLIC_POST_ROUTES are relative to these. */
const MLFLOW_MOUNT = /^\/(?:ajax-)?api\/2\.0\/mlflow(?=\/)/;

/** GET and HEAD read, and so do MLflow's searches sent as POST; everything else writes. */
export function isReadRequest(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD") return true;
  const mount = MLFLOW_MOUNT.exec(path);
  return method === "POST" && mount !== null && PUBLIC_POST_ROUTES.includes(path.slice(mount[0].length));
}

const openCors = cors({
  origin: "*",
  allowMethods: ["GET", "HEAD", "POST"],
  // Never Authorization: a page on another origin may read what anyone may read, and nothing more.
  allowHeaders: ["Content-Type", BOOKMARK_HEADER],
  exposeHeaders: ["ETag", "X-Next-Page-Token", BOOKMARK_HEADER],
  maxAge: 86400,
});

/**
 * CORS for reads only (GET, HEAD and the public searches): open to any origin, without credentials.
 * A preflight for anything else gets no CORS headers, so no browser page on another origin can send
 * a write with a token it found in the browser.
 */
export const readCors = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method === "OPTIONS" ? (c.req.header("Access-Control-Request-Method") ?? "") : c.req.method;
  return isReadRequest(method.toUpperCase(), c.req.path) ? openCors(c, next) : next();
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
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(":")}::/64`;
}

/**
 * Per-address budget for reads (PUBLIC_RATE_LIMITER), before the body is read or D1 touched, so
 * that no anonymous client can make the tracker read without bound. A read over that budget that
 * carries a live token is counted against the token's own budget instead: token holders behind one
 * address (a cluster's NAT) are not held to the anonymous budget. Writes are not counted here.
 */
export const publicRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (!isReadRequest(c.req.method, c.req.path)) return next();
  const { success } = await c.env.PUBLIC_RATE_LIMITER.limit({ key: clientKey(c.req.header("CF-Connecting-IP")) });
  if (success || (await withinTokenBudget(c))) return next();
  throw tooManyRequests("Too many reads from this address; retry after the Retry-After delay (reads with a write token have their own budget).");
});

/** Whether a read carries a live token with budget left: one D1 lookup, made only for reads over the public budget. */
async function withinTokenBudget(c: Context<AppEnv>): Promise<boolean> {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return false;
  const { success } = await c.env.WRITE_RATE_LIMITER.limit({ key: await sha256Hex(token) });
  return success && (await liveTokenName(c, token)) !== undefined;
}

/**
 * Per-token write budget, before the token is looked up or the body read, so a runaway client
 * costs neither D1 reads nor parsing. Keyed by the token's hash (never the token itself). Requests
 * without a token are left to the auth middleware, which rejects them without touching D1.
 */
export const writeRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || isReadRequest(c.req.method, c.req.path)) return next();
  const { success } = await c.env.WRITE_RATE_LIMITER.limit({ key: await sha256Hex(token) });
  if (!success) throw tooManyRequests("Too many writes with this token; retry after the Retry-After delay.");
  await next();
});
