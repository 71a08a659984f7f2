import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors";

/** MLflow's own limits, enforced before anything is written. */
export const LIMITS = {
  maxBodyBytes: 1024 * 1024,
  /** /api/v1 uploads (metrics.csv of a long run, a nested metrics.json). */
  maxUploadBytes: 8 * 1024 * 1024,
  maxBatchMetrics: 1000,
  maxBatchParams: 100,
  maxBatchTags: 100,
  maxBatchEntries: 1000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
  maxRunNameLength: 250,
  maxSearchResults: 50000,
  defaultSearchResults: 1000,
} as const;

/** Caps a request body before it is read; over the cap is a 413 in MLflow's error shape. */
export const capBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("INVALID_PARAMETER_VALUE", `Request body exceeds the limit of ${maxSize} bytes.`, {}) as never;
    },
  });
