/** Which way is better for a metric, and the leaderboard's default. */
export const DEFAULT_LEADERBOARD_METRIC = "gat_f1";

/** `detection_at_fpr_0.05` is a detection rate measured at a false-positive rate: higher is better. */
const LOWER_IS_BETTER = /(loss|error|(^|_)(?<!_at_)fpr($|_)|(^|_)(?<!_at_)fnr($|_)|miss_rate|mse|mae|rmse|perplexity|latency|_time$)/i;

export type SortDirection = "asc" | "desc";

/** Loss-like metrics rank ascending, everything else descending. */
export function metricDirection(key: string): SortDirection {
  return LOWER_IS_BETTER.test(key) ? "asc" : "desc";
}
