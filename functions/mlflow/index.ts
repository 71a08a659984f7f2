import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { experimentsApi } from "./experiments";
import { metricsApi } from "./metrics";
import { runsApi } from "./runs";

/** MLflow REST API 2.0, mounted at /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export const mlflowApi = new Hono<AppEnv>()
  .route("/experiments", experimentsApi)
  .route("/runs", runsApi)
  .route("/metrics", metricsApi);

// A known endpoint asked with the wrong method: 405 in our JSON error shape (MLflow answers HTML).
for (const path of new Set(mlflowApi.routes.map((route) => route.path))) {
  mlflowApi.all(path, (c) => {
    throw new ApiError("METHOD_NOT_ALLOWED", `The method ${c.req.method} is not allowed for the requested URL.`);
  });
}
