/** Which way is better for a metric, and the leaderboard's default. */
export const DEFAULT_LEADERBOARD_METRIC = "gat_f1";

const LOWER_IS_BETTER = /(loss|error|(^|_)fpr($|_)|(^|_)fnr($|_)|miss_rate|mse|mae|rmse|perplexity|latency|_time$)/i;

export type SortDirection = "asc" | "desc";

/** Loss-like metrics rank ascending, everything else descending. */
export function metricDirection(key: string): SortDirection {
  return LOWER_IS_BETTER.test(key) ? "asc" : "desc";
}
