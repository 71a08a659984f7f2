/**
 * The Worker's runtime globals as seen from the Node programs (CLI, site build, Node tests). They
 * type-check the Worker's sources only for the type of its route table (`import type { V1Api }`
 * in functions/client), so what those sources use of the Workers runtime is declared loosely here.
 * The Worker itself is checked against the real runtime types (tsconfig.json, which leaves this
 * file out). A Worker change that uses another runtime global adds it here.
 */
type D1Database = any;
type D1PreparedStatement = any;
type D1Result<T = unknown> = { results: T[]; success: boolean; meta: any };
type RateLimit = { limit(options: { key: string }): Promise<{ success: boolean }> };
interface Env {
  DB: D1Database;
  WRITE_RATE_LIMITER: RateLimit;
  PUBLIC_RATE_LIMITER: RateLimit;
  ADMIN_TOKEN: string;
}
interface SubtleCrypto {
  timingSafeEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean;
}
