/** metrics/get-history: like MLflow 2.17.2, the whole history (paging fields are accepted and ignored). */
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../env";
import { publicRead } from "../http/access";
import { queryParams } from "../http/validate";
import { getMetricHistory } from "../store/runs";
import { repeated, metricJson } from "./wire";

const historyRequest = z.object({
  run_id: z.string(),
  metric_key: z.string(),
  max_results: z.optional(z.string()),
  page_token: z.optional(z.string()),
});

export const metricsApi = new Hono<AppEnv>().get("/get-history", publicRead(), queryParams(historyRequest), async (c) => {
  const { run_id, metric_key } = c.req.valid("query");
  const points = await getMetricHistory(c.get("db"), run_id, metric_key);
  return c.json(repeated("metrics", points.map(metricJson)));
});
