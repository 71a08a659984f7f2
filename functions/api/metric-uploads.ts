/**
 * The bodies POST /api/v1/runs/{dataset}/{name}/metrics accepts, turned into metric points:
 *   - JSON points: `{"step": 3, "metrics": {"val_loss": 0.2}, "timestamp"?: ms}` or a list of them;
 *   - Lightning's CSVLogger `metrics.csv` (`Content-Type: text/csv` or `?format=csv`): columns
 *     `epoch,step,<metric>...`, sparse; each non-empty cell but `step` is one point at that row's
 *     step, `epoch` included: Lightning's own MLFlowLogger logs `epoch` as a metric at each step;
 *   - an evaluation `metrics.json` (any other JSON object, or `?format=metrics.json`), flattened
 *     by the domain rule (`gat.core.f1` -> `gat_f1`), all at `?step=` (default 0).
 * Python's NaN/Infinity tokens are accepted everywhere. Timestamps must not depend on when the
 * request arrives, or a retried upload would store every point twice: a point without its own
 * timestamp gets the base timestamp (`?timestamp=`, else the attempt's start time), and CSV row i
 * gets base + i, which also keeps the rows in order.
 */
import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import { flattenMetrics } from "../domain/flatten";
import { parseWireValue } from "../domain/metric-values";
import { parsePythonJson } from "../domain/python-json";
import { invalidParameter } from "../errors";
import { parseWith } from "../http/validate";
import { validateKey } from "../store/key-values";
import type { MetricPointInput } from "../store/log-batch";
import { parseCsv } from "./csv";

/** One request writes all its points in one transaction; beyond this it must be split. */
export const MAX_POINTS_PER_UPLOAD = 100_000;
export const UPLOAD_FORMATS = ["json", "csv", "metrics.json"] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

/** A metrics.csv cell is a metric name or a number: a longer one is refused as soon as it is read. */
const MAX_CSV_CELL_LENGTH = 1024;

interface Base {
  /** When absent, points without a timestamp of their own get offsets from the attempt's start time (see MetricUpload). */
  timestamp?: number;
  step: number;
}

export interface MetricUpload {
  points: MetricPointInput[];
  /**
   * "start" when the base timestamp was not given and every point's timestamp is an offset from it
   * (the writer adds the attempt's start time), "given" when every point's timestamp is final, and
   * "mixed" when some are offsets and some not (parse again with the start time as the base).
   */
  timestamps: "start" | "given" | "mixed";
}

/** A point's timestamp: its own, else the base's plus an offset; counts which kind each point got. */
class Timestamps {
  own = 0;
  fromBase = 0;
  constructor(private readonly base: number | undefined) {}

  at(own: number | undefined, offset = 0): number {
    if (own !== undefined) {
      this.own++;
      return own;
    }
    this.fromBase++;
    return (this.base ?? 0) + offset;
  }

  get kind(): MetricUpload["timestamps"] {
    if (this.base !== undefined || this.fromBase === 0) return "given";
    return this.own === 0 ? "start" : "mixed";
  }
}

const pointEntry = z.strictObject({
  step: z.optional(z.int()),
  timestamp: z.optional(z.int().check(z.nonnegative())),
  metrics: z.record(z.string(), z.unknown()),
});
const pointEntries = z.union([pointEntry, z.array(pointEntry)]);

export function parseMetricUpload(text: string, format: UploadFormat | undefined, contentType: string, base: Base): MetricUpload {
  const chosen = format ?? (/^text\/csv\b/i.test(contentType) ? "csv" : undefined);
  const timestamps = new Timestamps(base.timestamp);
  const points = chosen === "csv" ? csvPoints(text, timestamps) : jsonPoints(text, chosen, base.step, timestamps);
  if (points.length === 0) throw invalidParameter("The upload holds no metric points.");
  if (points.length > MAX_POINTS_PER_UPLOAD) {
    throw invalidParameter(`An upload may hold at most ${MAX_POINTS_PER_UPLOAD} metric points; got ${points.length}. Split it into several requests.`);
  }
  for (const key of new Set(points.map((p) => p.key))) validateKey("metric", key);
  for (const p of points) {
    if (!Number.isSafeInteger(p.step)) throw invalidParameter(`Invalid step ${p.step} for metric '${p.key}'.`);
  }
  return { points, timestamps: timestamps.kind };
}

function jsonPoints(text: string, format: "json" | "metrics.json" | undefined, baseStep: number, timestamps: Timestamps): MetricPointInput[] {
  let body: unknown;
  try {
    body = parsePythonJson(text);
  } catch {
    throw invalidParameter("Malformed JSON in request body.");
  }
  const isPoints = Array.isArray(body) || (typeof body === "object" && body !== null && "metrics" in body);
  if (format === "json" || (format === undefined && isPoints)) {
    const parsed = parseWith(pointEntries, body);
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((entry) =>
      Object.entries(entry.metrics).map(([key, raw]) => ({
        key,
        value: metricValue(raw, key),
        step: entry.step ?? 0,
        timestamp: timestamps.at(entry.timestamp),
      })),
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidParameter("A metrics.json body must be a JSON object.");
  }
  return [...flattenMetrics(body)].map(([key, value]) => ({ key, value, step: baseStep, timestamp: timestamps.at(undefined) }));
}

function csvPoints(text: string, timestamps: Timestamps): MetricPointInput[] {
  const rows = parseCsv(text, MAX_CSV_CELL_LENGTH);
  if (!rows || rows.length === 0) {
    throw invalidParameter(`Malformed CSV in request body (an unclosed quote, a cell of over ${MAX_CSV_CELL_LENGTH} characters, or no rows).`);
  }
  const [header, ...data] = rows;
  const stepColumn = header.indexOf("step");
  if (stepColumn < 0) throw invalidParameter("A metrics.csv needs a 'step' column (Lightning's CSVLogger writes epoch,step,<metric>...).");
  const points: MetricPointInput[] = [];
  data.forEach((row, i) => {
    const line = i + 2;
    if (row.length !== header.length) throw invalidParameter(`metrics.csv line ${line} has ${row.length} cells; the header has ${header.length}.`);
    const cells = header.map((key, column) => ({ key, text: row[column].trim() })).filter((c, column) => c.text !== "" && column !== stepColumn);
    if (cells.length === 0) return;
    const step = Number(row[stepColumn]);
    if (row[stepColumn].trim() === "" || !Number.isSafeInteger(step)) throw invalidParameter(`metrics.csv line ${line} has no integer step.`);
    for (const cell of cells) points.push({ key: cell.key, value: metricValue(cell.text, cell.key, line), step, timestamp: timestamps.at(undefined, i) });
  });
  return points;
}

function metricValue(raw: unknown, key: string, line?: number): number {
  const value = parseWireValue(raw);
  if (value === undefined) {
    throw invalidParameter(`Invalid value ${excerpt(JSON.stringify(raw) ?? String(raw))} for metric '${key}'${line ? ` on line ${line}` : ""}: not a number.`);
  }
  return value;
}
