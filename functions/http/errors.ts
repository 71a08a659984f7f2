import { DrizzleQueryError } from "drizzle-orm";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, ERROR_STATUS, type ErrorCode } from "../errors";

export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json({ error_code: error.code, message: error.message }, error.status);
}

/** app.onError: every failure leaves as MLflow's error shape; only real faults are 500s. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return errorResponse(c, error);
  // The store's D1 wrapper throws ApiErrors (D1 unavailable) from inside queries that drizzle wraps.
  if (error instanceof DrizzleQueryError && error.cause instanceof ApiError) return errorResponse(c, error.cause);
  if (error instanceof HTTPException) {
    const code: ErrorCode = error.status === 413 ? "INVALID_PARAMETER_VALUE" : error.status === 401 ? "UNAUTHENTICATED" : "BAD_REQUEST";
    const status = error.status === 413 ? 413 : ERROR_STATUS[code];
    return c.json({ error_code: code, message: error.message || "Bad request" }, status as ContentfulStatusCode);
  }
  // The connection dropped while the body was read (the client hung up, or a hop in front of the
  // Worker did, e.g. while it restarts): nothing was written, and a client still listening may retry.
  if (isConnectionLost(error)) {
    console.warn(`connection lost while reading ${c.req.method} ${new URL(c.req.url).pathname}`);
    return c.json({ error_code: "TEMPORARILY_UNAVAILABLE", message: "The connection was lost while the request was read; nothing was written. Retry." }, 503);
  }
  // Never echo internals (they may hold request data); log them for `wrangler tail`, but not a failed
  // query's bound values (token hashes, user data): its SQL and cause say what went wrong.
  const logged = error instanceof DrizzleQueryError ? { query: error.query, cause: error.cause } : error;
  console.error(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}:`, logged);
  return c.json({ error_code: "INTERNAL_ERROR", message: "Internal error" }, 500);
}

/** workerd's error when the connection drops while a request body is read. */
function isConnectionLost(error: Error): boolean {
  return error.message === "Network connection lost." && !(error instanceof DrizzleQueryError);
}
