import { mkdirSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { ADMIN_TOKEN } from "./scripts/admin-token.mjs";
import { startDeployHook } from "./test/support/deploy-hook.mjs";

// wrangler.toml serves the built site from dist/site; the folder must exist before a build.
mkdirSync("dist/site", { recursive: true });

const migrations = await readD1Migrations("drizzle");
// The site's deploy hook for the cron tests: a real local HTTP endpoint (test/support/deploy-hook.mjs).
const deployHook = await startDeployHook();

export default defineConfig({
    test: {
      reporters: process.env.VITEST_JSON_REPORT
        ? ["default", ["json", { outputFile: process.env.VITEST_JSON_REPORT }] as ["json", { outputFile: string }]]
        : ["default"],
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { TEST_MIGRATIONS: migrations, ADMIN_TOKEN, TEST_DEPLOY_HOOK: deployHook },
                // Tight budgets that the rate-limit tests swap in for WRITE_RATE_LIMITER and PUBLIC_RATE_LIMITER,
                // and a public budget no test file reaches (all tests read from one address, "local").
                ratelimits: {
                  PUBLIC_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
                  TEST_TIGHT_RATE_LIMITER: { simple: { limit: 3, period: 60 } },
                  TEST_TIGHT_PUBLIC_RATE_LIMITER: { simple: { limit: 3, period: 60 } },
                },
              },
            }),
          ],
          test: {
            name: "worker",
            include: ["test/worker/**/*.test.ts"],
            setupFiles: ["test/worker/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "node",
            include: ["test/domain/**/*.test.ts", "test/cli/**/*.test.ts", "test/site/**/*.test.ts", "test/serving/**/*.test.ts"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
        {
          test: {
            // The real MLflow Python client against a local Worker and against MLflow's own server.
            name: "client",
            include: ["test/client/**/*.test.ts"],
            environment: "node",
            testTimeout: 300_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
      ],
    },
});
