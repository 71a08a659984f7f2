/**
 * An evaluation `metrics.json`: any JSON object, flattened by the domain rule (`gat.core.f1` ->
 * `gat_f1`), every value one point at the base step and timestamp.
 */
import { flattenMetrics } from "../flatten.js";
import { isJsonObject } from "../python-json.js";
import { type MetricPoint, MetricSourceError, type PointClock } from "./point.js";

export function pointsFromMetricsJson(body: unknown, clock: PointClock): MetricPoint[] {
  if (!isJsonObject(body)) throw new MetricSourceError("A metrics.json body must be a JSON object.");
  return [...flattenMetrics(body)].map(([key, value]) => ({ key, value, step: clock.base.step, timestamp: clock.at(undefined) }));
}
