import type { HonoRequest, MiddlewareHandler } from "hono";
import { excerpt } from "../domain/excerpt";
import { ApiError, invalidParameter } from "../errors";

/** Refuses a request string longer than its cap, naming the parameter and quoting an excerpt. */
export function capLength(name: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) {
    throw invalidParameter(`Invalid value '${excerpt(value)}' for parameter '${name}': at most ${max} characters are allowed, got ${value.length}.`);
  }
}

/**
 * Caps a request body before a route reads it; over the cap is an error in MLflow's error shape.
 * A Content-Length over the cap refuses at once; whatever the header says, the body itself is
 * counted as it streams in and read no further than the cap. The bytes read are handed to the
 * route through hono's body cache (c.req.arrayBuffer(), text(), json() answer from it), which
 * costs no second Request and no stream relay, as hono's bodyLimit would.
 */
export const capBody =
  (maxSize: number): MiddlewareHandler =>
  async (c, next) => {
    const declared = c.req.header("Content-Length");
    if (declared !== undefined && Number(declared) > maxSize) bodyTooLarge(maxSize);
    const body = c.req.raw.body;
    if (body) {
      const bytes = await readCapped(body, maxSize);
      // hono keeps each body it has read as a promise under the reading method's name (its type says the method).
      c.req.bodyCache.arrayBuffer = Promise.resolve(bytes) as unknown as BodyCache["arrayBuffer"];
    }
    await next();
  };

type BodyCache = HonoRequest["bodyCache"];

const bodyTooLarge = (maxSize: number): never => {
  throw new ApiError("INVALID_PARAMETER_VALUE", `Request body exceeds the limit of ${maxSize} bytes.`, {});
};

/** A body's bytes, at most maxSize of them: one more refuses the request and cancels the stream. */
async function readCapped(body: ReadableStream<Uint8Array>, maxSize: number): Promise<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop by the throw cancels the stream (the async iterator's return()).
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxSize) bodyTooLarge(maxSize);
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}
