import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";
import { PUBLIC_POST_ROUTES } from "../mlflow/access";
import { sha256Hex } from "../store/tokens";
import { bearerToken } from "./auth";
import { ApiError } from "./errors";

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

/** The window of the WRITE_RATE_LIMITER binding (`simple.period` in wrangler.toml). */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

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
  allowHeaders: ["Content-Type"],
  exposeHeaders: ["ETag", "X-Next-Page-Token"],
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
 * Per-token write budget, before the token is looked up or the body read, so a runaway client
 * costs neither D1 reads nor parsing. Keyed by the token's hash (never the token itself). Requests
 * without a token are left to the auth middleware, which rejects them without touching D1.
 */
export const writeRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || isReadRequest(c.req.method, c.req.path)) return next();
  const { success } = await c.env.WRITE_RATE_LIMITER.limit({ key: await sha256Hex(token) });
  if (!success) {
    throw new ApiError("REQUEST_LIMIT_EXCEEDED", "Too many writes with this token; retry after the Retry-After delay.", {
      "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS),
    });
  }
  await next();
});
