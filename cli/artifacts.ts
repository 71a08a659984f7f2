/**
 * Artifact bytes between local files and the tracker, through MLflow's artifact proxy
 * (`/api/2.0/mlflow-artifacts`): uploads streamed from an already opened file (one PUT up to
 * ARTIFACT_LIMITS.maxPutBytes, larger files as the proxied multipart upload), downloads streamed
 * to a file while hashed, and a run's stored listing with SHA-256 (GET /api/v1/artifacts/{id}).
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ArtifactListResponse } from "../functions/api/contract.js";
import { ARTIFACT_LIMITS, encodeArtifactPath as encodePath, ARTIFACT_PROXY as PROXY } from "../functions/domain/artifacts.js";
import { type ApiClient, parseAnswer } from "./api-client.js";

/**
 * Files above KDGAT_MULTIPART_MIN_BYTES (default: one PUT's limit, 100 MB) go up in parts of
 * KDGAT_MULTIPART_PART_BYTES (default 64 MiB; R2 needs at least 5 MiB but for the last part,
 * Workers at most 100 MB), like MLflow's MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE / _CHUNK_SIZE.
 */
function sizeFromEnv(name: string, fallback: number, min: number, max: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const n = /^\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw new Error(`${name}=${value}: expected a number of bytes from ${min} to ${max}`);
  return n;
}
const multipartMinBytes = () => sizeFromEnv("KDGAT_MULTIPART_MIN_BYTES", ARTIFACT_LIMITS.maxPutBytes, 1, ARTIFACT_LIMITS.maxPutBytes);
const partBytes = () => sizeFromEnv("KDGAT_MULTIPART_PART_BYTES", 64 * 1024 * 1024, 5 * 1024 * 1024, ARTIFACT_LIMITS.maxPutBytes);

/** A file opened for upload (the caller checked where it is); read by position, never closed here. */
export interface OpenedFile {
  fd: number;
  size: number;
}

export interface Digest {
  size: number;
  sha256: string;
}

/** `<experiment_id>/<run_uuid>/artifacts` of an artifact_uri `mlflow-artifacts:/...`. */
export function artifactRoot(artifactUri: string): string {
  const match = /^mlflow-artifacts:\/+(.+?)\/*$/.exec(artifactUri);
  if (!match) throw new Error(`the run's artifact_uri '${artifactUri}' is not an mlflow-artifacts: URI`);
  return match[1];
}

/** A run's stored artifacts (path, size, sha256). */
export function storedArtifacts(client: ApiClient, runUuid: string): Promise<ArtifactListResponse> {
  return client.json<ArtifactListResponse>("GET", `/api/v1/artifacts/${runUuid}`);
}

/**
 * Whether the tracker serves `<root>/<path>` (a HEAD of the download): an import writes a run's
 * listing before its bytes arrive, so a listed file is not always a stored one.
 */
export async function artifactServed(client: ApiClient, root: string, path: string): Promise<boolean> {
  const response = await client.request("HEAD", `${PROXY}/artifacts/${root}/${encodePath(path)}`);
  if (response.status === 404) return false;
  if (!response.ok) await parseAnswer(response);
  return true;
}

/** Bytes [start, end) of the file as a web stream. */
function slice(fd: number, start: number, end: number): ReadableStream<Uint8Array> {
  if (end <= start) return new Blob([]).stream();
  return Readable.toWeb(createReadStream("", { fd, start, end: end - 1, autoClose: false })) as ReadableStream<Uint8Array>;
}

/** SHA-256 of the opened file, streamed. */
export async function digestOf(file: OpenedFile): Promise<Digest> {
  const hash = createHash("sha256");
  if (file.size > 0) for await (const chunk of createReadStream("", { fd: file.fd, start: 0, autoClose: false })) hash.update(chunk as Buffer);
  return { size: file.size, sha256: hash.digest("hex") };
}

/**
 * Uploads the file as `<root>/<path>`. Each request (and each part) is retried by the client; a
 * multipart upload that fails anyway is aborted, so that no half-written file is listed.
 * onBytes is told how many bytes went out, for a progress bar.
 */
export async function uploadArtifact(client: ApiClient, root: string, path: string, file: OpenedFile, onBytes: (n: number) => void = () => {}): Promise<void> {
  if (file.size <= multipartMinBytes()) {
    await client.json("PUT", `${PROXY}/artifacts/${root}/${encodePath(path)}`, { body: { open: () => slice(file.fd, 0, file.size), length: file.size } });
    onBytes(file.size);
    return;
  }
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? root : `${root}/${encodePath(path.slice(0, slash))}`;
  const name = path.slice(slash + 1);
  const PART_BYTES = partBytes();
  const parts = Math.ceil(file.size / PART_BYTES);
  const created = await client.json<{ upload_id: string; credentials: Array<{ url: string; part_number: number }> }>("POST", `${PROXY}/mpu/create/${dir}`, {
    body: { path: name, num_parts: parts },
  });
  try {
    const done: Array<{ part_number: number; etag: string }> = [];
    for (const credential of created.credentials) {
      const start = (credential.part_number - 1) * PART_BYTES;
      const end = Math.min(start + PART_BYTES, file.size);
      // The signed URL names the Worker's own origin: sent to the tracker this client talks to.
      const url = new URL(credential.url);
      const response = await client.request("PUT", `${url.pathname}${url.search}`, { body: { open: () => slice(file.fd, start, end), length: end - start } });
      if (!response.ok) await parseAnswer(response);
      done.push({ part_number: credential.part_number, etag: response.headers.get("ETag") ?? "" });
      onBytes(end - start);
    }
    await client.json("POST", `${PROXY}/mpu/complete/${dir}`, { body: { path: name, upload_id: created.upload_id, parts: done } });
  } catch (error) {
    await client.json("POST", `${PROXY}/mpu/abort/${dir}`, { body: { path: name, upload_id: created.upload_id } }).catch(() => {});
    throw error;
  }
}

/** Downloads `<root>/<path>` to dest (written as dest.partial, then renamed), hashing it on the way. */
export async function downloadArtifact(client: ApiClient, root: string, path: string, dest: string): Promise<Digest> {
  const response = await client.request("GET", `${PROXY}/artifacts/${root}/${encodePath(path)}`, { unread: true });
  if (!response.ok || !response.body) {
    await parseAnswer(response);
    throw new Error(`no body for ${path}`);
  }
  mkdirSync(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const hash = createHash("sha256");
  let size = 0;
  const source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  source.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  await pipeline(source, createWriteStream(partial));
  renameSync(partial, dest);
  return { size, sha256: hash.digest("hex") };
}
