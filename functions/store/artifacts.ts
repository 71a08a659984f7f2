/**
 * Artifacts: the bytes in the R2 bucket (keys `<experiment_id>/<run_uuid>/artifacts/<path>`), one D1
 * row per stored file (size, SHA-256) written once its bytes are in R2, so listings and exports read
 * D1 only. Bytes always stream: nothing here holds a whole file.
 */
import { and, eq, isNotNull, lt, sql } from "drizzle-orm";
import { artifacts, runs } from "../db/schema";
import { artifactKey } from "../domain/artifacts";
import { toHex } from "../domain/hex";
import type { Db } from "../env";
import { invalidParameter, notFound } from "../errors";
import type { RunRow } from "./runs";
import { inValues } from "./sql";

export type ArtifactRow = typeof artifacts.$inferSelect;

/** The highest code point: `prefix` < every path that starts with it < `prefix + LAST`. */
const LAST = "\u{10FFFF}";

/** The rows of a run's file at `path` or under the directory `path` ("" is the whole run). */
const atOrUnder = (runUuid: string, path: string) =>
  and(eq(artifacts.runUuid, runUuid), path === "" ? undefined : sql`(${artifacts.path} = ${path} or (${artifacts.path} > ${`${path}/`} and ${artifacts.path} < ${`${path}/${LAST}`}))`);

/** A body of exactly `length` bytes, for R2 (which needs the length up front); a shorter or longer one errors. */
const exactly = (body: ReadableStream<Uint8Array>, length: number) => body.pipeThrough(new FixedLengthStream(length));

/**
 * The size and SHA-256 of a stored object, read back from R2 through a native digest stream.
 * Hashing the upload on its way in needs a JavaScript transform per chunk, which made uploads 4
 * times slower (bench/README.md, "Artifacts"); the parts of a multipart upload arrive in parallel
 * and in any order anyway.
 */
async function storedDigest(bucket: R2Bucket, key: string): Promise<{ size: number; sha256: string }> {
  const object = await bucket.get(key);
  if (!object) throw notFound(`The artifact '${key.slice(0, 200)}' vanished while it was stored; upload it again.`);
  const digest = new crypto.DigestStream("SHA-256");
  await object.body.pipeTo(digest);
  return { size: object.size, sha256: toHex(await digest.digest) };
}

/** workerd's FixedLengthStream error for a body shorter or longer than its declared length. */
const wrongLengthError = (error: unknown) => error instanceof TypeError && /length/i.test(error.message);

const wrongLength = (length: number) => invalidParameter(`The body did not hold the ${length} bytes its Content-Length declared; nothing was stored.`);

/** Refuses a file where a directory of the run is, or under a path that is a file (one D1 read). */
async function assertNoClash(db: Db, runUuid: string, path: string): Promise<void> {
  const segments = path.split("/");
  const ancestors = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join("/"));
  const clash = await db
    .select({ path: artifacts.path })
    .from(artifacts)
    .where(and(eq(artifacts.runUuid, runUuid), sql`(${inValues(artifacts.path, ancestors)} or (${artifacts.path} > ${`${path}/`} and ${artifacts.path} < ${`${path}/${LAST}`}))`))
    .limit(1)
    .get();
  if (clash) {
    const what = clash.path.startsWith(`${path}/`) ? `'${path}' is a directory of this run` : `'${clash.path}' is a file of this run`;
    throw invalidParameter(`Cannot store an artifact at '${path}': ${what}.`);
  }
}

async function recordArtifact(db: Db, runUuid: string, path: string, size: number, sha256: string): Promise<void> {
  const row = { runUuid, path, size, sha256, updatedAt: Date.now() };
  await db
    .insert(artifacts)
    .values(row)
    .onConflictDoUpdate({ target: [artifacts.runUuid, artifacts.path], set: { size, sha256, updatedAt: row.updatedAt } });
}

/**
 * Stores one file of a run from a body of a known length: streamed into R2, hashed from R2 (see
 * storedDigest), then recorded in D1. A body cut short (or too long) stores nothing.
 */
export async function putArtifact(db: Db, bucket: R2Bucket, run: RunRow, path: string, body: ReadableStream<Uint8Array>, length: number) {
  await assertNoClash(db, run.runUuid, path);
  const key = artifactKey(run.experimentId, run.runUuid, path);
  try {
    await bucket.put(key, exactly(body, length));
  } catch (error) {
    if (wrongLengthError(error)) throw wrongLength(length);
    throw error;
  }
  const stored = await storedDigest(bucket, key);
  await recordArtifact(db, run.runUuid, path, stored.size, stored.sha256);
  return stored;
}

/** A stored file's bytes (streamed from R2), or RESOURCE_DOES_NOT_EXIST. */
export async function getArtifactBody(bucket: R2Bucket, experimentId: number, runUuid: string, path: string): Promise<R2ObjectBody> {
  const object = path === "" ? null : await bucket.get(artifactKey(experimentId, runUuid, path));
  if (!object) throw notFound(`No artifact '${path}' in run ${runUuid}.`);
  return object;
}

export interface ArtifactEntry {
  /** The name inside the listed directory. */
  name: string;
  isDir: boolean;
  /** A file's size; undefined for a directory. */
  size?: number;
}

/**
 * The entries of one directory of a run's artifacts, by name (empty for a file or a path with
 * nothing under it, as MLflow answers). Reads the rows under the directory: one index range.
 */
export async function listArtifactDir(db: Db, runUuid: string, dir: string): Promise<ArtifactEntry[]> {
  const prefix = dir === "" ? "" : `${dir}/`;
  const rows = await db
    .select({ path: artifacts.path, size: artifacts.size })
    .from(artifacts)
    .where(and(eq(artifacts.runUuid, runUuid), sql`${artifacts.path} > ${prefix} and ${artifacts.path} < ${prefix + LAST}`))
    .all();
  const entries = new Map<string, ArtifactEntry>();
  for (const row of rows) {
    const rest = row.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (!entries.has(name)) entries.set(name, slash < 0 ? { name, isDir: false, size: row.size } : { name, isDir: true });
  }
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** R2 deletes at most 1,000 keys a call. */
const R2_DELETE_BATCH = 1000;

async function deleteKeys(bucket: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += R2_DELETE_BATCH) await bucket.delete(keys.slice(i, i + R2_DELETE_BATCH));
}

/** Deletes a run's file, or a directory with all under it ("" for all its artifacts); nothing there is no error (as MLflow). */
export async function deleteArtifacts(db: Db, bucket: R2Bucket, run: RunRow, path: string): Promise<number> {
  const rows = await db.select({ path: artifacts.path }).from(artifacts).where(atOrUnder(run.runUuid, path)).all();
  await deleteKeys(
    bucket,
    rows.map((r) => artifactKey(run.experimentId, run.runUuid, r.path)),
  );
  await db.delete(artifacts).where(atOrUnder(run.runUuid, path));
  return rows.length;
}

/** Starts an R2 multipart upload of a run's file; returns its upload id. */
export async function createArtifactUpload(db: Db, bucket: R2Bucket, run: RunRow, path: string): Promise<string> {
  await assertNoClash(db, run.runUuid, path);
  const upload = await bucket.createMultipartUpload(artifactKey(run.experimentId, run.runUuid, path));
  return upload.uploadId;
}

const uploadOf = (bucket: R2Bucket, run: RunRow, path: string, uploadId: string) => bucket.resumeMultipartUpload(artifactKey(run.experimentId, run.runUuid, path), uploadId);

/** R2 errors that say the upload id is unknown, completed or aborted. */
function unknownUpload(error: unknown, uploadId: string): never {
  const message = String((error as Error)?.message);
  if (/NoSuchUpload|does not exist|not found/i.test(message)) throw notFound(`No multipart upload with id '${uploadId.slice(0, 64)}' is in progress for this path.`);
  if (/EntityTooSmall|InvalidPart|InvalidPartOrder|too small/i.test(message)) throw invalidParameter(`The multipart upload was refused by the store: ${message.slice(0, 200)}`);
  throw error;
}

/** Streams one part (of a known length) into a multipart upload; returns the part's ETag. */
export async function uploadArtifactPart(bucket: R2Bucket, run: RunRow, path: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, length: number) {
  try {
    const part = await uploadOf(bucket, run, path, uploadId).uploadPart(partNumber, exactly(body, length));
    return part.etag;
  } catch (error) {
    return unknownUpload(error, uploadId);
  }
}

/** Completes a multipart upload, then records the file (hashed from R2, see storedDigest). */
export async function completeArtifactUpload(db: Db, bucket: R2Bucket, run: RunRow, path: string, uploadId: string, parts: R2UploadedPart[]) {
  try {
    await uploadOf(bucket, run, path, uploadId).complete(parts);
  } catch (error) {
    unknownUpload(error, uploadId);
  }
  const stored = await storedDigest(bucket, artifactKey(run.experimentId, run.runUuid, path));
  await recordArtifact(db, run.runUuid, path, stored.size, stored.sha256);
  return stored;
}

export async function abortArtifactUpload(bucket: R2Bucket, run: RunRow, path: string, uploadId: string): Promise<void> {
  try {
    await uploadOf(bucket, run, path, uploadId).abort();
  } catch (error) {
    unknownUpload(error, uploadId);
  }
}

/** The artifact listing (path, size, sha256) of these runs, by run then path, for the export. */
export async function artifactsOfRuns(db: Db, runUuids: string[]): Promise<ArtifactRow[]> {
  if (runUuids.length === 0) return [];
  return db.select().from(artifacts).where(inValues(artifacts.runUuid, runUuids)).orderBy(artifacts.runUuid, artifacts.path).all();
}

export interface GcResult {
  runs: number;
  files: number;
  bytes: number;
}

/**
 * Removes the artifacts (R2 objects and D1 rows) of runs deleted before `deletedBefore` (epoch ms);
 * with dryRun only counts them. At most `maxFiles` files per call (a Worker's subrequest budget);
 * `more` tells the caller to call again.
 */
export async function gcDeletedRunArtifacts(db: Db, bucket: R2Bucket, deletedBefore: number, dryRun: boolean, maxFiles: number) {
  const rows = await db
    .select({ runUuid: artifacts.runUuid, path: artifacts.path, size: artifacts.size, experimentId: runs.experimentId })
    .from(artifacts)
    .innerJoin(runs, eq(runs.runUuid, artifacts.runUuid))
    .where(and(eq(runs.lifecycleStage, "deleted"), isNotNull(runs.deletedTime), lt(runs.deletedTime, deletedBefore)))
    .orderBy(artifacts.runUuid, artifacts.path)
    .limit(maxFiles + 1)
    .all();
  const batch = rows.slice(0, maxFiles);
  const result: GcResult & { more: boolean } = {
    runs: new Set(batch.map((r) => r.runUuid)).size,
    files: batch.length,
    bytes: batch.reduce((sum, r) => sum + r.size, 0),
    more: rows.length > maxFiles,
  };
  if (dryRun || batch.length === 0) return result;
  await deleteKeys(
    bucket,
    batch.map((r) => artifactKey(r.experimentId, r.runUuid, r.path)),
  );
  for (const runUuid of new Set(batch.map((r) => r.runUuid))) {
    const paths = batch.filter((r) => r.runUuid === runUuid).map((r) => r.path);
    await db.delete(artifacts).where(and(eq(artifacts.runUuid, runUuid), inValues(artifacts.path, paths)));
  }
  return result;
}
