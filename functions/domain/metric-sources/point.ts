/** The one shape every metric source parses into, and the rules all sources share. */
import { excerpt } from "../excerpt.js";
import { parseWireValue } from "../metric-values.js";

/** One metric point, as the store logs it. */
export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

/**
 * What a source gives a point it does not say itself: the timestamp (so that a re-sent upload
 * stores nothing twice, it never depends on when the text is read) and, for a metrics.json, the step.
 */
export interface PointBase {
  timestamp: number;
  step: number;
}

/** A text that is not what its source expects; the message is for the person who sent it. */
export class MetricSourceError extends Error {}

/** A metric value: a number, or Python's NaN / Infinity spelled as JSON strings or CSV cells. */
export function pointValue(raw: unknown, key: string, line?: number): number {
  const value = parseWireValue(raw);
  if (value === undefined) {
    throw new MetricSourceError(`Invalid value ${excerpt(JSON.stringify(raw) ?? String(raw))} for metric '${key}'${line ? ` on line ${line}` : ""}: not a number.`);
  }
  return value;
}
