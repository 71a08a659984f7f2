import { Hono } from "hono";
import { v1Api } from "./api";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import { preflight, publicRead } from "./http/access";
import { handleError } from "./http/errors";
import { securityHeaders } from "./http/security";
import { d1Session } from "./http/session";
import { mlflowApi } from "./mlflow";
import { artifactsApi } from "./mlflow/artifacts";
import { refuseUnsupported, UNSUPPORTED_ROOT } from "./mlflow/unsupported";
import { refreshSite } from "./site/refresh";
import { openDb } from "./store/db";

/** The MLflow version whose REST API this Worker speaks (the client checks /version). */
const MLFLOW_VERSION = "2.17.2";

/** The one Hono app (exported for tests that walk its routes); the default export adds the cron handler. */
export const app = new Hono<AppEnv>();

app.use("*", securityHeaders);
// A preflight for a read is answered here, before any cost; one for a write gets no CORS headers.
app.use("*", preflight(app));
app.use("*", d1Session(app));

app.get("/health", publicRead(), (c) => c.text("OK"));
app.get("/version", publicRead(), (c) => c.text(MLFLOW_VERSION));
app.route("/api/2.0/mlflow", mlflowApi);
app.route("/ajax-api/2.0/mlflow", mlflowApi);
app.route("/api/2.0/mlflow-artifacts", artifactsApi);
app.route("/ajax-api/2.0/mlflow-artifacts", artifactsApi);
app.route("/api/v1", v1Api);
refuseUnsupported(app, UNSUPPORTED_ROOT);

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
