// Fails when functions/db/schema.ts and the migrations in drizzle/ disagree: drizzle-kit generate,
// run against a copy of drizzle/, must find nothing to generate.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./local-server.mjs";

// drizzle-kit takes --out relative to the project, so the copy lives under test-results/.
mkdirSync(join(ROOT, "test-results"), { recursive: true });
const copy = mkdtempSync(join(ROOT, "test-results", "migrations-"));
try {
  cpSync(join(ROOT, "drizzle"), copy, { recursive: true });
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "drizzle-kit"), ["generate", "--dialect", "sqlite", "--schema", "./functions/db/schema.ts", "--out", relative(ROOT, copy)], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0 || !output.includes("No schema changes")) {
    console.error(`Schema and migrations disagree; run \`npm run db:generate\`.\n${output}`);
    process.exit(1);
  }
  console.log("Schema and migrations agree.");
} finally {
  rmSync(copy, { recursive: true, force: true });
}
