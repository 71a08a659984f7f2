/**
 * metrics/get-history: MLflow 2.17.2's answer, in pages of HISTORY_PAGE_POINTS points (MLflow's
 * client asks for that many and follows next_page_token; a smaller max_results is ignored, as
 * MLflow's own server ignores paging). The token is the last point sent, so a page reads only its
 * own points.
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { decodePageToken, encodePageToken, historyCursor } from "../api/page-token";
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
  const { run_id, metric_key, page_token } = c.req.valid("query");
  const after = page_token ? decodePageToken(page_token, historyCursor) : undefined;
  const { points, next } = await getMetricHistory(c.get("db"), run_id, metric_key, after);
  return c.json({ ...repeated("metrics", points.map(metricJson)), ...(next && { next_page_token: encodePageToken(next) }) });
});
