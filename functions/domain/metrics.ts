/** Which way is better for a metric, and the leaderboard's default. */
export const DEFAULT_LEADERBOARD_METRIC = "gat_f1";

const LOWER_IS_BETTER = /(loss|error|(^|_)fpr($|_)|(^|_)fnr($|_)|miss_rate|mse|mae|rmse|perplexity|latency|_time$)/i;

export type SortDirection = "asc" | "desc";

/** Loss-like metrics rank ascending, everything else descending. */
export function metricDirection(key: string): SortDirection {
  return LOWER_IS_BETTER.test(key) ? "asc" : "desc";
}

/** A metric point as the latest-point rule sees it. */
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

/** The ranks of values sorted best first: equal values share the first one's rank (1, 2, 2, 4). */
export function competitionRanks(sorted: readonly number[]): number[] {
  const ranks: number[] = [];
  sorted.forEach((value, i) => ranks.push(i > 0 && value === sorted[i - 1] ? ranks[i - 1] : i + 1));
  return ranks;
}
