// The local site keeps itself fresh (`npm start`): it polls the API's stale marker
// (GET /api/v1/site/state, one D1 row), and after a change rebuilds the site from the API, one build
// at a time, debounced, in a warm builder process (site-builder.mjs: Node, Astro and Vite stay
// loaded between builds). Each build goes into a folder of its own under dist/site-builds/; dist/site
// is a symlink that is swapped to the finished build in one rename(2), so the server never serves a
// half-written site, then the Worker is reloaded to pick up the new build's asset list.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./local-server.mjs";
import { startSiteBuilder } from "./site-builder.mjs";

export const SITE_DIR = join(ROOT, "dist", "site");
const BUILDS_DIR = join(ROOT, "dist", "site-builds");
/** What the build in dist/site was built from: {changed_at} of the API's stale marker. */
const BUILT_FROM = join(ROOT, "dist", "site-built-from.json");

/** The poller's User-Agent: the local front does not log its requests (worker-front.mjs). */
export const LIVE_SITE_AGENT = "kdgat-live-site";

/** Poll every POLL_MS; build once the marker has been still for QUIET_MS, or MAX_WAIT_MS after the first change seen. */
export const LIVE_SITE = { pollMs: 1_000, quietMs: 1_000, maxWaitMs: 4_000 };

/**
 * Starts the loop; resolves at once. options: apiUrl, reload (async: makes the Worker re-read
 * dist/site), log (one line per build), policy (LIVE_SITE by default). Returns {stop, idle}:
 * stop() ends the loop after the current build; idle() resolves when no build is running.
 */
export function startLiveSite({ apiUrl, reload, log = console.log, policy = LIVE_SITE }) {
  let stopped = false;
  let building = Promise.resolve();
  // Unknown at the first start: build once at once, from what the API holds now.
  let builtFrom = existsSync(join(SITE_DIR, "index.html")) ? readBuiltFrom() : undefined;
  let seen; // {changedAt, firstSeenAt, lastChangeAt} of a change not built yet
  let timer;
  const builder = startSiteBuilder();

  async function poll() {
    if (stopped) return;
    try {
      const state = await fetchState(apiUrl);
      const now = Date.now();
      const current = state.changed_at ?? 0;
      const stale = current !== builtFrom;
      if (!stale) seen = undefined;
      else if (!seen) seen = { changedAt: current, firstSeenAt: now, lastChangeAt: now };
      else if (seen.changedAt !== current) seen = { ...seen, changedAt: current, lastChangeAt: now };
      if (seen && (now - seen.lastChangeAt >= policy.quietMs || now - seen.firstSeenAt >= policy.maxWaitMs || builtFrom === undefined)) {
        const target = seen.changedAt;
        seen = undefined;
        building = rebuild(target);
        await building;
      }
    } catch (error) {
      log(`Live site: ${error.message}`);
    }
    if (!stopped) timer = setTimeout(poll, policy.pollMs);
  }

  async function rebuild(changedAt) {
    const started = Date.now();
    mkdirSync(BUILDS_DIR, { recursive: true });
    const outDir = join(BUILDS_DIR, `build-${started}`);
    try {
      await builder.build({ apiUrl, outDir });
    } catch (error) {
      rmSync(outDir, { recursive: true, force: true });
      // Remember the failed change, so that a broken build is not retried in a loop; the next change retries.
      builtFrom = changedAt;
      log(`Live site: the rebuild failed, the previous site is still served:\n${error.message}`);
      return;
    }
    swapIn(outDir);
    await reload();
    builtFrom = changedAt;
    writeFileSync(BUILT_FROM, JSON.stringify({ changed_at: changedAt }));
    removeOldBuilds(outDir);
    log(`Live site: rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s (data changed ${new Date(changedAt || started).toISOString()}).`);
  }

  timer = setTimeout(poll, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await building;
      builder.stop();
    },
    idle: () => building,
  };
}

async function fetchState(apiUrl) {
  const response = await fetch(new URL("/api/v1/site/state", apiUrl), { signal: AbortSignal.timeout(5_000), headers: { "User-Agent": LIVE_SITE_AGENT } });
  if (!response.ok) throw new Error(`GET /api/v1/site/state answered HTTP ${response.status}`);
  return response.json();
}

function readBuiltFrom() {
  try {
    return JSON.parse(readFileSync(BUILT_FROM, "utf8")).changed_at;
  } catch {
    return undefined;
  }
}

/** Points dist/site at the finished build: a new symlink renamed over the old one (or over the first, real folder's name). */
function swapIn(outDir) {
  if (existsSync(SITE_DIR) && !lstatSync(SITE_DIR).isSymbolicLink()) {
    // The first swap: the folder a plain `npm run build` wrote becomes a build like the others.
    renameSync(SITE_DIR, join(BUILDS_DIR, `build-${Date.now() - 1}-initial`));
  }
  const link = `${SITE_DIR}.next`;
  rmSync(link, { force: true });
  symlinkSync(relative(join(SITE_DIR, ".."), outDir), link, "dir");
  renameSync(link, SITE_DIR);
}

/** Keeps the build just swapped in and the one before it (requests that started before the reload may still read it). */
function removeOldBuilds(current) {
  const builds = readdirSync(BUILDS_DIR)
    .map((name) => join(BUILDS_DIR, name))
    .sort();
  for (const build of builds.slice(0, -2)) if (build !== current) rmSync(build, { recursive: true, force: true });
}
