import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/** Public reads may be cached briefly: runs change while jobs log, so the window stays short. */
export const PUBLIC_MAX_AGE_SECONDS = 30;

const READ_METHODS = new Set(["GET", "HEAD"]);
const entityTag = etag();

/**
 * Reads are public (their access: publicRead in http/access.ts): an ETag with 304 answers, and
 * `Cache-Control: public` unless a route set its own (tokens: no-store). Writes pass through untouched.
 */
export const cacheReads = createMiddleware<AppEnv>(async (c, next) => {
  if (!READ_METHODS.has(c.req.method)) return next();
  await entityTag(c, async () => {
    await next();
    if (c.res.status === 200 && !c.res.headers.has("Cache-Control")) {
      c.res.headers.set("Cache-Control", `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`);
    }
  });
});
