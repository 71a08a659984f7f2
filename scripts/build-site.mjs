// Builds the static leaderboard (astro build) from the read API or an export snapshot.
// Used by `npm run build` (this file run as a script: SITE_API_URL / SITE_SNAPSHOT from the
// environment), the site tests and the site benchmark; the live local site runs the same build in a
// warm process (site-builder.mjs) with the same SITE_BUILD_NODE_FLAGS.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./local-server.mjs";
import { offlineEnv } from "./wrangler-env.mjs";

/**
 * V8's heap grows by 40% over what a full collection left, not by its default factor: a 10,000-run
 * build keeps ~180 MB alive but let garbage grow the heap to ~720 MB before collecting it (peak
 * 943 MB); with this flag it peaks under 500 MB, still growing with the data instead of a fixed cap
 * that a larger export would overflow (bench/README.md, "Static site").
 */
export const SITE_BUILD_NODE_FLAGS = ["--heap-growing-percent=40"];
const ASTRO = join(ROOT, "node_modules", "astro", "astro.js");

/**
 * options: apiUrl (SITE_API_URL) or snapshot (SITE_SNAPSHOT), outDir (default dist/site),
 * timeoutMs (default 5 minutes: the build is killed and rejected after it), quiet (default true),
 * onSpawn (called with the build's child process). Resolves with { durationMs, output }; rejects
 * with the build's output on failure.
 */
export function buildSite(options = {}) {
  const env = offlineEnv({
    ...(options.apiUrl && { SITE_API_URL: options.apiUrl }),
    ...(options.snapshot && { SITE_SNAPSHOT: options.snapshot }),
    ...options.env,
  });
  const args = ["build", ...(options.outDir ? ["--outDir", options.outDir] : [])];
  const started = Date.now();
  return new Promise((resolveBuild, reject) => {
    const child = spawn(process.execPath, [...SITE_BUILD_NODE_FLAGS, ASTRO, ...args], {
      cwd: ROOT,
      env,
      stdio: options.quiet === false ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    });
    options.onSpawn?.(child);
    let output = "";
    child.stdout?.on("data", (chunk) => (output = (output + chunk).slice(-50_000)));
    child.stderr?.on("data", (chunk) => (output = (output + chunk).slice(-50_000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const durationMs = Date.now() - started;
      if (code === 0) resolveBuild({ durationMs, output });
      else reject(Object.assign(new Error(`astro build failed (${signal ?? `exit ${code}`}) after ${durationMs} ms:\n${output}`), { output }));
    });
  });
}

// `npm run build`: one build, its output shown, from SITE_API_URL or SITE_SNAPSHOT.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildSite({ quiet: false, timeoutMs: 60 * 60_000 }).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
