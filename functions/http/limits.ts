import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { excerpt } from "../domain/excerpt";
import { ApiError, invalidParameter } from "../errors";

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
