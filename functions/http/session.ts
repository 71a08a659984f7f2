/**
 * The D1 session of a request (D1's Sessions API, for read replicas). An anonymous read without a
 * bookmark may be served by any replica ("first-unconstrained"); a write, and a read that carries
 * a token (a writer's own client, e.g. MLflow's, which sends no bookmarks), starts at the primary
 * ("first-primary"); a request with an X-D1-Bookmark header starts from that bookmark, so it sees
 * every write up to it. The session's latest bookmark goes back in the same header (also exposed to
 * CORS reads), and the request's D1 calls stay counted for Server-Timing.
 */
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { excerpt } from "../domain/excerpt";
import { BOOKMARK_HEADER, BOOKMARK_SHAPE } from "../domain/sessions";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { openDb, zeroCost } from "../store/db";
import { isPublicRead } from "./access";

/** Where a request's session starts: its bookmark, else any replica for an anonymous public read, else the primary. */
export function sessionStart(publicRead: boolean, bookmark: string | undefined, withToken: boolean): D1SessionBookmark | D1SessionConstraint {
  if (bookmark !== undefined && bookmark !== "") {
    if (!BOOKMARK_SHAPE.test(bookmark)) throw invalidParameter(`${BOOKMARK_HEADER} must be a bookmark this tracker returned. Got '${excerpt(bookmark)}'.`);
    return bookmark;
  }
  return publicRead && !withToken ? "first-unconstrained" : "first-primary";
}

/** The request's D1 session; a route's kind (http/access.ts) says whether it reads or writes. */
export const d1Session = (app: Pick<Hono<AppEnv>, "router">) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const cost = zeroCost();
    const start = sessionStart(isPublicRead(app, c.req.method, c.req.path), c.req.header(BOOKMARK_HEADER), c.req.header("Authorization") !== undefined);
    const session = c.env.DB.withSession(start);
    c.set("db", openDb(session, cost));
    try {
      await next();
    } finally {
      const bookmark = session.getBookmark();
      if (bookmark) c.res.headers.set(BOOKMARK_HEADER, bookmark);
      // What the request cost D1: the rows D1 bills and the round trips; the benchmarks read it.
      c.res.headers.append("Server-Timing", `d1;desc="rows_read=${cost.rowsRead} rows_written=${cost.rowsWritten} calls=${cost.calls}"`);
    }
  });
