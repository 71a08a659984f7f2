/**
 * The artifact bytes of a full backup: `kdgat export --artifacts DIR` downloads every run's
 * artifacts to DIR/<mlflow_run_id>/<path> and writes DIR/artifacts.json (each run's listing with
 * size and SHA-256, as the tracker stored them); `kdgat import --artifacts DIR` checks every file
 * against that listing before anything is sent, then uploads what the tracker does not already
 * hold with the same size and SHA-256 (so an interrupted import is resumed by running it again).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactFile, ExportDocument } from "../functions/api/contract.js";
import { runArtifactPath, safeArtifactPath } from "../functions/domain/artifacts.js";
import type { ApiClient } from "./api-client.js";
import { artifactRoot, artifactServed, digestOf, downloadArtifact, storedArtifacts, uploadArtifact } from "./artifacts.js";
import { UsageError } from "./errors.js";
import { startProgress } from "./progress.js";

export const MANIFEST = "artifacts.json";

export interface ArtifactManifest {
  format: "kdgat-artifacts";
  version: 1;
  runs: Record<string, { artifact_uri: string; files: ArtifactFile[] }>;
}

/** A listed path as a file under dir/<run>: MLflow's safe-path rule, so nothing lands outside DIR. */
function localPath(dir: string, runUuid: string, path: string): string {
  const safe = safeArtifactPath(path);
  if (safe === undefined || safe !== path || !runArtifactPath(`0/${runUuid}/artifacts/${path}`)) throw new Error(`refusing the artifact path '${path}' of run ${runUuid}`);
  return join(dir, runUuid, ...path.split("/"));
}

/** Downloads the artifacts of every run of the document into dir; every file is checked against its SHA-256. */
export async function exportArtifacts(client: ApiClient, document: ExportDocument, dir: string): Promise<{ files: number; bytes: number }> {
  const manifest: ArtifactManifest = { format: "kdgat-artifacts", version: 1, runs: {} };
  for (const run of document.runs) {
    const listing = await storedArtifacts(client, run.mlflow_run_id);
    if (listing.files.length > 0) manifest.runs[run.mlflow_run_id] = { artifact_uri: listing.artifact_uri, files: listing.files };
  }
  const all = Object.entries(manifest.runs).flatMap(([uuid, r]) => r.files.map((f) => ({ uuid, root: artifactRoot(r.artifact_uri), file: f })));
  const total = all.reduce((sum, a) => sum + a.file.size, 0);
  const progress = startProgress("exporting artifacts (bytes)", total);
  for (const { uuid, root, file } of all) {
    const dest = localPath(dir, uuid, file.path);
    const got = await downloadArtifact(client, root, file.path, dest);
    if (got.size !== file.size || got.sha256 !== file.sha256) {
      throw new Error(`artifact ${file.path} of run ${uuid}: downloaded ${got.size} bytes with SHA-256 ${got.sha256}, the tracker lists ${file.size} bytes with ${file.sha256}`);
    }
    progress.increment(file.size);
  }
  progress.stop();
  const partial = join(dir, `${MANIFEST}.partial`);
  writeFileSync(partial, `${JSON.stringify(manifest)}\n`);
  renameSync(partial, join(dir, MANIFEST));
  return { files: all.length, bytes: total };
}

function readManifest(dir: string): ArtifactManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new UsageError(`--artifacts ${dir}: no ${MANIFEST} (written by kdgat export --artifacts)`);
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as ArtifactManifest;
  } catch (error) {
    throw new UsageError(`${path}: not readable JSON (${(error as Error).message})`);
  }
  if (manifest.format !== "kdgat-artifacts") throw new UsageError(`${path}: not a kdgat artifact listing`);
  return manifest;
}

/** Reads dir's manifest and checks every file against it (size and SHA-256; none missing): a usage error otherwise. */
export async function verifyBackup(dir: string): Promise<ArtifactManifest> {
  const manifest = readManifest(dir);
  const problems: string[] = [];
  for (const [uuid, run] of Object.entries(manifest.runs)) {
    for (const file of run.files) {
      const got = await withFile(localPath(dir, uuid, file.path), (fd, size) => digestOf({ fd, size })).catch((error: Error) => ({ size: -1, sha256: error.message }));
      if (got.size !== file.size || got.sha256 !== file.sha256)
        problems.push(`${uuid}/${file.path}: ${got.size < 0 ? got.sha256 : `${got.size} bytes, SHA-256 ${got.sha256}; the listing says ${file.size} bytes, ${file.sha256}`}`);
    }
  }
  if (problems.length > 0) throw new UsageError(`--artifacts ${dir} does not match its ${MANIFEST}; nothing imported:\n  ${problems.slice(0, 20).join("\n  ")}`);
  return manifest;
}

/**
 * Uploads each verified file the tracker does not hold with the same digest, to the run's artifact
 * root there. The import lists a run's files before their bytes arrive, so a listed file counts as
 * held only when the tracker also serves it.
 */
export async function importArtifacts(
  client: ApiClient,
  dir: string,
  manifest: ArtifactManifest,
  deletedRuns: ReadonlySet<string>,
): Promise<{ uploaded: number; unchanged: number; bytes: number; deleted: number }> {
  const todo: Array<{ uuid: string; root: string; file: ArtifactFile }> = [];
  let unchanged = 0;
  let deleted = 0;
  for (const [uuid, run] of Object.entries(manifest.runs)) {
    // A deleted run takes no writes (as in MLflow): its files stay in the backup folder.
    if (deletedRuns.has(uuid)) {
      deleted += run.files.length;
      continue;
    }
    const stored = await storedArtifacts(client, uuid);
    const have = new Map(stored.files.map((f) => [f.path, f]));
    for (const file of run.files) {
      const known = have.get(file.path);
      const root = artifactRoot(stored.artifact_uri);
      if (known && known.size === file.size && known.sha256 === file.sha256 && (await artifactServed(client, root, file.path))) unchanged++;
      else todo.push({ uuid, root, file });
    }
  }
  const total = todo.reduce((sum, t) => sum + t.file.size, 0);
  const progress = startProgress("importing artifacts (bytes)", total);
  for (const { uuid, root, file } of todo) {
    await withFile(localPath(dir, uuid, file.path), (fd, size) => uploadArtifact(client, root, file.path, { fd, size }, (n) => progress.increment(n)));
  }
  progress.stop();
  return { uploaded: todo.length, unchanged, bytes: total, deleted };
}

/** Opens a file of the backup (never through a symlink at its last step), runs work, closes it. */
async function withFile<T>(path: string, work: (fd: number, size: number) => Promise<T>): Promise<T> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = fstatSync(fd);
    return await work(fd, size);
  } finally {
    closeSync(fd);
  }
}
