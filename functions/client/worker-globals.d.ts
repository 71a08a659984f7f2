/**
 * The Worker's runtime globals as seen from the Node programs (CLI, site build, Node tests). They
 * type-check the Worker's sources only for the type of its route table (`import type { V1Api }`
 * in functions/client), so what those sources use of the Workers runtime is declared loosely here.
 * The Worker itself is checked against the real runtime types (tsconfig.json, which leaves this
 * file out). A Worker change that uses another runtime global adds it here.
 */
interface D1Database {
  prepare(query: string): D1PreparedStatement;
  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]>;
  withSession(start?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession;
}
interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  run(): Promise<D1Result>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  raw(options?: { columnNames?: boolean }): Promise<unknown[][]>;
}
type D1Result<T = unknown> = { results: T[]; success: boolean; meta: any };
type D1Response = { success: boolean; meta: any };
type D1SessionBookmark = string;
type D1SessionConstraint = "first-primary" | "first-unconstrained";
type D1DatabaseSession = Pick<D1Database, "prepare" | "batch"> & { getBookmark(): D1SessionBookmark | null };
type RateLimit = { limit(options: { key: string }): Promise<{ success: boolean }> };
type R2Bucket = any;
type R2ObjectBody = any;
type R2UploadedPart = { partNumber: number; etag: string };
declare class DigestStream extends WritableStream<ArrayBuffer | ArrayBufferView> {
  constructor(algorithm: string);
  readonly digest: Promise<ArrayBuffer>;
  readonly bytesWritten: number;
}
declare class FixedLengthStream extends TransformStream<ArrayBuffer | ArrayBufferView, Uint8Array> {
  constructor(length: number | bigint);
}
interface Crypto {
  DigestStream: typeof DigestStream;
}
interface Env {
  DB: D1Database;
  ARTIFACTS: R2Bucket;
  ARTIFACTS_PUBLIC: string;
  WRITE_RATE_LIMITER: RateLimit;
  PUBLIC_RATE_LIMITER: RateLimit;
  ADMIN_TOKEN: string;
}
interface SubtleCrypto {
  timingSafeEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean;
}
