import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { apiTokens } from "../db/schema";
import { toHex } from "../domain/hex";
import type { Db } from "../env";
import { alreadyExists, notFound } from "../errors";

/** last_used_at is refreshed at most this often, so a busy token does not cost a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export const sha256 = (text: string): Promise<ArrayBuffer> => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(text));
}

export async function findActiveToken(db: Db, tokenHash: string) {
  return db
    .select({ name: apiTokens.name, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .get();
}

interface CachedToken {
  name: string;
  lastUsedAt: number | null;
  /** When D1 last confirmed the token live. */
  checkedAt: number;
}

/**
 * Live tokens this isolate has seen, by hash: a write with a known token costs no D1 call. The
 * bound: a token revoked elsewhere (another isolate, the CLI) still works here for at most `ttlMs`
 * after D1 last confirmed it (a revocation through this isolate takes effect at once). Only live
 * tokens are kept (a wrong token always asks D1), at most `maxEntries`, the oldest dropped first.
 * `ttlMs` may be lowered by tests.
 */
export const tokenCache = {
  ttlMs: 30_000,
  maxEntries: 1_000,
  entries: new Map<string, CachedToken>(),
};

/** The live token with this hash, from the isolate's cache while it is younger than tokenCache.ttlMs, else from D1. */
export async function cachedActiveToken(db: Db, tokenHash: string): Promise<CachedToken | undefined> {
  const now = Date.now();
  const cached = tokenCache.entries.get(tokenHash);
  if (cached && now - cached.checkedAt < tokenCache.ttlMs) return cached;
  tokenCache.entries.delete(tokenHash);
  const row = await findActiveToken(db, tokenHash);
  if (!row) return undefined;
  const entry = { name: row.name, lastUsedAt: Math.max(row.lastUsedAt ?? 0, cached?.lastUsedAt ?? 0) || null, checkedAt: now };
  if (tokenCache.entries.size >= tokenCache.maxEntries) tokenCache.entries.delete(tokenCache.entries.keys().next().value!);
  tokenCache.entries.set(tokenHash, entry);
  return entry;
}

/**
 * Records a token's last use, at most once per TOUCH_INTERVAL_MS per isolate (the cached entry
 * remembers the last touch), so a busy token does not cost a write per request.
 */
export async function touchToken(db: Db, token: CachedToken): Promise<void> {
  const now = Date.now();
  if (token.lastUsedAt !== null && now - token.lastUsedAt < TOUCH_INTERVAL_MS) return;
  token.lastUsedAt = now;
  await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.name, token.name));
}

/** 32 random bytes, base64url, with a prefix that makes a leaked token easy to recognise. */
function newTokenSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `kdgat_${btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "")}`;
}

/**
 * Mints a token under a name; only its SHA-256 hash is stored. A revoked name may be minted again
 * (the row is replaced); a live one is RESOURCE_ALREADY_EXISTS.
 */
export async function mintToken(db: Db, name: string): Promise<string> {
  const token = newTokenSecret();
  const tokenHash = await sha256Hex(token);
  const now = Date.now();
  const written = await db
    .insert(apiTokens)
    .values({ name, tokenHash, createdAt: now })
    .onConflictDoUpdate({
      target: apiTokens.name,
      set: { tokenHash, createdAt: now, lastUsedAt: null, revokedAt: null },
      setWhere: sql`${apiTokens.revokedAt} is not null`,
    })
    .returning({ name: apiTokens.name });
  if (written.length === 0) throw alreadyExists(`A live token named '${name}' already exists; revoke it first.`);
  return token;
}

export async function listTokens(db: Db) {
  return db
    .select({ name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .orderBy(asc(apiTokens.name))
    .all();
}

/** Revokes a token (keeping the first revocation time); RESOURCE_DOES_NOT_EXIST for an unknown name. */
export async function revokeToken(db: Db, name: string): Promise<void> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, ${Date.now()})` })
    .where(eq(apiTokens.name, name))
    .returning({ name: apiTokens.name, tokenHash: apiTokens.tokenHash });
  if (rows.length === 0) throw notFound(`No token named '${name}'.`);
  for (const row of rows) tokenCache.entries.delete(row.tokenHash);
}
