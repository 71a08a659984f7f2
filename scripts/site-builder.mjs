// A warm site builder for the live local site (scripts/live-site.mjs): one long-lived child process
// that runs Astro's build() once per request, so that a rebuild does not pay for starting Node and
// loading Astro, Vite and Rollup again, and reuses their compiled code. Measured on the shared 2-core
// machine (load ~18, a 15-run export): a cold `astro build` 22 s wall / 4.7 s CPU, the third build in
// a warm process 4.2 s / 1.7 s (bench/README.md, "Local freshness").
//
// The parent: startSiteBuilder() forks this file (the child branch below) and returns {build, stop}.
// The child: each message {id, apiUrl or snapshot, outDir} builds from that API (or export snapshot) into outDir and answers
// {id, error?}. SITE_BUILD_ID tells site/lib/data.ts that a new build started (its modules stay
// loaded between builds). Each build leaves its page modules loaded, so the child is replaced after
// MAX_BUILDS builds.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SITE_BUILD_NODE_FLAGS } from "./build-site.mjs";
import { ROOT } from "./local-server.mjs";
import { offlineEnv } from "./wrangler-env.mjs";

const MAX_BUILDS = 20;
const BUILD_TIMEOUT_MS = 300_000;

if (process.send && process.argv[2] === "--child") {
  const { build } = await import("astro");
  // Gone with its parent.
  process.on("disconnect", () => process.exit(0));
  process.on("message", async ({ id, apiUrl, snapshot, outDir }) => {
    // As build-site.mjs: from the API at apiUrl, or from an export snapshot.
    for (const [name, value] of [
      ["SITE_API_URL", apiUrl],
      ["SITE_SNAPSHOT", snapshot],
    ]) {
      if (value) process.env[name] = value;
      else delete process.env[name];
    }
    process.env.SITE_BUILD_ID = String(id);
    try {
      await build({ root: ROOT, outDir, logLevel: "warn" });
      process.send({ id });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}

/** The parent's handle: build({apiUrl or snapshot, outDir}) resolves with {durationMs} or rejects with the build's error; stop() ends the child. */
export function startSiteBuilder() {
  let child;
  let builds = 0;
  let nextId = 0;

  const spawnChild = () => {
    const started = fork(fileURLToPath(import.meta.url), ["--child"], { cwd: ROOT, env: offlineEnv(), execArgv: SITE_BUILD_NODE_FLAGS, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    started.output = "";
    const keep = (chunk) => (started.output = (started.output + chunk).slice(-50_000));
    started.stdout.on("data", keep);
    started.stderr.on("data", keep);
    return started;
  };
  const stopChild = () => {
    child?.kill("SIGKILL");
    child = undefined;
  };

  return {
    build({ apiUrl, snapshot, outDir }) {
      if (!child || builds >= MAX_BUILDS) {
        stopChild();
        child = spawnChild();
        builds = 0;
      }
      builds++;
      const current = child;
      const id = ++nextId;
      const started = Date.now();
      current.output = "";
      return new Promise((resolveBuild, reject) => {
        const fail = (message) => {
          cleanup();
          // A builder that hung or died is not reused.
          if (child === current) stopChild();
          reject(new Error(`${message}\n${current.output}`));
        };
        const onMessage = (message) => {
          if (message.id !== id) return;
          cleanup();
          if (message.error) reject(new Error(`astro build failed after ${Date.now() - started} ms:\n${message.error}\n${current.output}`));
          else resolveBuild({ durationMs: Date.now() - started });
        };
        const onExit = (code, signal) => fail(`the site builder exited (${signal ?? `exit ${code}`}) during a build`);
        const timer = setTimeout(() => fail(`the site build took more than ${BUILD_TIMEOUT_MS / 1000} s`), BUILD_TIMEOUT_MS);
        const cleanup = () => {
          clearTimeout(timer);
          current.off("message", onMessage);
          current.off("exit", onExit);
        };
        current.on("message", onMessage);
        current.once("exit", onExit);
        current.send({ id, apiUrl, snapshot, outDir });
      });
    },
    stop: stopChild,
  };
}
