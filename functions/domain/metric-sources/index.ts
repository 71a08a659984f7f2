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
import { MetricSourceError, type MetricPoint, type PointBase } from "./point.js";

export * from "./point.js";
export { readLightningCsv, rowPoints, type LightningCsv } from "./lightning-csv.js";

export const METRIC_FORMATS = ["json", "csv", "metrics.json"] as const;
export type MetricFormat = (typeof METRIC_FORMATS)[number];

function parseJson(text: string): unknown {
  try {
    return parsePythonJson(text);
  } catch {
    throw new MetricSourceError("Malformed JSON in request body.");
  }
}

const SOURCES: Record<MetricFormat, (text: string, base: PointBase) => MetricPoint[]> = {
  json: (text, base) => pointsFromJson(parseJson(text), base),
  csv: pointsFromLightningCsv,
  "metrics.json": (text, base) => pointsFromMetricsJson(parseJson(text), base),
};

/** A JSON text of either JSON format, told apart by its shape. */
function pointsFromAnyJson(text: string, base: PointBase): MetricPoint[] {
  const body = parseJson(text);
  return isPointsBody(body) ? pointsFromJson(body, base) : pointsFromMetricsJson(body, base);
}

/**
 * The points of one upload in `format` (a JSON format by shape when none is named): at least one,
 * at most LIMITS.maxPointsPerUpload (they are written in one transaction).
 */
export function readMetricPoints(text: string, format: MetricFormat | undefined, base: PointBase): MetricPoint[] {
  const points = format === undefined ? pointsFromAnyJson(text, base) : SOURCES[format](text, base);
  if (points.length === 0) throw new MetricSourceError("The upload holds no metric points.");
  if (points.length > LIMITS.maxPointsPerUpload) {
    throw new MetricSourceError(`An upload may hold at most ${LIMITS.maxPointsPerUpload} metric points; got ${points.length}. Split it into several requests.`);
  }
  return points;
}
