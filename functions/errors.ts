/**
 * The tracker's errors, thrown by the store and the routes alike: an MLflow error code, a message
 * and the headers the answer carries. No HTTP framework here; http/errors.ts turns one into a response.
 */

/** MLflow's error codes, with the HTTP status MLflow's server gives each. */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  /** MLflow's code for a feature the server does not have (e.g. multipart upload on a local store). */
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error answered as `{"error_code": ..., "message": ...}` with the code's status. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export const invalidParameter = (message: string) => new ApiError("INVALID_PARAMETER_VALUE", message);
export const notFound = (message: string) => new ApiError("RESOURCE_DOES_NOT_EXIST", message);
export const alreadyExists = (message: string) => new ApiError("RESOURCE_ALREADY_EXISTS", message);
/** Something the request needs is briefly out of service; repeating the request later is safe. */
export const temporarilyUnavailable = (message: string, retryAfterSeconds: number) => new ApiError("TEMPORARILY_UNAVAILABLE", message, { "Retry-After": String(retryAfterSeconds) });
