/**
 * The one retry rule: what is worth repeating and how long to wait first. The CLI and the site's
 * build repeat HTTP requests by it (functions/client), the Worker repeats D1 calls by it (store/db.ts).
 */

export interface Backoff {
  /** The wait before the first retry; each later one doubles. */
  readonly firstMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
  /** How many times a request is repeated before its failure stands. */
  readonly retries: number;
}

/**
 * HTTP clients (CLI, site build): 250 ms doubling to 30 s, eight retries, about a minute in all, so
 * that a backfill rides out a tracker restart or a short network outage.
 */
export const HTTP_BACKOFF: Backoff = { firstMs: 250, maxMs: 30_000, retries: 8 };

/** A Retry-After longer than this is not waited out: the request fails and says so. */
export const MAX_RETRY_AFTER_MS = 120_000;

/**
 * The wait before retry `retry` (1 for the first): doubling from firstMs up to maxMs, the upper
 * half of it random, so that clients refused together do not come back together.
 */
export function backoffDelay(backoff: Backoff, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (retry - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** An HTTP answer worth repeating: a server error or "too many requests"; any other 4xx stands. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** A Retry-After header (delta-seconds or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header == null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before retry `retry` of an answer: its Retry-After when it gives a longer one, else the backoff. */
export function retryDelay(backoff: Backoff, retry: number, retryAfter: number | undefined, random: () => number = Math.random): number {
  return Math.max(backoffDelay(backoff, retry, random), retryAfter ?? 0);
}
