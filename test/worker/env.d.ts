import type { D1Migration } from "@cloudflare/vitest-pool-workers";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Base URL of the local deploy hook endpoint (test/support/deploy-hook.mjs). */
      TEST_DEPLOY_HOOK: string;
      /** The fast-check run count knob (test/support/fast-check.ts); empty when unset. */
      FC_NUM_RUNS: string;
    }
  }
}
