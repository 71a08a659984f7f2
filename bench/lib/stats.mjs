// Percentiles and a bounded worker pool for the load loops.
import { runConcurrent } from "../../dist/functions/domain/concurrency.js";

/** Nearest-rank percentile of a list of numbers (p in 0..100); NaN for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** {n, p50, p95, p99, max, mean} of latencies in ms. */
export function latencySummary(values) {
  const mean = values.reduce((a, b) => a + b, 0) / (values.length || 1);
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
    mean,
  };
}

export const sum = (values) => values.reduce((a, b) => a + b, 0);

/**
 * Runs task(i) for i in 0..count-1 with at most `concurrency` in flight; stops starting new tasks
 * after deadlineMs (the loop is bounded in count and in time). Resolves to the number started.
 * The pool is the core's (functions/domain/concurrency.ts, built by `npm run build:cli`).
 */
export function pool(count, concurrency, task, { deadlineMs = Infinity } = {}) {
  const stopAt = performance.now() + deadlineMs;
  return runConcurrent(count, concurrency, task, () => performance.now() >= stopAt);
}

/** Rounds for display: integers above 100, else 3 significant digits. */
export function fmt(value) {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en-US") : Number(value.toPrecision(3)).toString();
}

/** A small seeded PRNG (mulberry32): the same seed gives the same load every run. Returns () => [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
