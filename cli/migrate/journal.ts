/**
 * The migration journal: append-only JSON lines under the root. An "intent" is written and fsynced
 * before a folder moves and "done" after, so a run killed at any point can be finished (--execute)
 * or undone (--rollback) by looking at which side of each open intent exists. Paths are relative
 * to the root, so the root may be given relative or absolute, or be moved.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import { step } from "./crash-hook.js";

export const JOURNAL_FILE = ".kdgat-migrate-journal.jsonl";
const LOCK_FILE = ".kdgat-migrate.lock";

export type MoveState = "intent" | "done" | "failed" | "undo-intent" | "undone";

export type JournalRecord =
  | { op: "intent"; id: number; from: string; to: string }
  | { op: Exclude<MoveState, "intent">; id: number }
  /** A new-layout dataset folder the migration created (rollback removes it when empty). */
  | { op: "mkdir"; path: string }
  /** An old-layout folder emptied by the moves, written before it is removed (rollback recreates it). */
  | { op: "rmdir"; path: string; mode: number };

export interface JournaledMove {
  id: number;
  from: string;
  to: string;
  state: MoveState;
}

export class Journal {
  private constructor(
    readonly path: string,
    private fd: number,
    readonly records: JournalRecord[],
  ) {}

  static pathIn(root: string): string {
    return join(root, JOURNAL_FILE);
  }

  /** The records on disk, without opening for writing (for --dry-run). */
  static read(root: string): JournalRecord[] {
    const path = Journal.pathIn(root);
    return existsSync(path) ? parseRecords(readFileSync(path, "utf8")) : [];
  }

  static open(root: string): Journal {
    const path = Journal.pathIn(root);
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    // A crash (or a full disk) can leave the last line torn: it was never acted on, drop it.
    const end = text.lastIndexOf("\n") + 1;
    if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
    const fd = openSync(path, "a", 0o644);
    if (!text) fsyncDirectory(root);
    return new Journal(path, fd, parseRecords(text.slice(0, end)));
  }

  /** Every move with its latest state, in journal order. */
  moves(): Map<number, JournaledMove> {
    return foldMoves(this.records);
  }

  nextId(): number {
    let max = 0;
    for (const record of this.records) if ("id" in record && record.id > max) max = record.id;
    return max + 1;
  }

  /** Appends records in one write; durable only after sync(). */
  append(records: JournalRecord[]): void {
    if (records.length === 0) return;
    writeSync(this.fd, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    this.records.push(...records);
    step();
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** After a complete rollback the journal is kept, renamed, so that a later --execute starts afresh. */
  archive(): string {
    this.close();
    const archived = this.path.replace(/\.jsonl$/, `.rolled-back-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`);
    renameSync(this.path, archived);
    return archived;
  }
}

export function foldMoves(records: readonly JournalRecord[]): Map<number, JournaledMove> {
  const moves = new Map<number, JournaledMove>();
  for (const record of records) {
    if (record.op === "intent") moves.set(record.id, { id: record.id, from: record.from, to: record.to, state: "intent" });
    else if ("id" in record) {
      const move = moves.get(record.id);
      if (move) move.state = record.op;
    }
  }
  return moves;
}

function parseRecords(text: string): JournalRecord[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as JournalRecord);
}

function fsyncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One migration per root at a time; a lock left by a killed process (dead pid) is taken over. */
export function acquireLock(root: string): () => void {
  const path = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8"));
      if (pid > 0 && isAlive(pid)) throw new Error(`another kdgat migrate (pid ${pid}) is working on this root (${path})`);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
