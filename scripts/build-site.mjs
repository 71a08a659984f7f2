// Builds the static leaderboard (astro build) from the read API or an export snapshot.
// Used by `npm start` (first start), the site tests and the site benchmark; `npm run build` runs
// the same `astro build` directly (SITE_API_URL / SITE_SNAPSHOT from the environment).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./local-server.mjs";
import { offlineEnv } from "./wrangler-env.mjs";

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
    const child = spawn(join(ROOT, "node_modules", ".bin", "astro"), args, {
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
