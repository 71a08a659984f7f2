/**
 * D1 read replication (the Sessions API): a write answers with its session's bookmark in this
 * header, and a request that sends it back starts its D1 session from that bookmark, so it reads
 * at least what that write wrote, from any replica (functions/http/session.ts). The CLI does so.
 */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/**
 * A D1 bookmark as D1 makes them (e.g. `00000001-00000002-00004016-ac18d1ee22f3e44a7b23a3f6bd34bd56`,
 * https://developers.cloudflare.com/d1/best-practices/read-replication/): anything else is refused
 * before it reaches D1.
 */
export const BOOKMARK_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
