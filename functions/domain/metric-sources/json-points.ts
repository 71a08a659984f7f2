/**
 * JSON points: `{"step": 3, "metrics": {"val_loss": 0.2}, "timestamp"?: ms}` or a list of them.
 * A point without its own timestamp gets the base one; without a step, step 0.
 */
import { excerpt } from "../excerpt.js";
import { isJsonObject } from "../python-json.js";
import { type MetricPoint, MetricSourceError, type PointClock, pointValue } from "./point.js";

const FIELDS = new Set(["step", "timestamp", "metrics"]);

/** Whether a JSON body is points (a list, or an object with `metrics`) rather than a metrics.json. */
export function isPointsBody(body: unknown): boolean {
  return Array.isArray(body) || (isJsonObject(body) && "metrics" in body);
}

function invalid(name: string, value: unknown, expected: string): MetricSourceError {
  return new MetricSourceError(`Invalid value ${excerpt(JSON.stringify(value) ?? String(value))} for parameter '${name}' supplied: expected ${expected}.`);
}

function integerField(entry: Record<string, unknown>, field: string, name: string, minimum: number): number | undefined {
  const value = entry[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
    throw invalid(name, value, minimum === 0 ? "a non-negative integer" : "an integer");
  }
  return value;
}

function entryPoints(entry: unknown, path: string, clock: PointClock): MetricPoint[] {
  const name = (field: string) => (path ? `${path}.${field}` : field);
  if (!isJsonObject(entry)) throw invalid(path || "body", entry, "an object");
  const unknown = Object.keys(entry).find((field) => !FIELDS.has(field));
  if (unknown !== undefined) throw new MetricSourceError(`Unrecognized field '${excerpt(name(unknown))}': a point has only step, timestamp and metrics.`);
  const step = integerField(entry, "step", name("step"), Number.MIN_SAFE_INTEGER) ?? 0;
  const own = integerField(entry, "timestamp", name("timestamp"), 0);
  if (entry.metrics === undefined) throw new MetricSourceError(`Missing value for required parameter '${name("metrics")}'.`);
  if (!isJsonObject(entry.metrics)) throw invalid(name("metrics"), entry.metrics, "an object of metric values");
  return Object.entries(entry.metrics).map(([key, raw]) => ({ key, value: pointValue(raw, key), step, timestamp: clock.at(own) }));
}

export function pointsFromJson(body: unknown, clock: PointClock): MetricPoint[] {
  return Array.isArray(body) ? body.flatMap((entry, i) => entryPoints(entry, String(i), clock)) : entryPoints(body, "", clock);
}
