/**
 * The bodies POST /api/v1/runs/{dataset}/{name}/metrics accepts, read by the core's metric sources
 * (functions/domain/metric-sources/): JSON points, Lightning's `metrics.csv` (`Content-Type:
 * text/csv` or `?format=csv`) and an evaluation `metrics.json` (any other JSON object, or
 * `?format=metrics.json`). Timestamps must not depend on when the request arrives, or a retried
 * upload would store every point twice: the base timestamp is `?timestamp=`, else the attempt's
 * start time (added by the store in the same write).
 */
import { METRIC_FORMATS, type MetricFormat, MetricSourceError, type MetricUpload, type PointBase, readMetricPoints } from "../domain/metric-sources/index";
import { invalidParameter } from "../errors";
import { validateKey } from "../store/key-values";

export const UPLOAD_FORMATS = METRIC_FORMATS;

export function parseMetricUpload(text: string, format: MetricFormat | undefined, contentType: string, base: PointBase): MetricUpload {
  let upload: MetricUpload;
  try {
    upload = readMetricPoints(text, format ?? (/^text\/csv\b/i.test(contentType) ? "csv" : undefined), base);
  } catch (error) {
    throw error instanceof MetricSourceError ? invalidParameter(error.message) : error;
  }
  for (const key of new Set(upload.points.map((p) => p.key))) validateKey("metric", key);
  return upload;
}
