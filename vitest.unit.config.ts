import { defineConfig } from "vitest/config";

/**
 * The fast unit tests alone (no workerd, no built CLI, no servers): what Stryker runs for
 * each mutant (`npm run test:mutation`). The full suite is vitest.config.ts.
 */
export default defineConfig({
  test: {
    name: "unit",
    include: ["test/domain/**/*.test.ts", "test/cli/migrate-journal-records.test.ts"],
    environment: "node",
  },
});
