// `npm test`: lint and format (Biome), typecheck, schema/migration agreement, an offline deploy dry run and the bundle's gzip
// budget (side by side, one per core), then every vitest project (unit, worker, cli, site, serving, client, timed). Ends with the
// plain line `N passed, N failed` that CI reads, also written to test-results/summary.txt. Arguments go to vitest.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
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

/** The checks; `after` names the one whose output a check reads. Independent checks run side by side. */
const checks = [
  { label: "lint and format (biome ci)", command: bin("biome"), args: ["ci", "."] },
  { label: "typecheck (worker)", command: bin("tsc"), args: ["-p", "tsconfig.json", "--noEmit"] },
  { label: "typecheck (node)", command: bin("tsc"), args: ["-p", "tsconfig.node.json", "--noEmit"] },
  { label: "typecheck (site: astro check)", command: bin("astro"), args: ["check", "--tsconfig", "tsconfig.site.json"] },
  { label: "worker types match wrangler.toml", command: bin("wrangler"), args: ["types", "--check"] },
  { label: "schema matches migrations", command: process.execPath, args: [join(ROOT, "scripts", "check-migrations.mjs")] },
  { label: "build CLI", command: process.execPath, args: [join(ROOT, "scripts", "build-cli.mjs")] },
  { label: "wrangler deploy --dry-run", command: bin("wrangler"), args: ["deploy", "--dry-run", "--outdir", bundleDir] },
  {
    label: "worker bundle within its gzip budget",
    command: process.execPath,
    args: [join(ROOT, "scripts", "check-bundle-size.mjs"), bundleDir],
    after: "wrangler deploy --dry-run",
  },
];

/** Runs one check with its output kept, then prints the output whole (no interleaving) with its time. */
function run(check) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(check.command, check.args, { cwd: ROOT, env: offlineEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const done = (ok, extra = "") => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`\n=== ${check.label} (${ok ? "ok" : "FAILED"}, ${seconds} s)\n${output}${extra}`);
      resolve(ok);
    };
    child.once("error", (error) => done(false, error.message));
    child.once("close", (code) => done(code === 0));
  });
}

/** Runs the checks, as many at a time as there are cores, each after the one it reads. */
async function runChecks(list, jobs) {
  const results = new Map();
  const pending = new Map(list.map((check) => [check.label, check]));
  const running = new Map();
  while (pending.size > 0 || running.size > 0) {
    for (const check of pending.values()) {
      if (running.size >= jobs) break;
      if (check.after && !results.has(check.after)) continue;
      pending.delete(check.label);
      running.set(
        check.label,
        (check.after && !results.get(check.after) ? Promise.resolve(false) : run(check)).then((ok) => {
          results.set(check.label, ok);
          running.delete(check.label);
        }),
      );
    }
    if (running.size === 0) throw new Error(`checks waiting on a check that is not in the list: ${[...pending.keys()].join(", ")}`);
    await Promise.race(running.values());
  }
  return list.map((check) => results.get(check.label));
}

const checksStarted = performance.now();
const outcomes = await runChecks(checks, availableParallelism());
console.log(`\n=== checks: ${((performance.now() - checksStarted) / 1000).toFixed(1)} s`);
let passed = outcomes.filter(Boolean).length;
let failed = outcomes.length - passed;

const report = join(resultsDir, "vitest.json");
rmSync(report, { force: true });
console.log("\n=== vitest");
const vitestStarted = performance.now();
spawnSync(bin("vitest"), ["run", ...process.argv.slice(2)], {
  cwd: ROOT,
  env: offlineEnv({ VITEST_JSON_REPORT: report }),
  stdio: "inherit",
});
console.log(`\n=== vitest: ${((performance.now() - vitestStarted) / 1000).toFixed(1)} s`);
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
