import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { ADMIN_TOKEN } from "./scripts/admin-token.mjs";
import { startDeployHook } from "./test/support/deploy-hook.mjs";
import LongestFirst from "./test/support/sequencer.js";
import unit, { HOSTILE_PARSERS } from "./vitest.unit.config.js";

// wrangler.toml serves the built site from dist/site; the folder must exist before a build.
mkdirSync("dist/site", { recursive: true });

const migrations = await readD1Migrations("drizzle");
const LIVE_SITE = "test/site/live-site.test.ts";
const CLIENT_ISOLATION = "test/serving/client-isolation.test.ts";
// The site's deploy hook for the cron tests: a real local HTTP endpoint (test/support/deploy-hook.mjs).
const deployHook = await startDeployHook();

// The pool reads wrangler.toml again for every test file, and wrangler warns each time that its
// [secrets] table is experimental and that ADMIN_TOKEN is not in .dev.vars (the tests bind it below).
// Only wrangler's errors are worth a line per file. (The local servers of the node projects keep
// their output for failure messages: scripts/local-server.mjs.)
process.env.WRANGLER_LOG ??= "error";

/**
 * The projects that start real processes (the built CLI, a local server, Chromium, the MLflow
 * client). Each file starts its own server on a free port with its own temporary D1, so files run
 * side by side; `oneAtATime` runs a project's files after all the others, one at a time.
 */
const nodeProject = (name: string, include: string[], options: { exclude?: string[]; oneAtATime?: boolean; testTimeout?: number; hookTimeout?: number } = {}) => ({
  test: {
    name,
    include,
    exclude: options.exclude ?? [],
    environment: "node" as const,
    globalSetup: ["test/support/build-cli.ts"],
    setupFiles: ["test/support/fast-check-setup.ts"],
    testTimeout: options.testTimeout ?? 60_000,
    hookTimeout: options.hookTimeout ?? 120_000,
    fileParallelism: !options.oneAtATime,
  },
});

export default defineConfig({
  test: {
    // vitest's default is one worker fewer than there are cores: one file at a time on this 2-core machine.
    maxWorkers: availableParallelism(),
    sequence: { sequencer: LongestFirst },
    reporters: process.env.VITEST_JSON_REPORT ? ["default", ["json", { outputFile: process.env.VITEST_JSON_REPORT }] as ["json", { outputFile: string }]] : ["default"],
    projects: [
      unit,
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { TEST_MIGRATIONS: migrations, ADMIN_TOKEN, TEST_DEPLOY_HOOK: deployHook, FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? "" },
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
          // One workerd runtime per vitest worker, reused from file to file (starting one and loading
          // the app into it costs seconds per file); apply-migrations.ts gives each file a fresh
          // database and bucket, and mocks are restored after each test.
          isolate: false,
          restoreMocks: true,
          setupFiles: ["test/worker/apply-migrations.ts"],
        },
      },
      nodeProject("cli", ["test/cli/**/*.test.ts"], { exclude: unit.test?.include }),
      nodeProject("site", ["test/site/**/*.test.ts"], { exclude: [LIVE_SITE] }),
      nodeProject("serving", ["test/serving/**/*.test.ts"], { exclude: [CLIENT_ISOLATION] }),
      // Timed, so measured with no other test file running: a stalled client, the parsers' linear-time
      // budgets, and the live site's freshness (it also builds into dist/site, as site.test.ts does).
      nodeProject("timed", [CLIENT_ISOLATION, HOSTILE_PARSERS, LIVE_SITE], { oneAtATime: true }),
      // The real MLflow Python client against a local Worker and against MLflow's own server.
      nodeProject("client", ["test/client/**/*.test.ts"], { testTimeout: 300_000, hookTimeout: 180_000 }),
    ],
  },
});
