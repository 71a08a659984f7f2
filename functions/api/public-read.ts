import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/** Public reads may be cached briefly: runs change while jobs log, so the window stays short. */
export const PUBLIC_MAX_AGE_SECONDS = 30;

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const openCors = cors({ origin: "*", allowMethods: ["GET", "HEAD"], exposeHeaders: ["ETag", "X-Next-Page-Token"], maxAge: 86400 });
const entityTag = etag();

/**
 * Reads are public: open CORS (GET and HEAD only, so no browser page can send a write), an ETag
 * with 304 answers, and `Cache-Control: public` unless a route set its own (tokens: no-store).
 * Writes pass through untouched.
 */
export const publicRead = createMiddleware<AppEnv>(async (c, next) => {
  if (!READ_METHODS.has(c.req.method)) return next();
  // cors answers a preflight itself; everything else goes on through the ETag middleware.
  return openCors(c, async () => {
    await entityTag(c, async () => {
      await next();
      if (c.res.status === 200 && !c.res.headers.has("Cache-Control")) {
        c.res.headers.set("Cache-Control", `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`);
      }
    });
  });
});
