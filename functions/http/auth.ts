import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { toHex } from "../domain/hex";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { openDb } from "../store/db";
import { cachedActiveToken, sha256, touchToken } from "../store/tokens";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="kdgat-tracker"' };

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,512})[ ]*$/i);
  return match?.[1];
}

const unauthenticated = (message: string) => new ApiError("UNAUTHENTICATED", message, CHALLENGE);

/**
 * The SHA-256 digest of the request's bearer token, computed once per request: the token's budget,
 * the admin check and the token lookup all key on it.
 */
export function tokenDigest(c: Context<AppEnv>, token: string): Promise<ArrayBuffer> {
  const memo = c.get("tokenDigest");
  if (memo?.token === token) return memo.digest;
  const digest = sha256(token);
  c.set("tokenDigest", { token, digest });
  return digest;
}

/** The token's digest as the hex key it is stored and budgeted under (never the token itself). */
export const tokenHashHex = async (c: Context<AppEnv>, token: string): Promise<string> => toHex(await tokenDigest(c, token));

/** The admin token's digest, kept for the isolate's life: the secret changes only with a deployment. */
let adminDigest: { secret: string; digest: Promise<ArrayBuffer> } | undefined;

/** Whether the token is the admin token: their digests compared in constant time, so lengths do not leak. */
async function isAdmin(c: Context<AppEnv>, token: string): Promise<boolean> {
  const secret = c.env.ADMIN_TOKEN;
  if (!secret || secret.length < 16) return false;
  if (adminDigest?.secret !== secret) adminDigest = { secret, digest: sha256(secret) };
  const [given, admin] = await Promise.all([tokenDigest(c, token), adminDigest.digest]);
  return crypto.subtle.timingSafeEqual(given, admin);
}

/**
 * The name of a live token ("admin" for the admin token), or undefined for a wrong or revoked one.
 * An API token is looked up by its hash in D1 only when this isolate has not confirmed it live within
 * the last tokenCache.ttlMs (30 s: a revoked token may work that long in another isolate). Its last
 * use is recorded after the answer, off the request's D1 count (its own counter).
 */
export async function liveTokenName(c: Context<AppEnv>, token: string): Promise<string | undefined> {
  if (await isAdmin(c, token)) return "admin";
  const live = await cachedActiveToken(c.get("db"), await tokenHashHex(c, token));
  if (!live) return undefined;
  c.executionCtx.waitUntil(touchToken(openDb(c.env.DB), live));
  return live.name;
}

/** Writes need a live API token (or the admin token). */
export const requireWriteToken = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthenticated("A write needs 'Authorization: Bearer <token>'.");
  const name = await liveTokenName(c, token);
  if (!name) throw unauthenticated("The token is missing, wrong or revoked.");
  c.set("tokenName", name);
  await next();
});

/** Admits the request as the admin (tokenName "admin") or refuses it with `message`. */
async function admitAdmin(c: Context<AppEnv>, message: string): Promise<void> {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !(await isAdmin(c, token))) throw unauthenticated(message);
  c.set("tokenName", "admin");
}

/**
 * Routes that answer the admin more (the full export): no token is an anonymous read, and any other
 * token is refused rather than answered as anonymous, so that a wrong admin token never passes for
 * a right one.
 */
export const optionalAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.header("Authorization") !== undefined) await admitAdmin(c, "The token is not the admin token; send none for the public export.");
  await next();
});

/** Token administration needs the admin token (the Worker secret ADMIN_TOKEN). */
export const requireAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  await admitAdmin(c, "This route needs the admin token.");
  await next();
});
