/**
 * One access helper per kind of route, applied by each route itself (MLflow and /api/v1 alike):
 *
 *   publicRead()     GET/HEAD anyone may send: CORS, the per-address budget
 *   publicSearch()   a read sent as POST (MLflow's searches): CORS, the per-address budget, body cap
 *   write()          needs a live write token: the per-token budget, the token, body cap
 *   admin()          needs the admin token: the per-token budget, the token, body cap
 *   signedWrite()    a write whose URL is its permission (an artifact part): the per-address budget
 *
 * Always in that order: rate limit, then token, then body cap, so a refused request costs neither
 * a D1 lookup nor reading its body. No path is classified anywhere else: a route's kind is the
 * helper it carries (`accessKind`), and a CORS preflight asks the route it is for (`preflight`).
 */
import type { Hono, MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import { LIMITS } from "../domain/limits";
import type { AppEnv } from "../env";
import { optionalAdminToken, requireAdminToken, requireWriteToken } from "./auth";
import { capBody } from "./limits";
import { addressRateLimit, readCors, tokenRateLimit } from "./security";

export const ACCESS_KINDS = ["publicRead", "publicSearch", "write", "admin", "signedWrite"] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

const KIND = Symbol("access kind");
type Tagged = MiddlewareHandler<AppEnv> & { [KIND]: AccessKind };

function tagged(kind: AccessKind, ...steps: MiddlewareHandler<AppEnv>[]): MiddlewareHandler<AppEnv> {
  return Object.assign(every(...steps), { [KIND]: kind }) as Tagged;
}

/** The access kind a handler stands for, if it is one of the helpers here. */
export function accessKind(handler: unknown): AccessKind | undefined {
  return typeof handler === "function" ? (handler as Partial<Tagged>)[KIND] : undefined;
}

const isRead = (kind: AccessKind | undefined) => kind === "publicRead" || kind === "publicSearch";

/**
 * A public read. `adminMayAskMore`: a route that answers the admin more (the full export); no token
 * is an anonymous read, any other token is refused rather than answered as anonymous.
 */
export const publicRead = (options: { adminMayAskMore?: boolean; privateWhen?: (env: Env) => boolean } = {}) =>
  tagged("publicRead", readCors, addressRateLimit, ...(options.adminMayAskMore ? [optionalAdminToken] : []), ...(options.privateWhen ? [tokenWhen(options.privateWhen)] : []));

/** `privateWhen`: a read the deployment may close (ARTIFACTS_PUBLIC=false), then it needs a write token. */
const tokenWhen =
  (isPrivate: (env: Env) => boolean): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    isPrivate(c.env) ? requireWriteToken(c, next) : next();

/** Whether the deployment closed artifact reads: the variable ARTIFACTS_PUBLIC is "false". */
export const artifactsPrivate = (env: Env) => (env.ARTIFACTS_PUBLIC as string) === "false";

/** Artifact downloads and listings: public unless ARTIFACTS_PUBLIC is "false", then they need a write token. */
export const artifactRead = () => publicRead({ privateWhen: artifactsPrivate });

/** A read sent as POST: public like a GET, its body capped before it is read. */
export const publicSearch = (maxBodyBytes: number = LIMITS.maxBodyBytes) => tagged("publicSearch", readCors, addressRateLimit, capBody(maxBodyBytes));

/**
 * A write: a live API token (or the admin token), its body capped before it is read; `"streamed"`
 * for a body the route streams on with its declared length (an artifact), which bounds it itself.
 */
export const write = (maxBodyBytes: number | "streamed" = LIMITS.maxBodyBytes) =>
  tagged("write", tokenRateLimit, requireWriteToken, ...(maxBodyBytes === "streamed" ? [] : [capBody(maxBodyBytes)]));

/** A write sent without a token whose URL is its permission (the route checks the signature first): the per-address budget. */
export const signedWrite = () => tagged("signedWrite", addressRateLimit);

/** An admin route (tokens, import): the admin token, its body capped before it is read. */
export const admin = (maxBodyBytes: number = LIMITS.maxBodyBytes) => tagged("admin", tokenRateLimit, requireAdminToken, capBody(maxBodyBytes));

/**
 * Answers a CORS preflight for a public read (204 with the read CORS headers); any other preflight
 * passes on with no CORS headers, so a browser never sends a write across origins. The route is
 * found the way the request it announces would find it: by the app's own router.
 */
export function preflight(app: Pick<Hono<AppEnv>, "router">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== "OPTIONS") return next();
    const requested = (c.req.header("Access-Control-Request-Method") ?? "").toUpperCase();
    return isPublicRead(app, requested, c.req.path) ? readCors(c, next) : next();
  };
}

/** Whether `method path` reaches a public read (publicRead or publicSearch), found by the app's own router. */
export function isPublicRead(app: Pick<Hono<AppEnv>, "router">, method: string, path: string): boolean {
  // Hono answers HEAD with the GET route.
  const [matches] = app.router.match(method === "HEAD" ? "GET" : method, path);
  return matches.some(([[handler]]) => isRead(accessKind(handler)));
}
