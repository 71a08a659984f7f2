// Runs the Worker locally through wrangler's programmatic API (the engine of `wrangler dev`), with
// the DevTools inspector off: `wrangler dev` keeps an inspector attached, which costs several ms of
// CPU per D1 call and halves local throughput. Started (and stopped, by SIGTERM to its process
// group) by local-server.mjs. Its argument is the folder of the local D1 state; the rest comes from
// the environment: KDGAT_PORT, KDGAT_LOG_LEVEL, KDGAT_WATCH ("1": reload on source changes),
//   KDGAT_WORKER_VARS (JSON {NAME: value}: secrets such as ADMIN_TOKEN; kept off the command line).
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { exitOnSignals, ROOT } from "./local-server.mjs";

const vars = JSON.parse(process.env.KDGAT_WORKER_VARS ?? "{}");
const worker = await unstable_startWorker({
  config: join(ROOT, "wrangler.toml"),
  bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "secret_text", value }])),
  dev: {
    server: { hostname: "127.0.0.1", port: Number(process.env.KDGAT_PORT) },
    inspector: false,
    persist: process.argv[2],
    logLevel: process.env.KDGAT_LOG_LEVEL ?? "warn",
    watch: process.env.KDGAT_WATCH === "1",
    liveReload: false,
  },
});
await worker.ready;

exitOnSignals(() => worker.dispose());
