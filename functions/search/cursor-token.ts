import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import { RUN_UUID } from "../domain/run-id";
import { invalidParameter } from "../errors";

/**
 * Cursor page tokens of the /api/v1 reads, a metric history and runs/search (MLflow's own tokens are
 * offsets, which experiments/search keeps: page-token.ts): opaque base64url JSON to clients, never trusted, decoded through a schema.
 */
export function encodePageToken(position: unknown): string {
  return btoa(JSON.stringify(position)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodePageToken<T extends z.ZodMiniType>(token: string, schema: T): z.output<T> {
  try {
    const parsed = schema.safeParse(JSON.parse(atob(token.replaceAll("-", "+").replaceAll("_", "/"))));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through: any undecodable token is the same client error
  }
  throw invalidParameter(`Invalid page_token '${excerpt(token)}'.`);
}

/** A metric history page token's position: the last point sent (store/runs.ts HistoryCursor). */
export const historyCursor = z.tuple([z.int(), z.int(), z.number(), z.union([z.literal(0), z.literal(1)])]);

/**
 * A runs/search page token's position: the segment of the ordering (store/search.ts) and the last run
 * sent; the next page starts after that run's place in the order (keyset paging).
 */
export const runSearchCursor = z.tuple([z.int().check(z.minimum(0), z.maximum(2)), z.string().check(z.regex(RUN_UUID))]);
export type RunSearchCursor = z.output<typeof runSearchCursor>;

/**
 * An export page token's position (store/export.ts ExportCursor): after a run, or inside one, after a
 * point of its history ([run, key, step, timestamp, value, is_nan, next part]).
 */
export const exportCursor = z.union([
  z.string().check(z.regex(RUN_UUID)),
  z.tuple([z.string().check(z.regex(RUN_UUID)), z.string(), z.int(), z.int(), z.number(), z.union([z.literal(0), z.literal(1)]), z.int().check(z.minimum(2))]),
]);
