/**
 * The metric sources: each format's text parsed into metric points (point.ts), shared by the
 * Worker's upload route and the CLI's backfill. A new source is its module, a line in SOURCES and
 * its test. Python's NaN/Infinity tokens are accepted everywhere.
 */
import { LIMITS } from "../limits.js";
import { parsePythonJson } from "../python-json.js";
import { isPointsBody, pointsFromJson } from "./json-points.js";
import { pointsFromLightningCsv } from "./lightning-csv.js";
import { pointsFromMetricsJson } from "./metrics-json.js";
import { type MetricPoint, MetricSourceError, type MetricUpload, type PointBase, PointClock } from "./point.js";

export { type LightningCsv, readLightningCsv, rowPoints } from "./lightning-csv.js";
export * from "./point.js";

export const METRIC_FORMATS = ["json", "csv", "metrics.json"] as const;
export type MetricFormat = (typeof METRIC_FORMATS)[number];

function parseJson(text: string): unknown {
  try {
    return parsePythonJson(text);
  } catch {
    throw new MetricSourceError("Malformed JSON in request body.");
  }
}

const SOURCES: Record<MetricFormat, (text: string, clock: PointClock) => MetricPoint[]> = {
  json: (text, clock) => pointsFromJson(parseJson(text), clock),
  csv: pointsFromLightningCsv,
  "metrics.json": (text, clock) => pointsFromMetricsJson(parseJson(text), clock),
};

/** A JSON text of either JSON format, told apart by its shape. */
function pointsFromAnyJson(text: string, clock: PointClock): MetricPoint[] {
  const body = parseJson(text);
  return isPointsBody(body) ? pointsFromJson(body, clock) : pointsFromMetricsJson(body, clock);
}

/**
 * The points of one upload in `format` (a JSON format by shape when none is named): at least one,
 * at most LIMITS.maxPointsPerUpload (they are written in one transaction).
 */
export function readMetricPoints(text: string, format: MetricFormat | undefined, base: PointBase): MetricUpload {
  const clock = new PointClock(base);
  const points = format === undefined ? pointsFromAnyJson(text, clock) : SOURCES[format](text, clock);
  if (points.length === 0) throw new MetricSourceError("The upload holds no metric points.");
  if (points.length > LIMITS.maxPointsPerUpload) {
    throw new MetricSourceError(`An upload may hold at most ${LIMITS.maxPointsPerUpload} metric points; got ${points.length}. Split it into several requests.`);
  }
  return { points, timestamps: clock.timestamps };
}
