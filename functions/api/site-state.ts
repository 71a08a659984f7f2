/**
 * GET /site/state  when the public site last went stale: `npm start` polls it to rebuild the local
 * site by itself; anyone may read it (one row of D1).
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { publicRead } from "../http/access";
import { getSiteState } from "../store/site-state";
import { siteStateBody } from "./presenters";

export const siteStateRoutes = new Hono<AppEnv>().get("/site/state", publicRead(), async (c) => {
  // Polled for changes: never served from a cache.
  c.header("Cache-Control", "no-cache");
  return c.json(siteStateBody(await getSiteState(c.get("db"))));
});
