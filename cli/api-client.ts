/**
 * The one HTTP client of the CLI: base URL and tokens from flags, the environment or the local
 * server's defaults; retries with backoff on network errors and 5xx (bounded concurrency: concurrency.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
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
  return command
    .option("--api <url>", `tracker URL (default: $KDGAT_API or ${DEFAULT_API})`)
    .option("--token <token>", "write token (default: $KDGAT_TOKEN)");
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
  return readFileSync(devVarsPath, "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim() || undefined;
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

/**
 * Waits between retries: doubling, capped at 30 s, about a minute in all, so that a backfill rides
 * out a tracker restart or a short network outage. `KDGAT_RETRIES` sets how many (0 = none).
 */
const BACKOFF_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

function retryDelays(): number[] {
  const wanted = process.env.KDGAT_RETRIES;
  const count = wanted !== undefined && /^\d+$/.test(wanted) ? Number(wanted) : BACKOFF_MS.length;
  return Array.from({ length: count }, (_, i) => BACKOFF_MS[Math.min(i, BACKOFF_MS.length - 1)]);
}
const REQUEST_TIMEOUT_MS = 60_000;

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly retryDelaysMs: readonly number[] = retryDelays(),
  ) {}

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

  /** Sends a request and reads its answer, retrying network errors and 5xx (and 429) with exponential backoff. */
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
    for (let attempt = 0; ; attempt++) {
      const retryable = attempt < this.retryDelaysMs.length;
      try {
        // A streamed body is sent with no timeout on the whole (a checkpoint takes what it takes).
        const init = stream
          ? ({ method, headers, body: stream.open(), duplex: "half" } as RequestInit)
          : { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
        const response = await fetch(url, init);
        if ((response.status >= 500 || response.status === 429) && retryable) {
          await response.body?.cancel();
        } else if (options.unread && response.ok) {
          return response;
        } else {
          // Read the answer here: a connection that drops mid-answer is retried like one that drops
          // before it (every write is idempotent, so sending it again is safe).
          const answer = await response.arrayBuffer();
          return new Response(answer.byteLength > 0 ? answer : null, { status: response.status, headers: response.headers });
        }
      } catch (error) {
        if (!retryable) throw new Error(`cannot reach the tracker at ${this.baseUrl} (${(error as Error).message})`);
      }
      await sleep(this.retryDelaysMs[attempt] * (0.75 + Math.random() / 2));
    }
  }

  /** A request whose 2xx answer is JSON; anything else throws a TrackerError. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    return (await parseAnswer(response)) as T;
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

export async function parseAnswer(response: Response): Promise<unknown> {
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
