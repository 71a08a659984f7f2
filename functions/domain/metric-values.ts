import { isDecimalLiteral } from "./decimal.js";

/** A metric value on the wire and in the export: a JSON number, or "NaN" (JSON has none). */
export type MetricValue = number | "NaN";

/** MLflow's SQL store clamps infinities to the largest finite double. */
export const MAX_DOUBLE = 1.7976931348623157e308;

export interface StoredValue {
  value: number;
  isNan: boolean;
}

/** NaN is stored as 0 with is_nan set (SQLite turns a NaN REAL into NULL); infinities are clamped. */
export function toStoredValue(value: number): StoredValue {
  if (Number.isNaN(value)) return { value: 0, isNan: true };
  if (value === Number.POSITIVE_INFINITY) return { value: MAX_DOUBLE, isNan: false };
  if (value === Number.NEGATIVE_INFINITY) return { value: -MAX_DOUBLE, isNan: false };
  return { value, isNan: false };
}

export function fromStoredValue(value: number, isNan: boolean | number): MetricValue {
  return isNan ? "NaN" : value;
}

/** Parses a wire value: a JSON number, or the strings "NaN", "Infinity", "-Infinity" (also numeric strings). */
export function parseWireValue(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^[+-]?(nan)$/i.test(text)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  return isDecimalLiteral(text) ? Number(text) : undefined;
}
