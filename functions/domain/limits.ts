/** MLflow's own limits, enforced before anything is written. */
export const LIMITS = {
  maxBodyBytes: 1024 * 1024,
  /** /api/v1 uploads (metrics.csv of a long run, a nested metrics.json). */
  maxUploadBytes: 8 * 1024 * 1024,
  /** Metric points of one /api/v1 upload: all are written in one transaction; beyond it, split it. */
  maxPointsPerUpload: 100_000,
  /** A metrics.csv cell is a metric name or a number: a longer one is refused as soon as it is read. */
  maxCsvCellLength: 1024,
  maxBatchMetrics: 1000,
  maxBatchParams: 100,
  maxBatchTags: 100,
  maxBatchEntries: 1000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
  maxRunNameLength: 250,
  /**
   * Distinct metric keys one run may hold (ours, not MLflow's): every read of a run returns all its
   * latest values, so a run with 100,000 keys would make each of its reads megabytes. A write past
   * it is 400 INVALID_PARAMETER_VALUE, the code of MLflow's own batch limits (clients do not retry it).
   */
  maxMetricKeysPerRun: 10_000,
  maxSearchResults: 50000,
  defaultSearchResults: 1000,
  /**
   * Ours, not MLflow's (it has none): room for a filter of comparisons against maximal (8000-char)
   * tag values, every quote doubled; a filter is parsed in linear time anyway.
   */
  maxFilterLength: 32 * 1024,
  /** One order_by entry: a prefix, a quoted key of maxKeyLength (quotes doubled) and ASC/DESC. */
  maxOrderByLength: 1024,
  /** Page tokens are ours and short (MLflow's: base64 of `{"offset": N}`). */
  maxPageTokenLength: 1024,
} as const;
