import { defineConfig } from "vitest/config";

/** The parsers' linear-time budgets: pure, but timed, so they run with the `timed` project. */
export const HOSTILE_PARSERS = "test/domain/hostile-parsers.test.ts";

/**
 * The `unit` project: the pure rules (test/domain, and the migrate journal's record rules), no
 * workerd, no built CLI, no server; a few seconds in all. vitest.config.ts runs it with the other
 * projects (`npm run test:unit` alone); Stryker runs this file for each mutant (`npm run test:mutation`).
 */
export default defineConfig({
  test: {
    name: "unit",
    include: ["test/domain/**/*.test.ts", "test/cli/migrate-journal-records.test.ts"],
    // Timing budgets at the body caps (seconds of CPU, and Stryker's instrumentation slows every
    // parse several times over): in the `serving` project.
    exclude: [HOSTILE_PARSERS],
    environment: "node",
    setupFiles: ["test/support/fast-check-setup.ts"],
  },
});
