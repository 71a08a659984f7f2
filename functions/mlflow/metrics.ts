/**
 * metrics/get-history: MLflow 2.17.2's answer, in pages of HISTORY_PAGE_POINTS points (MLflow's
 * client asks for that many and follows next_page_token; a smaller max_results is ignored, as
 * MLflow's own server ignores paging). The token is the last point sent, so a page reads only its
 * own points. A history that fits one page comes in MLflow's own order (mlflowHistoryOrder).
 * metrics/get-history-bulk-interval: the MLflow UI's charts, sampled as MLflow samples them
 * (server/handlers.py, get_metric_history_bulk_interval_impl).
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { publicRead } from "../http/access";
import { queryParams } from "../http/validate";
import { decodePageToken, encodePageToken, historyCursor } from "../search/cursor-token";
import { getMetricHistory, metricPointsAtSteps, metricStepsOfRuns } from "../store/runs";
import { int64, repeatedString } from "./fields";
import { metricJson, metricWithRunIdJson, repeated } from "./wire";

const historyRequest = z.object({
  run_id: z.string(),
  metric_key: z.string(),
  max_results: z.optional(z.string()),
  page_token: z.optional(z.string()),
});

/**
 * MLflow 2.17.2's order of a history: its SQL store reads the metrics primary key (key, timestamp,
 * step, run_uuid, value, is_nan) without an ORDER BY, so by timestamp, then step, then value. Ours
 * is stored by step; a history longer than one page keeps the step order, which pages by index.
 */
export function mlflowHistoryOrder<P extends { step: number; timestamp: number; value: number; isNan: boolean }>(points: P[]): P[] {
  return [...points].sort((a, b) => a.timestamp - b.timestamp || a.step - b.step || a.value - b.value || Number(a.isNan) - Number(b.isNan));
}

/** MLflow's bounds of a bulk-interval request. */
const BULK = { maxRuns: 100, maxResultsPerRun: 2500, maxPointsPerRun: 25000 } as const;

const bulkRequest = z.object({
  run_ids: repeatedString,
  metric_key: z.string(),
  start_step: z.optional(int64),
  end_step: z.optional(int64),
  max_results: z.optional(int64),
});

/** MLflow's _get_sampled_steps_from_steps, index arithmetic (and its `idx < num_steps` test) included. */
export function sampleSteps(startStep: number, endStep: number, maxResults: number, allSteps: number[]): Set<number> {
  const startIdx = allSteps.findIndex((step) => step >= startStep);
  const from = startIdx < 0 ? allSteps.length : startIdx;
  const afterEnd = allSteps.findLastIndex((step) => step <= endStep) + 1;
  if (afterEnd - from <= maxResults) return new Set(allSteps.slice(from, afterEnd));
  const numSteps = afterEnd - from;
  const interval = numSteps / maxResults;
  const sampled: number[] = [];
  for (let i = 0; i < maxResults; i++) {
    const idx = from + Math.trunc(i * interval);
    if (idx < numSteps) sampled.push(allSteps[idx]);
  }
  sampled.push(allSteps[afterEnd - 1]);
  return new Set(sampled);
}

export const metricsApi = new Hono<AppEnv>()
  .get("/get-history", publicRead(), queryParams(historyRequest), async (c) => {
    const { run_id, metric_key, page_token } = c.req.valid("query");
    const after = page_token ? decodePageToken(page_token, historyCursor) : undefined;
    const { points, next } = await getMetricHistory(c.get("db"), run_id, metric_key, after);
    const ordered = after === undefined && next === undefined ? mlflowHistoryOrder(points) : points;
    return c.json({ ...repeated("metrics", ordered.map(metricJson)), ...(next && { next_page_token: encodePageToken(next) }) });
  })
  .get("/get-history-bulk-interval", publicRead(), queryParams(bulkRequest), async (c) => {
    const query = c.req.valid("query");
    const runIds = query.run_ids;
    if (runIds.length > BULK.maxRuns) {
      throw invalidParameter(`GetMetricHistoryBulkInterval request must specify at most ${BULK.maxRuns} run_ids. Received ${runIds.length} run_ids.`);
    }
    const maxResults = query.max_results ?? BULK.maxResultsPerRun;
    if (maxResults < 1 || maxResults > BULK.maxResultsPerRun) throw invalidParameter(`max_results must be between 1 and ${BULK.maxResultsPerRun}.`);
    const { start_step: start, end_step: end } = query;
    if ((start === undefined) !== (end === undefined)) throw invalidParameter("If either start step or end step are specified, both must be specified.");
    if (start !== undefined && end !== undefined && start > end) {
      throw invalidParameter(`end_step must be greater than start_step. Found start_step=${start} and end_step=${end}.`);
    }
    const db = c.get("db");
    const stepsByRun = await metricStepsOfRuns(db, runIds, query.metric_key);
    const allSteps = [...new Set([...stepsByRun.values()].flat())].sort((a, b) => a - b);
    const startStep = start ?? 0;
    const endStep = end ?? allSteps.at(-1) ?? 0;
    // Each run's first and last step are always kept, as MLflow keeps them.
    const ends = [...stepsByRun.values()].flatMap((steps) => [steps[0], steps.at(-1)!]).filter((s) => s >= startStep && s <= endStep);
    const steps = [...new Set([...sampleSteps(startStep, endStep, maxResults, allSteps), ...ends])].sort((a, b) => a - b);
    const points = [];
    for (const runId of runIds) {
      if (!stepsByRun.has(runId)) continue;
      const rows = await metricPointsAtSteps(db, runId, query.metric_key, steps, BULK.maxPointsPerRun);
      points.push(...rows.map((row) => metricWithRunIdJson(row, runId)));
    }
    return c.json(repeated("metrics", points));
  });
