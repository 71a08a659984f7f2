import { Hono } from "hono";
import type { AppEnv } from "../env";

/** MLflow REST API 2.0, mounted at /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export const mlflowApi = new Hono<AppEnv>();
