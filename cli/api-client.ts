/**
 * The CLI's connection to the tracker: base URL and tokens from flags, the environment or the local
 * server's defaults, over the shared HTTP client (functions/client: retries, the typed v1 client,
 * paging; bounded concurrency: functions/domain/concurrency.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { type RetryOptions, retrying, retryingFetch, type V1Client, v1Client } from "../functions/client/index.js";
import { HTTP_BACKOFF } from "../functions/domain/retry.js";
import { BOOKMARK_HEADER } from "../functions/domain/sessions.js";
import { UsageError } from "./errors.js";

/** Where `npm start` serves the tracker. */
export const DEFAULT_API = "http://127.0.0.1:8787";

export interface ConnectionFlags {
  api?: string;
  token?: string;
  adminToken?: string;
}

/** Adds `--api` and `--token` (every command that talks to the tracker has them). */
export function withConnectionOptions(command: Command): Command {
  return command.option("--api <url>", `tracker URL (default: $KDGAT_API or ${DEFAULT_API})`).option("--token <token>", "write token (default: $KDGAT_TOKEN)");
}

/** Adds `--admin-token` for the admin routes (tokens, import, the full export). */
export function withAdminTokenOption(command: Command): Command {
  return command.option("--admin-token <token>", "admin token (default: $KDGAT_ADMIN_TOKEN, then ADMIN_TOKEN in ./.dev.vars)");
}

export function resolveApi(flags: ConnectionFlags): string {
  return (flags.api ?? process.env.KDGAT_API ?? DEFAULT_API).replace(/\/+$/, "");
}

export function resolveToken(flags: ConnectionFlags): string | undefined {
  return flags.token ?? process.env.KDGAT_TOKEN;
}

/** The admin token: flag, environment, then the local server's `.dev.vars` (written by `npm start`). */
export function resolveAdminToken(flags: ConnectionFlags, devVarsPath = ".dev.vars"): string | undefined {
  if (flags.adminToken) return flags.adminToken;
  if (process.env.KDGAT_ADMIN_TOKEN) return process.env.KDGAT_ADMIN_TOKEN;
  if (!existsSync(devVarsPath)) return undefined;
  return (
    readFileSync(devVarsPath, "utf8")
      .match(/^ADMIN_TOKEN=(.*)$/m)?.[1]
      ?.trim() || undefined
  );
}

/** An answer of the tracker that is not 2xx, with its `{"error_code","message"}` body. */
export class TrackerError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    /** The tracker's own message. */
    readonly reason: string,
  ) {
    super(`${status} ${errorCode}: ${reason}`);
  }
}

/** A body streamed from a file (artifacts): opened again for every attempt, sent with its length. */
export interface StreamBody {
  open(): ReadableStream<Uint8Array>;
  length: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A string or bytes are sent as they are, a StreamBody streamed; anything else as JSON. */
  body?: unknown;
  /** Hand back the answer unread, for the caller to stream (downloads). */
  unread?: boolean;
  contentType?: string;
  /** Send the token (writes) or not (public reads). Default: when there is one. */
  auth?: boolean;
}

/** The core's HTTP backoff (about a minute in all); `KDGAT_RETRIES` sets how many retries (0 = none). */
export function retryOptions(env: NodeJS.ProcessEnv = process.env): RetryOptions {
  const wanted = env.KDGAT_RETRIES;
  return wanted !== undefined && /^\d+$/.test(wanted) ? { backoff: { ...HTTP_BACKOFF, retries: Number(wanted) } } : {};
}

export class ApiClient {
  private readonly fetch: typeof fetch;
  /** The typed client of /api/v1 (Hono's hc over the same retrying fetch), sending the token. */
  readonly v1: V1Client;
  /** The same without the token, for public reads. */
  readonly publicV1: V1Client;
  /** The newest D1 bookmark the tracker returned: sent back, so that this client reads its own writes from any replica. */
  private bookmark?: string;

  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly retry: RetryOptions = retryOptions(),
  ) {
    this.fetch = this.carryingBookmarks(retryingFetch(retry));
    this.v1 = v1Client(baseUrl, { token, fetch: this.fetch });
    this.publicV1 = v1Client(baseUrl, { fetch: this.fetch });
  }

  /** `fetch` sending the newest bookmark and keeping the newest one each answer brings (every request of this client, hc's too). */
  private carryingBookmarks(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
    return async (input, init) => {
      const headers = new Headers(init?.headers);
      if (this.bookmark) headers.set(BOOKMARK_HEADER, this.bookmark);
      const response = await fetch(input, { ...init, headers });
      const bookmark = response.headers.get(BOOKMARK_HEADER);
      // Bookmarks are fixed-width hex: the greater is the newer (answers to concurrent requests may arrive out of order).
      if (bookmark && (this.bookmark === undefined || bookmark > this.bookmark)) this.bookmark = bookmark;
      return response;
    };
  }

  static fromFlags(flags: ConnectionFlags): ApiClient {
    return new ApiClient(resolveApi(flags), resolveToken(flags));
  }

  /** A client for the admin-only routes; a missing admin token is a usage error. */
  static forAdmin(flags: ConnectionFlags): ApiClient {
    const client = ApiClient.adminIfAny(flags);
    if (!client.token) throw new UsageError("no admin token: pass --admin-token, set KDGAT_ADMIN_TOKEN, or run where ./.dev.vars is");
    return client;
  }

  /** A client that sends the admin token when there is one (routes that answer the admin more), else no token. */
  static adminIfAny(flags: ConnectionFlags): ApiClient {
    return new ApiClient(resolveApi(flags), resolveAdminToken(flags));
  }

  url(path: string, query: RequestOptions["query"] = {}): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /**
   * Sends a request and reads its answer whole, through the shared retrying fetch (network errors,
   * an answer cut short, 5xx and 429 are retried with backoff; every write is idempotent).
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token && options.auth !== false) headers.Authorization = `Bearer ${this.token}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    const stream = isStreamBody(options.body) ? options.body : undefined;
    if (stream) {
      headers["Content-Type"] = options.contentType ?? "application/octet-stream";
      headers["Content-Length"] = String(stream.length);
    } else if (typeof options.body === "string" || options.body instanceof Uint8Array) body = options.body as string | Uint8Array<ArrayBuffer>;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
    const url = this.url(path, options.query);
    if (!stream && !options.unread) return this.fetch(url, { method, headers, body });
    // A streamed body is opened again for every attempt; a download's answer is handed back unread.
    const send = (input: RequestInfo | URL, init?: RequestInit) =>
      retrying(String(input), (signal) => fetch(input, { ...init, ...(stream && { body: stream.open(), duplex: "half" }), signal } as RequestInit), {
        ...this.retry,
        unread: options.unread,
        noTimeout: stream !== undefined,
      });
    return this.carryingBookmarks(send)(url, { method, headers, body });
  }

  /** A request whose 2xx answer is JSON; anything else throws a TrackerError. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await parseAnswer(await this.request(method, path, options))) as T;
  }

  /** A JSON read that answers undefined on 404. */
  async find<T>(path: string, options: RequestOptions = {}): Promise<T | undefined> {
    const response = await this.request("GET", path, options);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return (await parseAnswer(response)) as T;
  }
}

/** An answer of `request` or of the typed `v1` client (a Response at run time). */
interface Answer<T> {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  json(): Promise<T>;
}

/** The JSON of a 2xx answer of the typed client, typed by the route; anything else throws a TrackerError. */
export async function answer<T>(pending: Promise<Answer<T>>): Promise<T> {
  return (await parseAnswer(await pending)) as T;
}

/** The JSON of a 2xx answer; anything else throws a TrackerError. */
export async function parseAnswer(response: Pick<Answer<unknown>, "ok" | "status" | "text">): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) {
    let code = "HTTP_ERROR";
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      code = parsed.error_code ?? code;
      message = parsed.message ?? message;
    } catch {
      // Not the API's error shape (a proxy, an HTML page): keep the raw text.
    }
    throw new TrackerError(response.status, code, message);
  }
  return text === "" ? undefined : JSON.parse(text);
}

function isStreamBody(body: unknown): body is StreamBody {
  return typeof body === "object" && body !== null && typeof (body as StreamBody).open === "function";
}

export function encodeRunId(runId: string): string {
  return runId.split("/").map(encodeURIComponent).join("/");
}
