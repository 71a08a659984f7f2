import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { applyRunCount } from "../support/fast-check.js";

// Each test file starts with a fresh D1; bring it to the current schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
// FC_NUM_RUNS reaches workerd as a binding (vitest.config.ts).
applyRunCount(env.FC_NUM_RUNS);
