/** The ordering rules a leaderboard and a run's latest metric rely on, shared by the worker and the site. */
import type { SortDirection } from "./metrics.js";

/** A metric point's place in MLflow's (step, timestamp, value) order. */
export interface PointOrder {
  step: number;
  timestamp: number;
  value: number;
}

/**
 * MLflow's order of a metric's points; the greatest, by (step, timestamp, value), is its latest.
 * Negative, 0 or positive as a comes before, with or after b.
 */
export function comparePoints(a: PointOrder, b: PointOrder): number {
  return a.step - b.step || a.timestamp - b.timestamp || (a.value > b.value ? 1 : a.value < b.value ? -1 : 0);
}

/** Whether point a is later than b: the latest point is the greatest one. */
export function isLaterPoint(a: PointOrder, b: PointOrder): boolean {
  return comparePoints(a, b) > 0;
}

/** The latest of a metric's points (the first of equals). */
export function latestPoint<T extends PointOrder>(points: readonly T[]): T {
  return points.reduce((best, p) => (isLaterPoint(p, best) ? p : best));
}

/** The latest point of each key, keys in the order they are first seen. */
export function latestByKey<T>(items: Iterable<T>, keyOf: (item: T) => string, orderOf: (item: T) => PointOrder): Map<string, T> {
  const latest = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const best = latest.get(key);
    if (best === undefined || isLaterPoint(orderOf(item), orderOf(best))) latest.set(key, item);
  }
  return latest;
}

/**
 * Competition ranks of values sorted best first: equal values share a rank and the next rank
 * skips past them (1, 2, 2, 2, 5).
 */
export function competitionRanks(sortedValues: readonly number[]): number[] {
  const ranks: number[] = [];
  for (const [i, value] of sortedValues.entries()) ranks.push(value === sortedValues[i - 1] ? ranks[i - 1] : i + 1);
  return ranks;
}

/** Text in code-unit order, the same as SQLite's BINARY order for ASCII (run ids, metric keys). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a leaderboard orders: a run (by its run id) and its value for the ranked metric, never NaN. */
export interface RankCandidate {
  runId: string;
  value: number;
}

/**
 * The leaderboard's order: the better value first in the metric's direction; equal values by run
 * id, ascending. (Run ids are ASCII, so this is also SQLite's BINARY order, in which the store's
 * ranking query picks the same top entries.)
 */
export function compareRanked(direction: SortDirection): (a: RankCandidate, b: RankCandidate) => number {
  const sign = direction === "asc" ? 1 : -1;
  return (a, b) => sign * (a.value - b.value) || compareText(a.runId, b.runId);
}

/** Entries in the leaderboard's order, each with its competition rank: the one ranking of the API and the site. */
export function rankEntries<T extends RankCandidate>(entries: readonly T[], direction: SortDirection): Array<T & { rank: number }> {
  const sorted = [...entries].sort(compareRanked(direction));
  const ranks = competitionRanks(sorted.map((entry) => entry.value));
  return sorted.map((entry, i) => ({ ...entry, rank: ranks[i] }));
}
