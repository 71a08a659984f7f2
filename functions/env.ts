import type { DrizzleD1Database } from "drizzle-orm/d1";

/** The store's database: drizzle's query builder over D1, without relational queries (see openDb). */
export type Db = DrizzleD1Database & { $client: D1Database };

/** Hono environment of the Worker: bindings from wrangler.toml and secrets, and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    /** Name of the token that authorised this write ("admin" for the admin token). */
    tokenName?: string;
    /** The bearer token's SHA-256, hashed once per request (http/auth.ts tokenDigest). */
    tokenDigest?: { token: string; digest: Promise<ArrayBuffer> };
  };
}

declare global {
  namespace Cloudflare {
    interface Env {
      /** Workers Builds Deploy Hook of the site (secret, optional): the Cron Trigger calls it when the site is stale. */
      SITE_DEPLOY_HOOK_URL?: string;
    }
  }
}
