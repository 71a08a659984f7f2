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
 * stores nothing twice, it never depends on when the text is read) and, for a metrics.json, the
 * step. Without a timestamp the caller does not know it yet (the Worker writes in one round trip,
 * before it has read the attempt's start time): points then get offsets from it (see MetricUpload).
 */
export interface PointBase {
  timestamp?: number;
  step: number;
}

/** The points of one upload and where their timestamps came from. */
export interface MetricUpload {
  points: MetricPoint[];
  /**
   * "given" when every point's timestamp is final, "start" when the base timestamp was absent and
   * every point's timestamp is an offset from it (the writer adds the attempt's start time), and
   * "mixed" when some are offsets and some not (read again with the start time as the base).
   */
  timestamps: "given" | "start" | "mixed";
}

/** Gives each point its timestamp (its own, else the base's plus an offset) and counts which kind it got. */
export class PointClock {
  private own = 0;
  private fromBase = 0;
  constructor(readonly base: PointBase) {}

  at(own: number | undefined, offset = 0): number {
    if (own !== undefined) {
      this.own++;
      return own;
    }
    this.fromBase++;
    return (this.base.timestamp ?? 0) + offset;
  }

  get timestamps(): MetricUpload["timestamps"] {
    if (this.base.timestamp !== undefined || this.fromBase === 0) return "given";
    return this.own === 0 ? "start" : "mixed";
  }
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
