/**
 * The one HTTP client of the tracker's Node programs (the CLI and the site build): every request
 * goes through `retryingFetch` (the core's retry rule: network errors, 5xx and 429 are repeated
 * with backoff, a Retry-After is honoured), `v1Client` is Hono's typed client of /api/v1 over it,
 * and `pages` follows a paged read to its end. It knows no flags, files or terminals: those are
 * the CLI's and the site's.
 */
import { hc } from "hono/client";
import type { V1Api } from "../api/index.js";
import { type Backoff, HTTP_BACKOFF, isRetryableStatus, MAX_RETRY_AFTER_MS, retryAfterMs, retryDelay } from "../domain/retry.js";

export interface RetryOptions {
  /** How often and how long to wait; default HTTP_BACKOFF (about a minute in all). */
  backoff?: Backoff;
  /** Each attempt's deadline; default 60 s. */
  timeoutMs?: number;
  /** Whether an attempt that got no answer within timeoutMs is repeated; default true. */
  retryTimeouts?: boolean;
  /** How to wait between attempts (tests record the waits). */
  wait?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A request that got no answer at all, after its retries: the tracker is down, unreachable or silent. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    /** The last attempt's failure (e.g. ECONNREFUSED), or the deadline it missed. */
    readonly reason: string,
    readonly timedOut: boolean,
  ) {
    super(`cannot reach ${url} (${reason})`);
  }
}

const describeFailure = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
};

/** What one request adds to the retry rule. */
export interface SendOptions extends RetryOptions {
  /** Hand back a 2xx answer unread, for the caller to stream (downloads); other answers are read whole. */
  unread?: boolean;
  /** No deadline per attempt (a streamed upload takes what it takes). */
  noTimeout?: boolean;
}

/**
 * One request, sent by `send` (called anew for every attempt, so a streamed body is opened again)
 * and repeated by the core's retry rule. The answer is read whole before it is returned, so an
 * answer cut short is repeated like one that never came (every request of the CLI and the site is
 * safe to repeat: reads, and idempotent writes). The last answer is returned whatever its status;
 * no answer at all throws UnreachableError.
 */
export async function retrying(url: string, send: (signal: AbortSignal | undefined) => Promise<Response>, options: SendOptions = {}): Promise<Response> {
  const backoff = options.backoff ?? HTTP_BACKOFF;
  const wait = options.wait ?? sleep;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let retry = 1; ; retry++) {
    const last = retry > backoff.retries;
    let retryAfter: number | undefined;
    try {
      const response = await send(options.noTimeout ? undefined : AbortSignal.timeout(timeoutMs));
      retryAfter = retryAfterMs(response.headers.get("Retry-After"));
      if (last || !isRetryableStatus(response.status) || (retryAfter ?? 0) > MAX_RETRY_AFTER_MS) {
        if (options.unread && response.ok) return response;
        const body = await response.arrayBuffer();
        const answer = new Response(body.byteLength > 0 ? body : null, { status: response.status, statusText: response.statusText, headers: response.headers });
        return Object.defineProperty(answer, "url", { value: response.url });
      }
      await response.body?.cancel();
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      if (last || (timedOut && options.retryTimeouts === false)) {
        throw new UnreachableError(url, timedOut ? `no answer within ${timeoutMs} ms` : describeFailure(error), timedOut);
      }
    }
    await wait(retryDelay(backoff, retry, retryAfter));
  }
}

/** fetch, repeated by the core's retry rule (see retrying). */
export function retryingFetch(options: RetryOptions = {}): typeof fetch {
  return (input, init) => retrying(input instanceof Request ? input.url : String(input), (signal) => fetch(input, { ...init, signal }), options);
}

export interface ClientOptions extends RetryOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A retrying fetch to share with other requests; default retryingFetch(options). */
  fetch?: typeof fetch;
}

/**
 * Hono's typed client of /api/v1 at `baseUrl` (the tracker's root), over retryingFetch. Path
 * parameters are sent as given: encode them (encodeURIComponent), hc does not.
 */
export function v1Client(baseUrl: string, options: ClientOptions = {}) {
  return hc<V1Api>(`${baseUrl.replace(/\/+$/, "")}/api/v1`, {
    fetch: options.fetch ?? retryingFetch(options),
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
  });
}

export type V1Client = ReturnType<typeof v1Client>;

/** A paged answer: JSON pages carry next_page_token, CSV pages the X-Next-Page-Token header (see csvPage). */
export interface Paged {
  next_page_token?: string;
}

/**
 * Every page of a paged read, in order: `fetchPage(undefined)` first, then each page's
 * next_page_token until a page has none. A token that comes back twice is an error: the read
 * would never end.
 */
export async function* pages<P extends Paged>(fetchPage: (pageToken: string | undefined) => Promise<P>): AsyncGenerator<P> {
  const seen = new Set<string>();
  for (let token: string | undefined; ; ) {
    const page = await fetchPage(token);
    yield page;
    token = page.next_page_token;
    if (!token) return;
    if (seen.has(token)) throw new Error(`the tracker returned the page token ${JSON.stringify(token.slice(0, 40))} twice; the read would never end`);
    seen.add(token);
  }
}

/** All pages of a paged read, collected. */
export async function allPages<P extends Paged>(fetchPage: (pageToken: string | undefined) => Promise<P>): Promise<P[]> {
  const all: P[] = [];
  for await (const page of pages(fetchPage)) all.push(page);
  return all;
}

/** A CSV page (GET /api/v1/runs.csv): its text, and the next page's token from X-Next-Page-Token. */
export async function csvPage(response: Response): Promise<{ csv: string } & Paged> {
  const token = response.headers.get("X-Next-Page-Token");
  return { csv: await response.text(), ...(token && { next_page_token: token }) };
}
