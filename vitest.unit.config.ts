import { defineConfig } from "vitest/config";

/**
 * The fast unit tests alone (no workerd, no built CLI, no servers): what Stryker runs for
 * each mutant (`npm run test:mutation`). The full suite is vitest.config.ts.
 */
export default defineConfig({
  test: {
    name: "unit",
    include: ["test/domain/**/*.test.ts", "test/cli/migrate-journal-records.test.ts"],
    // Timing budgets: Stryker's instrumentation slows every parse several times over.
    exclude: ["test/domain/hostile-parsers.test.ts"],
    environment: "node",
  },
});
