/**
 * Every other endpoint MLflow 2.17.2's server has (mlflow/server/handlers.py get_endpoints and the
 * UI's routes in mlflow/server/__init__.py): answered 501 NOT_IMPLEMENTED in MLflow's error shape.
 * NOT_IMPLEMENTED is MLflow's own code for a feature a server lacks (its proxy answers multipart
 * uploads on a local store so); the client raises it as an MlflowException naming it, and does not
 * retry a 501 (only 408, 429 and 5xx from 500 to 504 are transient to it).
 */
import type { Handler, Hono } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** Paths under /api/2.0/mlflow (and /ajax-api/2.0/mlflow), by feature. */
export const UNSUPPORTED_MLFLOW: Record<string, Array<[Method, string]>> = {
  "The model registry": [
    ["POST", "/registered-models/create"],
    ["GET", "/registered-models/get"],
    ["PATCH", "/registered-models/update"],
    ["DELETE", "/registered-models/delete"],
    ["POST", "/registered-models/rename"],
    ["GET", "/registered-models/search"],
    ["GET", "/registered-models/get-latest-versions"],
    ["POST", "/registered-models/get-latest-versions"],
    ["POST", "/registered-models/set-tag"],
    ["DELETE", "/registered-models/delete-tag"],
    ["GET", "/registered-models/alias"],
    ["POST", "/registered-models/alias"],
    ["DELETE", "/registered-models/alias"],
    ["POST", "/model-versions/create"],
    ["GET", "/model-versions/get"],
    ["PATCH", "/model-versions/update"],
    ["DELETE", "/model-versions/delete"],
    ["POST", "/model-versions/transition-stage"],
    ["GET", "/model-versions/get-download-uri"],
    ["GET", "/model-versions/search"],
    ["POST", "/model-versions/set-tag"],
    ["DELETE", "/model-versions/delete-tag"],
  ],
  Tracing: [
    ["GET", "/traces"],
    ["POST", "/traces"],
    ["PATCH", "/traces/:request_id"],
    ["GET", "/traces/:request_id/info"],
    ["PATCH", "/traces/:request_id/tags"],
    ["DELETE", "/traces/:request_id/tags"],
    ["POST", "/traces/delete-traces"],
    ["GET", "/get-trace-artifact"],
  ],
  "Logged models (runs/log-model, the model history tag)": [["POST", "/runs/log-model"]],
  "The MLflow UI's dataset search, prompt lab, AI gateway and UI upload": [
    ["POST", "/experiments/search-datasets"],
    ["POST", "/runs/create-promptlab-run"],
    ["GET", "/gateway-proxy"],
    ["POST", "/gateway-proxy"],
    ["POST", "/upload-artifact"],
    ["GET", "/metrics/get-history-bulk"],
  ],
};

/** Paths at the root of MLflow's server. */
export const UNSUPPORTED_ROOT: Record<string, Array<[Method, string]>> = {
  GraphQL: [
    ["GET", "/graphql"],
    ["POST", "/graphql"],
  ],
  "The MLflow UI's artifact download": [
    ["GET", "/get-artifact"],
    ["GET", "/model-versions/get-artifact"],
  ],
};

const refusers = new WeakSet<Handler>();

/** Whether a route's handler is one of these refusals (the route tests leave them out). */
export const isUnsupportedHandler = (handler: Handler) => refusers.has(handler);

/** Registers every endpoint of `table` on `app` as a 501 naming its feature. */
export function refuseUnsupported(app: Hono<AppEnv>, table: Record<string, Array<[Method, string]>>): void {
  for (const [feature, endpoints] of Object.entries(table)) {
    const refuse: Handler = (c) => {
      throw new ApiError(
        "NOT_IMPLEMENTED",
        `${feature} is not supported by this tracker (${c.req.method} ${new URL(c.req.url).pathname}): kdgat-tracker serves MLflow 2.17.2's tracking API and artifact proxy only.`,
      );
    };
    refusers.add(refuse);
    for (const [method, path] of endpoints) app.on(method, path, refuse);
  }
}

/** A known endpoint asked with another method: 405 in MLflow's error shape (MLflow answers HTML). */
export function refuseOtherMethods(app: Hono<AppEnv>): void {
  for (const path of new Set(app.routes.map((route) => route.path))) {
    app.all(path, (c) => {
      throw new ApiError("METHOD_NOT_ALLOWED", `The method ${c.req.method} is not allowed for the requested URL.`);
    });
  }
}
