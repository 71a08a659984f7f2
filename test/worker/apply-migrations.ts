import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { tokenCache } from "../../functions/store/tokens.js";
import { applyRunCount } from "../support/fast-check.js";

/**
 * Each test file starts from a fresh database and an empty bucket. The files of one vitest worker
 * share one workerd runtime (`isolate: false` in vitest.config.ts: a runtime and its module cache
 * cost seconds to start), so whatever the previous file left is dropped first (in one transaction,
 * foreign keys checked at its end), then the migrations build the schema and its seed rows again;
 * the isolate's token cache is emptied, as a new isolate's is.
 */
async function freshDatabase(): Promise<void> {
  const { results } = await env.DB.prepare("select type, name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%' and name not like '_cf_%'").all<{
    type: "table" | "view";
    name: string;
  }>();
  if (results.length > 0) {
    const drops = results.map(({ type, name }) => env.DB.prepare(`drop ${type} if exists "${name}"`));
    await env.DB.batch([env.DB.prepare("pragma defer_foreign_keys = on"), ...drops]);
  }
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
}

async function emptyBucket(): Promise<void> {
  for (let listed = await env.ARTIFACTS.list(); listed.objects.length > 0; listed = await env.ARTIFACTS.list()) {
    await env.ARTIFACTS.delete(listed.objects.map((object) => object.key));
  }
}

await Promise.all([freshDatabase(), emptyBucket()]);
tokenCache.entries.clear();
// FC_NUM_RUNS reaches workerd as a binding (vitest.config.ts).
applyRunCount(env.FC_NUM_RUNS);
