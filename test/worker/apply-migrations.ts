import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file starts with a fresh D1; bring it to the current schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
