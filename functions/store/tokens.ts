import { and, eq, isNull } from "drizzle-orm";
import { apiTokens } from "../db/schema";
import type { Db } from "../env";

/** last_used_at is refreshed at most this often, so a busy token does not cost a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function findActiveToken(db: Db, tokenHash: string) {
  return db
    .select({ name: apiTokens.name, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .get();
}

export async function touchToken(db: Db, name: string, lastUsedAt: number | null): Promise<void> {
  const now = Date.now();
  if (lastUsedAt !== null && now - lastUsedAt < TOUCH_INTERVAL_MS) return;
  await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.name, name));
}
