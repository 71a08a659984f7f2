import { Hono } from "hono";
import type { AppEnv } from "../env";
import { runArtifactsApi } from "./artifacts";
import { experimentsApi } from "./experiments";
import { metricsApi } from "./metrics";
import { runsApi } from "./runs";
import { refuseOtherMethods, refuseUnsupported, UNSUPPORTED_MLFLOW } from "./unsupported";

/** MLflow REST API 2.0, mounted at /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export const mlflowApi = new Hono<AppEnv>().route("/experiments", experimentsApi).route("/runs", runsApi).route("/metrics", metricsApi).route("/artifacts", runArtifactsApi);

refuseUnsupported(mlflowApi, UNSUPPORTED_MLFLOW);

refuseOtherMethods(mlflowApi);
