/** What a new-layout run folder `<root>/{dataset}/{name}/` holds, as far as the tracker cares. */
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isValidSegment, OLD_LAYOUT_ROOT } from "../../functions/domain/index.js";

export interface RunFolder {
  runId: string;
  dir: string;
  configPath?: string;
  metricsJsonPath?: string;
  /** `lightning_logs/version_N/metrics.csv`, oldest version first. */
  metricsCsvPaths: string[];
  /** Oldest and newest file mtime (ms): when the run started and ended, as far as the disk knows. */
  startTime?: number;
  endTime?: number;
}

export interface SkippedFolder {
  path: string;
  reason: string;
}

/** Every `{dataset}/{name}` folder below root (hidden folders and automotive/ left out). */
export function findNewLayoutRuns(root: string): { runIds: string[]; skipped: SkippedFolder[] } {
  const runIds: string[] = [];
  const skipped: SkippedFolder[] = [];
  for (const dataset of visibleFolders(root)) {
    if (dataset === OLD_LAYOUT_ROOT) continue;
    for (const name of visibleFolders(join(root, dataset))) {
      if (isValidSegment(dataset) && isValidSegment(name)) runIds.push(`${dataset}/${name}`);
      else skipped.push({ path: `${dataset}/${name}`, reason: "not a valid run id (letters, digits, . _ - only)" });
    }
  }
  return { runIds, skipped };
}

export function readRunFolder(root: string, runId: string): RunFolder {
  const dir = join(root, runId);
  const file = (name: string) => (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const logs = join(dir, "lightning_logs");
  const metricsCsvPaths = existsSync(logs)
    ? visibleFolders(logs)
        .sort((a, b) => versionOf(a) - versionOf(b) || a.localeCompare(b))
        .map((version) => join(logs, version, "metrics.csv"))
        .filter((path) => existsSync(path))
    : [];
  const times = { oldest: Number.POSITIVE_INFINITY, newest: Number.NEGATIVE_INFINITY };
  collectMtimes(dir, times);
  return {
    runId,
    dir,
    configPath: file("config.json"),
    metricsJsonPath: file("metrics.json"),
    metricsCsvPaths,
    ...(Number.isFinite(times.oldest) ? { startTime: times.oldest, endTime: times.newest } : {}),
  };
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

function visibleFolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

const versionOf = (folder: string) => Number(folder.match(/(\d+)$/)?.[1] ?? Number.MAX_SAFE_INTEGER);
