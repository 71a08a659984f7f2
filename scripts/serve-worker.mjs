// Runs the Worker locally with wrangler's dev engine (unstable_DevEnv: config, bundling, watching and
// the Worker's own miniflare), the DevTools inspector off (it costs several ms of CPU per D1 call),
// behind the small HTTP front in worker-front.mjs instead of wrangler's ProxyWorker: see there why.
// Started (and stopped, by SIGTERM to its process group) by local-server.mjs. Its argument is the
// folder of the local D1 state; the rest comes from the environment: KDGAT_PORT, KDGAT_LOG_LEVEL,
// KDGAT_WATCH ("1": reload on source changes), KDGAT_WORKER_VARS (JSON {NAME: value}: secrets such as
// ADMIN_TOKEN; kept off the command line), KDGAT_PUBLIC_READ_LIMIT (when set: the anonymous read
// budget per 60 s instead of wrangler.toml's; locally every client shares one address), KDGAT_LIVE_SITE
// ("1": rebuild the site by itself after changes, scripts/live-site.mjs), KDGAT_INSPECTOR_PORT (when
// set: the DevTools inspector on this port, as bench/scale.mjs uses it to read the isolate's heap),
// KDGAT_WRANGLER_CONFIG (when set: another Worker's wrangler.toml, as bench/artifacts.mjs runs a
// minimal Worker over the same R2 state).
import { join } from "node:path";
import { unstable_DevEnv } from "wrangler";
import { startLiveSite } from "./live-site.mjs";
import { exitOnSignals, ROOT } from "./local-server.mjs";
import { startWorkerFront } from "./worker-front.mjs";

const logLevel = process.env.KDGAT_LOG_LEVEL ?? "warn";
const server = { hostname: "127.0.0.1", port: Number(process.env.KDGAT_PORT) };
const front = await startWorkerFront({ ...server, logRequests: ["info", "log", "debug"].includes(logLevel) });

// wrangler's dev builds drain every body the Worker left unread before they answer (a workaround for
// its ProxyWorker's shared connections): a body refused early would be answered only once it all
// arrived, or never. With a connection per request, answer at once, as production does.
process.env.WRANGLER_DISABLE_REQUEST_BODY_DRAINING = "true";

// wrangler hands the front each new build of the Worker (its proxy controller's events).
const devEnv = new unstable_DevEnv({ proxyFactory: () => front.controller });
devEnv.on("error", (event) => console.error(`wrangler: ${event.reason ?? event.message}`, event.cause ?? ""));
const vars = JSON.parse(process.env.KDGAT_WORKER_VARS ?? "{}");
const readLimit = Number(process.env.KDGAT_PUBLIC_READ_LIMIT) || undefined;
await devEnv.config.set(
  {
    config: process.env.KDGAT_WRANGLER_CONFIG || join(ROOT, "wrangler.toml"),
    bindings: {
      ...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "secret_text", value }])),
      ...(readLimit && { PUBLIC_RATE_LIMITER: { type: "ratelimit", namespace_id: "1002", simple: { limit: readLimit, period: 60 } } }),
    },
    dev: {
      server,
      inspector: process.env.KDGAT_INSPECTOR_PORT ? { port: Number(process.env.KDGAT_INSPECTOR_PORT) } : false,
      persist: process.argv[2],
      logLevel,
      watch: process.env.KDGAT_WATCH === "1",
      liveReload: false,
    },
  },
  true,
);

// The Worker re-reads dist/site (its asset list) on a reload; a config patch starts one.
const reload = async () => {
  const reloaded = front.nextReload();
  await devEnv.config.patch({});
  await reloaded;
};
const liveSite = process.env.KDGAT_LIVE_SITE === "1" ? startLiveSite({ apiUrl: `http://${server.hostname}:${server.port}`, reload }) : undefined;

exitOnSignals(async () => {
  await liveSite?.stop();
  await devEnv.teardown();
});
