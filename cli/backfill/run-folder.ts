/**
 * What a new-layout run folder `<root>/{dataset}/{name}/` holds, as far as the tracker cares.
 *
 * Everything read stays inside the run folder: a symlink may lead to another file of the same run
 * folder, never out of it (a config.json linked to a private file would be published as params).
 * Files that lead outside are left out and named in `skipped`; symlinked run and dataset folders
 * are reported and not backfilled at all. Mtimes are taken with lstat, so they never follow a link.
 */
import { closeSync, constants, type Dirent, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { OLD_LAYOUT_ROOT, segmentProblem } from "../../functions/domain/index.js";

/** A file of the run folder, read once (everything sent is exactly what was checked). */
export interface RunFile {
  /** Path relative to the run folder, e.g. `lightning_logs/version_0/metrics.csv`. */
  name: string;
  bytes: Buffer;
}

export interface RunFolder {
  runId: string;
  dir: string;
  config?: RunFile;
  metricsJson?: RunFile;
  /** `lightning_logs/version_N/metrics.csv`, oldest version first. */
  metricsCsvs: RunFile[];
  /** Oldest and newest file mtime (ms): when the run started and ended, as far as the disk knows. */
  startTime?: number;
  endTime?: number;
  /** Why files of the folder were left out, e.g. "config.json is a symlink outside the run folder - skipped". */
  skipped: string[];
}

export interface SkippedFolder {
  path: string;
  reason: string;
}

export const SYMLINKED_FOLDER = "a symlinked folder - skipped (backfill never follows a symlink out of a run folder)";

/** Every `{dataset}/{name}` folder below root (hidden folders and automotive/ left out; symlinked ones reported). */
export function findNewLayoutRuns(root: string): { runIds: string[]; skipped: SkippedFolder[] } {
  const runIds: string[] = [];
  const skipped: SkippedFolder[] = [];
  for (const dataset of visibleEntries(root)) {
    if (dataset.name === OLD_LAYOUT_ROOT) continue;
    if (isSymlinkedFolder(root, dataset)) {
      skipped.push({ path: dataset.name, reason: SYMLINKED_FOLDER });
      continue;
    }
    if (!dataset.isDirectory()) continue;
    for (const run of visibleEntries(join(root, dataset.name))) {
      const path = `${dataset.name}/${run.name}`;
      if (isSymlinkedFolder(join(root, dataset.name), run)) skipped.push({ path, reason: SYMLINKED_FOLDER });
      else if (!run.isDirectory()) continue;
      else {
        const problem = segmentProblem(dataset.name) ?? segmentProblem(run.name);
        if (problem) skipped.push({ path, reason: `not a valid run id: ${problem}` });
        else runIds.push(path);
      }
    }
  }
  return { runIds, skipped };
}

/** The run folder's files; undefined when the run folder (or its dataset folder) is a symlink. */
export function readRunFolder(root: string, runId: string): RunFolder | undefined {
  const dir = realRunFolder(root, runId);
  if (dir === undefined) return undefined;
  const skipped: string[] = [];
  const times = { oldest: Number.POSITIVE_INFINITY, newest: Number.NEGATIVE_INFINITY };
  collectMtimes(dir, times);
  return {
    runId,
    dir,
    config: readInside(dir, "config.json", skipped),
    metricsJson: readInside(dir, "metrics.json", skipped),
    metricsCsvs: metricsCsvFiles(dir, skipped),
    ...(Number.isFinite(times.oldest) ? { startTime: times.oldest, endTime: times.newest } : {}),
    skipped,
  };
}

/** The run folder's real path; undefined when it (or its dataset folder) is a symlink. */
export function realRunFolder(root: string, runId: string): string | undefined {
  const dir = join(realpathSync(root), runId);
  return realpathSync(dir) === dir ? dir : undefined;
}

function metricsCsvFiles(dir: string, skipped: string[]): RunFile[] {
  const logs = resolveInside(dir, "lightning_logs", skipped);
  if (logs === undefined || !lstatSync(logs).isDirectory()) return [];
  const versions: string[] = [];
  for (const entry of visibleEntries(logs)) {
    // A linked version (e.g. `latest`) is never read: it would send a history twice, or one from elsewhere.
    if (entry.isSymbolicLink()) skipped.push(`lightning_logs/${entry.name} is a symlink - skipped`);
    else if (entry.isDirectory()) versions.push(entry.name);
  }
  return versions.sort((a, b) => versionOf(a) - versionOf(b) || a.localeCompare(b)).flatMap((version) => readInside(dir, `lightning_logs/${version}/metrics.csv`, skipped) ?? []);
}

/**
 * The real path of `dir/name` when it is inside dir; undefined (with a note in skipped when it is
 * a link) when it is missing or leads outside.
 */
function resolveInside(dir: string, name: string, skipped: string[]): string | undefined {
  const path = join(dir, name);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    if (isSymlink(path)) skipped.push(`${name} is a dangling symlink - skipped`);
    return undefined;
  }
  if (real.startsWith(`${dir}${sep}`)) return real;
  skipped.push(outsideNote(path, name));
  return undefined;
}

/**
 * Opens `dir/name` for reading when it is a file inside dir. realpath and open are two steps, so
 * the file is opened with O_NOFOLLOW and, where the kernel names open files (/proc/self/fd on
 * Linux), the opened file itself is checked again: a link swapped in between is never read.
 * The caller closes the fd.
 */
export function openInside(dir: string, name: string, skipped: string[]): { fd: number; size: number } | undefined {
  const real = resolveInside(dir, name, skipped);
  if (real === undefined) return undefined;
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOOP") throw error;
    skipped.push(outsideNote(join(dir, name), name));
    return undefined;
  }
  const stat = fstatSync(fd);
  const problem = !stat.isFile() ? `${name} is not a file - skipped` : !openedPath(fd, real).startsWith(`${dir}${sep}`) ? outsideNote(join(dir, name), name) : undefined;
  if (problem) {
    closeSync(fd);
    skipped.push(problem);
    return undefined;
  }
  return { fd, size: stat.size };
}

/** Reads `dir/name` when it is a file inside dir (see openInside). */
function readInside(dir: string, name: string, skipped: string[]): RunFile | undefined {
  const opened = openInside(dir, name, skipped);
  if (!opened) return undefined;
  try {
    return { name, bytes: readFileSync(opened.fd) };
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The run folder's files kept as artifacts: checkpoints (`*.pt`), `slurm.out` / `slurm.err` and
 * everything under `lightning_logs/`, relative to the run folder, sorted. Symlinks are never
 * followed here (noted in skipped); openInside checks each file again when it is opened.
 */
export function artifactFiles(dir: string, skipped: string[]): string[] {
  const files: string[] = [];
  for (const entry of visibleEntries(dir)) {
    const keep = entry.name.endsWith(".pt") || entry.name === "slurm.out" || entry.name === "slurm.err";
    if (entry.isSymbolicLink() && (keep || entry.name === "lightning_logs")) skipped.push(`${entry.name} is a symlink - not uploaded`);
    else if (keep && entry.isFile()) files.push(entry.name);
    else if (entry.name === "lightning_logs" && entry.isDirectory()) collectFiles(dir, "lightning_logs", files, skipped);
  }
  return files.sort();
}

function collectFiles(dir: string, relative: string, files: string[], skipped: string[]): void {
  for (const entry of visibleEntries(join(dir, relative))) {
    const path = `${relative}/${entry.name}`;
    if (entry.isSymbolicLink()) skipped.push(`${path} is a symlink - not uploaded`);
    else if (entry.isDirectory()) collectFiles(dir, path, files, skipped);
    else if (entry.isFile()) files.push(path);
  }
}

function openedPath(fd: number, fallback: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return fallback;
  }
}

function outsideNote(path: string, name: string): string {
  return isSymlink(path) ? `${name} is a symlink outside the run folder - skipped` : `${name} is behind a symlinked folder outside the run folder - skipped`;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function isSymlinkedFolder(parent: string, entry: Dirent): boolean {
  if (!entry.isSymbolicLink()) return false;
  try {
    return lstatSync(realpathSync(join(parent, entry.name))).isDirectory();
  } catch {
    return false;
  }
}

function collectMtimes(dir: string, times: { oldest: number; newest: number }): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      collectMtimes(path, times);
      continue;
    }
    const mtime = Math.floor(lstatSync(path).mtimeMs);
    times.oldest = Math.min(times.oldest, mtime);
    times.newest = Math.max(times.newest, mtime);
  }
}

function visibleEntries(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith("."))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const versionOf = (folder: string) => Number(folder.match(/(\d+)$/)?.[1] ?? Number.MAX_SAFE_INTEGER);
