/**
 * --execute and --rollback. Moves go in batches: the batch's intents are written and fsynced once,
 * the folders are moved, then their "done" records are written and fsynced. An intent without its
 * "done" is finished (or undone) from the state on disk, so the guarantee holds for any crash point
 * while a 10,000-run migration costs a few dozen fsyncs instead of 20,000. Moving entries in or out
 * of a folder changes its mtime, so each folder's times are journaled with the first intent that
 * changes it, and a rollback sets them back: the tree is as it was, folder mtimes included.
 */
import { lstatSync, lutimesSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { chmod, mkdir, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { mapConcurrent } from "../../functions/domain/concurrency.js";
import type { Progress } from "../progress.js";
import type { ConfinedRoot } from "./confine.js";
import { step } from "./crash-hook.js";
import { Journal, type JournaledMove, type JournalRecord } from "./journal.js";
import { acquireLock } from "./lock.js";
import { finishMove, lexists, moveFolder, partialPathOf } from "./move-folder.js";
import { type PlanStatus, planMigration } from "./plan.js";
import { type Times, timesAt, timesOf, utimesArgs } from "./times.js";

const BATCH_SIZE = 500;
const PARALLEL_FS_CALLS = 8;

export type FolderStatus = PlanStatus | "moved" | "restored" | "failed";

export interface FolderResult {
  from: string;
  to: string | null;
  status: FolderStatus;
  reason?: string;
}

export interface ApplyOptions {
  progress?: (total: number) => Progress;
  /** Called with the run ids of each batch once it is moved and journaled (--backfill). */
  onMoved?: (runIds: string[]) => Promise<void>;
}

const noProgress: Progress = { increment() {}, stop() {} };

export async function executeMigration(root: ConfinedRoot, options: ApplyOptions = {}): Promise<FolderResult[]> {
  // Taken before the lock file and the journal change the root's entries.
  const rootTimes = timesAt(root.real);
  const release = acquireLock(root);
  let journal: Journal;
  try {
    journal = Journal.open(root);
  } catch (error) {
    release();
    throw error;
  }
  const path = (relative: string) => root.path(relative);
  try {
    const open = [...journal.moves().values()];
    if (open.some((move) => move.state === "undo-intent")) {
      throw new Error("a rollback was interrupted: run --rollback again to finish it before executing");
    }
    const results: FolderResult[] = [];
    const timed = foldersWithTimes(journal.records);
    if (!timed.has(ROOT)) {
      journal.append([{ op: "times", ...rootTimes }]);
      timed.add(ROOT);
    }

    // 1. Finish what a killed run left half done.
    const resumed = open.filter((move) => move.state === "intent");
    const outcomes: JournalRecord[] = [];
    for (const move of resumed) {
      try {
        finishMove(path(move.from), path(move.to));
        outcomes.push({ op: "done", id: move.id });
        results.push({ from: move.from, to: move.to, status: "moved", reason: "finished an interrupted move" });
      } catch (error) {
        results.push({ from: move.from, to: move.to, status: "failed", reason: (error as Error).message });
      }
    }
    journal.append(outcomes);
    journal.sync();
    if (resumed.length > 0) await options.onMoved?.(resumed.map((m) => m.to));

    // 2. Plan what is on disk now and move it batch by batch.
    const plan = planMigration(root);
    results.push(...plan.filter((entry) => entry.status !== "move"));
    const toMove = plan.filter((entry) => entry.status === "move");
    const progress = options.progress?.(toMove.length) ?? noProgress;
    for (let start = 0; start < toMove.length; start += BATCH_SIZE) {
      const batch = toMove.slice(start, start + BATCH_SIZE);
      const newDatasetDirs = [...new Set(batch.map((entry) => dirname(entry.to!)))].filter((dir) => !lexists(path(dir)));
      let id = journal.nextId();
      const intents = batch.map((entry) => ({ op: "intent" as const, id: id++, from: entry.from, to: entry.to! }));
      for (const dir of newDatasetDirs) timed.add(dir);
      const times = unjournaledTimes(
        root,
        batch.flatMap((entry) => [...ancestorsOf(entry.from), dirname(entry.to!)]),
        timed,
      );
      journal.append([...times, ...newDatasetDirs.map((dir) => ({ op: "mkdir" as const, path: dir })), ...intents]);
      journal.sync();
      await mapConcurrent(newDatasetDirs, PARALLEL_FS_CALLS, (dir) => mkdir(path(dir), { recursive: true }));
      const done: JournalRecord[] = [];
      const batchMoved: string[] = [];
      for (const intent of intents) {
        try {
          moveFolder(path(intent.from), path(intent.to));
          done.push({ op: "done", id: intent.id });
          results.push({ from: intent.from, to: intent.to, status: "moved" });
          batchMoved.push(intent.to);
        } catch (error) {
          // Close the intent only when nothing reached the target; otherwise the next --execute finishes it.
          if (!lexists(path(intent.to))) done.push({ op: "failed", id: intent.id });
          results.push({ from: intent.from, to: intent.to, status: "failed", reason: (error as Error).message });
        }
      }
      journal.append(done);
      journal.sync();
      progress.increment(batch.length);
      if (batchMoved.length > 0) await options.onMoved?.(batchMoved);
    }
    progress.stop();

    // 3. Remove the old folders the moves emptied (automotive/ itself is left for the user), also
    //    those of moves journaled as done before a crash.
    const allMoved = [...journal.moves().values()].filter((move) => move.state === "done").map((move) => move.from);
    await removeEmptiedFolders(root, allMoved, journal);
    return results;
  } finally {
    journal.close();
    release();
  }
}

/**
 * Deepest level first: one journal write + fsync per level, every folder recorded before it goes.
 * mkdir and rmdir are latency-bound on some filesystems (here ext4 mounted with discard: ~1-2 ms
 * each, 10x less when a few run in parallel), so each level's folders go a few at a time.
 */
async function removeEmptiedFolders(root: ConfinedRoot, movedFrom: string[], journal: Journal): Promise<void> {
  const levels = new Map<number, Set<string>>();
  for (const from of movedFrom) {
    for (const dir of ancestorsOf(from)) {
      const depth = depthOf(dir);
      if (depth < 2) continue;
      if (!levels.has(depth)) levels.set(depth, new Set());
      levels.get(depth)!.add(dir);
    }
  }
  for (const depth of [...levels.keys()].sort((a, b) => b - a)) {
    const empty = [...levels.get(depth)!].filter((dir) => isEmptyFolder(root.path(dir)));
    journal.append(empty.map((dir) => ({ op: "rmdir" as const, path: dir, mode: lstatSync(root.path(dir)).mode & 0o7777 })));
    journal.sync();
    await mapConcurrent(empty, PARALLEL_FS_CALLS, async (dir) => {
      await rmdir(root.path(dir));
      step();
    });
  }
}

/**
 * Undoes the journal: the folders the moves emptied are recreated (with their modes), moved
 * folders go back in reverse order (interrupted moves are first finished, so each has one clean
 * side), the dataset folders the migration created are removed when empty, and every journaled
 * folder gets its times back, deepest first. Every part is idempotent, so a killed rollback is
 * finished by running it again. When everything is back, the journal is removed (nothing is left
 * to finish or undo) and, last, the root gets its own times back: removing the journal and the
 * lock file are the root's last changes.
 */
export async function rollbackMigration(root: ConfinedRoot, options: ApplyOptions = {}): Promise<{ results: FolderResult[]; complete: boolean }> {
  const release = acquireLock(root);
  const path = (relative: string) => root.path(relative);
  const results: FolderResult[] = [];
  let journal: Journal | undefined;
  try {
    journal = Journal.open(root);
    // A migration resumed after an interrupted rollback journals some folders twice: each is handled once.
    const removed = new Map<string, number>();
    for (const record of journal.records) if (record.op === "rmdir" && !removed.has(record.path)) removed.set(record.path, record.mode);
    const removedByDepth = new Map<number, Array<{ path: string; mode: number }>>();
    for (const [dir, mode] of removed) {
      const depth = depthOf(dir);
      if (!removedByDepth.has(depth)) removedByDepth.set(depth, []);
      removedByDepth.get(depth)!.push({ path: dir, mode });
    }
    for (const depth of [...removedByDepth.keys()].sort((a, b) => a - b)) {
      await mapConcurrent(removedByDepth.get(depth)!, PARALLEL_FS_CALLS, async (dir) => {
        if (lexists(path(dir.path))) return;
        await mkdir(path(dir.path), { recursive: true });
        await chmod(path(dir.path), dir.mode);
        step();
      });
    }
    const toUndo = [...journal.moves().values()].filter((m) => m.state === "intent" || m.state === "done" || m.state === "undo-intent").reverse();
    const progress = options.progress?.(toUndo.length) ?? noProgress;
    for (let start = 0; start < toUndo.length; start += BATCH_SIZE) {
      const batch = toUndo.slice(start, start + BATCH_SIZE);
      undoBatch(batch, journal, path, results);
      progress.increment(batch.length);
    }
    progress.stop();
    const created = [...new Set(journal.records.flatMap((r) => (r.op === "mkdir" ? [path(r.path)] : [])))];
    await mapConcurrent(created, PARALLEL_FS_CALLS, async (dir) => {
      if (!isEmptyFolder(dir)) return;
      await rmdir(dir);
      step();
    });
    if (results.some((r) => r.status === "failed")) return { results, complete: false };

    const { folders, rootTimes } = journaledTimes(journal.records);
    for (const [dir, times] of [...folders].sort(([a], [b]) => depthOf(b) - depthOf(a))) {
      // Only a real folder: lutimes never follows a link put in its place.
      if (!lstatSync(path(dir), { throwIfNoEntry: false })?.isDirectory()) continue;
      lutimesSync(path(dir), ...utimesArgs(times));
      step();
    }
    journal.remove();
    journal = undefined;
    release();
    if (rootTimes) lutimesSync(root.real, ...utimesArgs(rootTimes));
    return { results, complete: true };
  } finally {
    journal?.close();
    release();
  }
}

function undoBatch(batch: JournaledMove[], journal: Journal, path: (relative: string) => string, results: FolderResult[]): void {
  if (batch.length === 0) return;
  const ready: JournaledMove[] = [];
  const undone: JournalRecord[] = [];
  for (const move of batch) {
    try {
      if (move.state === "intent") {
        rmSync(partialPathOf(path(move.to)), { recursive: true, force: true });
        if (lexists(path(move.from)) && !lexists(path(move.to))) {
          // Killed before anything moved: nothing to undo.
          undone.push({ op: "undone", id: move.id });
          results.push({ from: move.from, to: move.to, status: "restored" });
          continue;
        }
        finishMove(path(move.from), path(move.to));
      }
      // A fresh undo never overwrites: something at the old path again is a conflict.
      if (move.state !== "undo-intent" && lexists(path(move.from))) throw new Error(`${move.from} exists again: not overwritten`);
      ready.push(move);
    } catch (error) {
      results.push({ from: move.from, to: move.to, status: "failed", reason: (error as Error).message });
    }
  }
  journal.append(ready.filter((m) => m.state !== "undo-intent").map((m) => ({ op: "undo-intent" as const, id: m.id })));
  journal.sync();
  for (const move of ready) {
    try {
      mkdirSync(dirname(path(move.from)), { recursive: true });
      finishMove(path(move.to), path(move.from));
      undone.push({ op: "undone", id: move.id });
      results.push({ from: move.from, to: move.to, status: "restored" });
    } catch (error) {
      results.push({ from: move.from, to: move.to, status: "failed", reason: (error as Error).message });
    }
  }
  journal.append(undone);
  journal.sync();
}

/** The key of the root among journaled folders (a times record without a path). */
const ROOT = "";

const depthOf = (relative: string) => relative.split("/").length;

/** The folders above a root-relative path, nearest first, the root left out. */
function ancestorsOf(relative: string): string[] {
  const segments = relative.split("/");
  return segments.slice(1).map((_, i) => segments.slice(0, segments.length - 1 - i).join("/"));
}

/** Folders whose times a rollback does not need to read from disk: journaled with times, or created by the migration. */
function foldersWithTimes(records: readonly JournalRecord[]): Set<string> {
  const folders = new Set<string>();
  for (const record of records) {
    if (record.op === "times") folders.add(record.path ?? ROOT);
    else if (record.op === "mkdir") folders.add(record.path);
  }
  return folders;
}

/** Times records for the existing folders among `dirs` that are not in `timed` yet (then added to it). */
function unjournaledTimes(root: ConfinedRoot, dirs: readonly string[], timed: Set<string>): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const dir of dirs) {
    if (timed.has(dir)) continue;
    timed.add(dir);
    const stat = lstatSync(root.path(dir), { bigint: true, throwIfNoEntry: false });
    if (stat?.isDirectory()) records.push({ op: "times", path: dir, ...timesOf(stat) });
  }
  return records;
}

/** The first journaled times of each folder (the ones from before the migration), and the root's. */
function journaledTimes(records: readonly JournalRecord[]): { folders: Map<string, Times>; rootTimes?: Times } {
  const folders = new Map<string, Times>();
  let rootTimes: Times | undefined;
  for (const record of records) {
    if (record.op !== "times") continue;
    const times = { atimeUs: record.atimeUs, mtimeUs: record.mtimeUs };
    if (record.path === undefined) rootTimes ??= times;
    else if (!folders.has(record.path)) folders.set(record.path, times);
  }
  return { folders, rootTimes };
}

/** A real folder (not a symlink to one) with nothing in it. */
function isEmptyFolder(path: string): boolean {
  return lexists(path) && lstatSync(path).isDirectory() && readdirSync(path).length === 0;
}
