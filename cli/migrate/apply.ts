/**
 * --execute and --rollback. Moves go in batches: the batch's intents are written and fsynced once,
 * the folders are moved, then their "done" records are written and fsynced. An intent without its
 * "done" is finished (or undone) from the state on disk, so the guarantee holds for any crash point
 * while a 10,000-run migration costs a few dozen fsyncs instead of 20,000.
 */
import { lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { chmod, mkdir, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { mapConcurrent } from "../concurrency.js";
import type { Progress } from "../progress.js";
import { step } from "./crash-hook.js";
import type { ConfinedRoot } from "./confine.js";
import { Journal, type JournaledMove, type JournalRecord } from "./journal.js";
import { acquireLock } from "./lock.js";
import { finishMove, lexists, moveFolder, partialPathOf } from "./move-folder.js";
import { planMigration, type PlanStatus } from "./plan.js";

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
      journal.append([...newDatasetDirs.map((dir) => ({ op: "mkdir" as const, path: dir })), ...intents]);
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
    const segments = from.split("/");
    for (let depth = segments.length - 1; depth > 1; depth--) {
      const dir = segments.slice(0, depth).join("/");
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
 * side), and the dataset folders the migration created are removed when empty. Every part is
 * idempotent, so a killed rollback is finished by running it again. When everything is back, the
 * journal is archived.
 */
export async function rollbackMigration(root: ConfinedRoot, options: ApplyOptions = {}): Promise<{ results: FolderResult[]; archived?: string }> {
  const release = acquireLock(root);
  const path = (relative: string) => root.path(relative);
  const results: FolderResult[] = [];
  try {
    const journal = Journal.open(root);
    const removedByDepth = new Map<number, Array<{ path: string; mode: number }>>();
    for (const record of journal.records) {
      if (record.op !== "rmdir") continue;
      const depth = record.path.split("/").length;
      if (!removedByDepth.has(depth)) removedByDepth.set(depth, []);
      removedByDepth.get(depth)!.push(record);
    }
    for (const depth of [...removedByDepth.keys()].sort((a, b) => a - b)) {
      await mapConcurrent(removedByDepth.get(depth)!, PARALLEL_FS_CALLS, async (dir) => {
        if (lexists(path(dir.path))) return;
        await mkdir(path(dir.path), { recursive: true });
        await chmod(path(dir.path), dir.mode);
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
    const created = journal.records.flatMap((r) => (r.op === "mkdir" ? [path(r.path)] : []));
    await mapConcurrent(created, PARALLEL_FS_CALLS, async (dir) => {
      if (isEmptyFolder(dir)) await rmdir(dir);
    });
    if (results.some((r) => r.status === "failed")) return { results };
    return { results, archived: journal.archive() };
  } finally {
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

/** A real folder (not a symlink to one) with nothing in it. */
function isEmptyFolder(path: string): boolean {
  return lexists(path) && lstatSync(path).isDirectory() && readdirSync(path).length === 0;
}
