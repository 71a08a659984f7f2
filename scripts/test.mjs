// `npm test`: lint and format (Biome), typecheck, schema/migration agreement, an offline deploy dry run and the bundle's gzip
// budget, then every vitest project (workerd, CLI, site). Ends with the plain line `N passed, N failed`
// that CI reads, also written to test-results/summary.txt.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./local-server.mjs";
import { offlineEnv } from "./wrangler-env.mjs";

const resultsDir = join(ROOT, "test-results");
mkdirSync(resultsDir, { recursive: true });
// wrangler.toml serves the built site from dist/site; a fresh clone has not built it yet.
mkdirSync(join(ROOT, "dist", "site"), { recursive: true });
// Cleared first, so a failed dry run cannot leave an old bundle for the size check to pass.
const bundleDir = join(resultsDir, "worker-bundle");
rmSync(bundleDir, { recursive: true, force: true });
const bin = (name) => join(ROOT, "node_modules", ".bin", name);

function run(label, command, args) {
  console.log(`\n=== ${label}`);
  const result = spawnSync(command, args, { cwd: ROOT, env: offlineEnv(), stdio: "inherit" });
  return result.status === 0;
}

const checks = [
  ["lint and format (biome ci)", bin("biome"), ["ci", "."]],
  ["typecheck (worker)", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]],
  ["typecheck (node)", bin("tsc"), ["-p", "tsconfig.node.json", "--noEmit"]],
  ["worker types match wrangler.toml", bin("wrangler"), ["types", "--check"]],
  ["schema matches migrations", process.execPath, [join(ROOT, "scripts", "check-migrations.mjs")]],
  ["build CLI", bin("tsc"), ["-p", "tsconfig.cli.json"]],
  ["wrangler deploy --dry-run", bin("wrangler"), ["deploy", "--dry-run", "--outdir", bundleDir]],
  ["worker bundle within its gzip budget", process.execPath, [join(ROOT, "scripts", "check-bundle-size.mjs"), bundleDir]],
];
let passed = 0;
let failed = 0;
for (const [label, command, args] of checks) {
  if (run(label, command, args)) passed++;
  else failed++;
}

const report = join(resultsDir, "vitest.json");
rmSync(report, { force: true });
console.log("\n=== vitest");
spawnSync(bin("vitest"), ["run", ...process.argv.slice(2)], {
  cwd: ROOT,
  env: offlineEnv({ VITEST_JSON_REPORT: report }),
  stdio: "inherit",
});
try {
  const summary = JSON.parse(readFileSync(report, "utf8"));
  passed += summary.numPassedTests;
  failed += summary.numFailedTests;
  // A file that fails to load has no failed test but must still fail the run.
  failed += summary.testResults.filter((file) => file.status === "failed" && file.assertionResults.every((t) => t.status !== "failed")).length;
  if (summary.numTotalTests === 0) failed++;
} catch (error) {
  console.error(`vitest wrote no readable JSON report (${error.message})`);
  failed++;
}
const line = `${passed} passed, ${failed} failed`;
writeFileSync(join(resultsDir, "summary.txt"), `${line}\n`);
console.log(`\n${line}`);
process.exit(failed === 0 ? 0 : 1);
