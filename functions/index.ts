import { Hono } from "hono";
import type { AppEnv } from "./env";
import { v1Api } from "./api";
import { ApiError } from "./errors";
import { handleError } from "./http/errors";
import { mlflowApi } from "./mlflow";
import { publicRateLimit, readCors, securityHeaders, writeRateLimit } from "./http/security";
import { refreshSite } from "./site/refresh";
import { openDb, zeroCost } from "./store/db";

/** The MLflow version whose REST API this Worker speaks (the client checks /version). */
const MLFLOW_VERSION = "2.17.2";

/** The one Hono app (exported for tests that walk its routes); the default export adds the cron handler. */
export const app = new Hono<AppEnv>();

app.use("*", securityHeaders);
// A preflight for a read is answered here, before any cost; one for a write gets no CORS headers.
app.use("*", readCors);
app.use("*", async (c, next) => {
  const cost = zeroCost();
  c.set("db", openDb(c.env.DB, cost));
  await next();
  // What the request cost D1: the rows D1 bills and the round trips; the benchmarks read it.
  c.res.headers.append("Server-Timing", `d1;desc="rows_read=${cost.rowsRead} rows_written=${cost.rowsWritten} calls=${cost.calls}"`);
});
app.use("*", publicRateLimit);
app.use("*", writeRateLimit);

app.get("/health", (c) => c.text("OK"));
app.get("/version", (c) => c.text(MLFLOW_VERSION));
app.route("/api/2.0/mlflow", mlflowApi);
app.route("/ajax-api/2.0/mlflow", mlflowApi);
app.route("/api/v1", v1Api);

app.notFound((c) => {
  throw new ApiError("ENDPOINT_NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
});
app.onError(handleError);

export default {
  fetch: app.fetch,
  // The Cron Trigger (wrangler.toml [triggers]): rebuilds the public site once per burst of changes.
  async scheduled(controller, env) {
    await refreshSite(openDb(env.DB), env.SITE_DEPLOY_HOOK_URL, env.CF_VERSION_METADATA.id, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
