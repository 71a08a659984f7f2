import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { excerpt } from "../domain/excerpt";
import { ApiError, invalidParameter } from "./errors";

/** MLflow's own limits, enforced before anything is written. */
export const LIMITS = {
  maxBodyBytes: 1024 * 1024,
  /** /api/v1 uploads (metrics.csv of a long run, a nested metrics.json). */
  maxUploadBytes: 8 * 1024 * 1024,
  maxBatchMetrics: 1000,
  maxBatchParams: 100,
  maxBatchTags: 100,
  maxBatchEntries: 1000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
  maxRunNameLength: 250,
  /**
   * Distinct metric keys one run may hold (ours, not MLflow's): every read of a run returns all its
   * latest values, so a run with 100,000 keys would make each of its reads megabytes. A write past
   * it is 400 INVALID_PARAMETER_VALUE, the code of MLflow's own batch limits (clients do not retry it).
   */
  maxMetricKeysPerRun: 10_000,
  maxSearchResults: 50000,
  defaultSearchResults: 1000,
  /**
   * Ours, not MLflow's (it has none): room for a filter of comparisons against maximal (8000-char)
   * tag values, every quote doubled; a filter is parsed in linear time anyway.
   */
  maxFilterLength: 32 * 1024,
  /** One order_by entry: a prefix, a quoted key of maxKeyLength (quotes doubled) and ASC/DESC. */
  maxOrderByLength: 1024,
  /** Page tokens are ours and short (MLflow's: base64 of `{"offset": N}`). */
  maxPageTokenLength: 1024,
} as const;

/** Refuses a request string longer than its cap, naming the parameter and quoting an excerpt. */
export function capLength(name: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) {
    throw invalidParameter(`Invalid value '${excerpt(value)}' for parameter '${name}': at most ${max} characters are allowed, got ${value.length}.`);
  }
}

/**
 * Caps a request body before it is read; over the cap is an error in MLflow's error shape. hono's
 * bodyLimit believes a Content-Length header and then lets the whole body through, however long it
 * is; here the header only refuses early, and the body itself is always counted as it streams in.
 */
export const capBody = (maxSize: number): MiddlewareHandler => {
  const tooLarge = (): never => {
    throw new ApiError("INVALID_PARAMETER_VALUE", `Request body exceeds the limit of ${maxSize} bytes.`, {});
  };
  const counted = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header("Content-Length");
    if (declared !== undefined) {
      if (Number(declared) > maxSize) tooLarge();
      const headers = new Headers(c.req.raw.headers);
      headers.delete("Content-Length");
      c.req.raw = new Request(c.req.raw, { headers });
    }
    return counted(c, next);
  };
};
