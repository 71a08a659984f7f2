import type { DrizzleD1Database } from "drizzle-orm/d1";
import type * as schema from "./db/schema";

export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** Hono environment of the Worker: bindings from wrangler.toml and secrets, and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    /** Name of the token that authorised this write ("admin" for the admin token). */
    tokenName?: string;
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
