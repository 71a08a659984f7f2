/**
 * `kdgat backfill --artifacts`: each run folder's files (checkpoints, slurm.out / slurm.err,
 * lightning_logs/) uploaded as artifacts of the run id's latest attempt. Resumable: a file the
 * tracker already holds with the same size and SHA-256 is skipped, so a re-run after an
 * interruption sends only what is missing or changed. Files are read only inside the run folder
 * (run-folder.ts: never through a symlink out of it).
 */
import { closeSync } from "node:fs";
import type { ApiClient } from "../api-client.js";
import { artifactRoot, digestOf, storedArtifacts, uploadArtifact } from "../artifacts.js";
import { terminalSafe } from "../output.js";
import { startProgress } from "../progress.js";
import { loadTrackedRuns } from "./backfill.js";
import { artifactFiles, openInside, realRunFolder, SYMLINKED_FOLDER } from "./run-folder.js";

export interface ArtifactResult {
  run_id: string;
  uploaded: string[];
  /** Already stored with the same size and SHA-256. */
  unchanged: number;
  bytes: number;
  /** Files left out (symlinks) and why an upload failed. */
  notes: string[];
  failed: boolean;
}

interface Planned {
  runId: string;
  dir: string;
  root: string;
  /** What to upload: missing or changed files (size when planned). */
  files: Array<{ path: string; size: number }>;
  result: ArtifactResult;
}

/** Plans every run (what is missing or changed), then uploads with one progress bar over the bytes. */
export async function uploadRunArtifacts(client: ApiClient, root: string, runIds: readonly string[], options: { quiet?: boolean } = {}): Promise<ArtifactResult[]> {
  const tracked = await loadTrackedRuns(client);
  const plans: Planned[] = [];
  const results: ArtifactResult[] = [];
  for (const runId of runIds) {
    const result: ArtifactResult = { run_id: runId, uploaded: [], unchanged: 0, bytes: 0, notes: [], failed: false };
    results.push(result);
    const plan = await planRun(client, root, runId, tracked.get(runId)?.mlflow_run_id, result).catch((error: Error) => {
      result.failed = true;
      result.notes.push(error.message);
      return undefined;
    });
    if (plan) plans.push(plan);
  }
  const total = plans.reduce((sum, p) => sum + p.files.reduce((s, f) => s + f.size, 0), 0);
  const progress = options.quiet ? undefined : startProgress("uploading artifacts (bytes)", total);
  for (const plan of plans) {
    for (const { path } of plan.files) {
      // Opened (and checked) again: the folder may have changed since it was planned.
      const file = openInside(plan.dir, path, plan.result.notes);
      if (!file) continue;
      try {
        await uploadArtifact(client, plan.root, path, file, (n) => progress?.increment(n));
        plan.result.uploaded.push(path);
        plan.result.bytes += file.size;
      } catch (error) {
        plan.result.failed = true;
        plan.result.notes.push(`${path}: ${(error as Error).message}`);
      } finally {
        closeSync(file.fd);
      }
    }
  }
  progress?.stop();
  return results;
}

async function planRun(client: ApiClient, root: string, runId: string, runUuid: string | undefined, result: ArtifactResult): Promise<Planned | undefined> {
  const dir = realRunFolder(root, runId);
  if (dir === undefined) {
    result.notes.push(SYMLINKED_FOLDER);
    return undefined;
  }
  const paths = artifactFiles(dir, result.notes);
  if (paths.length === 0) return undefined;
  if (runUuid === undefined) {
    result.notes.push(`not in the tracker: ${paths.length} file(s) not uploaded (backfill the run first)`);
    return undefined;
  }
  const stored = await storedArtifacts(client, runUuid);
  const have = new Map(stored.files.map((f) => [f.path, f]));
  const plan: Planned = { runId, dir, root: artifactRoot(stored.artifact_uri), files: [], result };
  for (const path of paths) {
    const file = openInside(dir, path, result.notes);
    if (!file) continue;
    try {
      const known = have.get(path);
      if (known && known.size === file.size && known.sha256 === (await digestOf(file)).sha256) result.unchanged++;
      else plan.files.push({ path, size: file.size });
    } finally {
      closeSync(file.fd);
    }
  }
  return plan;
}

/** One line per run folder with files, and the totals (names come from folders: terminal-safe). */
export function printArtifactReport(results: readonly ArtifactResult[]): void {
  const shown = results.filter((r) => r.uploaded.length > 0 || r.unchanged > 0 || r.notes.length > 0);
  const lines = shown.map((r) => {
    const status = r.failed ? "failed" : r.uploaded.length > 0 ? "uploaded" : "unchanged";
    const notes = r.notes.length > 0 ? `; ${r.notes.join("; ")}` : "";
    return `${`artifacts ${status}`.padEnd(18)} ${terminalSafe(r.run_id)}: ${r.uploaded.length} file(s) uploaded (${r.bytes} bytes), ${r.unchanged} already stored${terminalSafe(notes)}`;
  });
  const sum = (pick: (r: ArtifactResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  lines.push(
    `Artifacts: uploaded ${sum((r) => r.uploaded.length)} file(s), ${sum((r) => r.bytes)} bytes; already stored ${sum((r) => r.unchanged)}; failed runs ${results.filter((r) => r.failed).length}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
