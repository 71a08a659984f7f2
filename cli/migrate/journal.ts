/**
 * The migration journal: append-only JSON lines under the root. An "intent" is written and fsynced
 * before a folder moves and "done" after, so a run killed at any point can be finished (--execute)
 * or undone (--rollback) by looking at which side of each open intent exists. Paths are relative
 * to the root, so the root may be given relative or absolute, or be moved. A completed rollback
 * removes it: one journal per migration, never a history that grows with each cycle.
 */
import { closeSync, constants, fsyncSync, openSync, readFileSync, truncateSync, unlinkSync, writeSync } from "node:fs";
import { excerpt } from "../../functions/domain/excerpt.js";
import { type ConfinedRoot, lexicalProblem } from "./confine.js";
import { step } from "./crash-hook.js";
import { lexists } from "./move-folder.js";
import type { Times } from "./times.js";

export const JOURNAL_FILE = ".kdgat-migrate-journal.jsonl";

export type MoveState = "intent" | "done" | "failed" | "undo-intent" | "undone";

export type JournalRecord =
  | { op: "intent"; id: number; from: string; to: string }
  | { op: Exclude<MoveState, "intent">; id: number }
  /** A new-layout dataset folder the migration created (rollback removes it when empty). */
  | { op: "mkdir"; path: string }
  /** An old-layout folder emptied by the moves, written before it is removed (rollback recreates it). */
  | { op: "rmdir"; path: string; mode: number }
  /**
   * A folder's times before the migration first changed its entries (the root's when path is
   * absent), written before that change; rollback sets them back once everything is in place.
   */
  | ({ op: "times"; path?: string } & Times);

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

  static exists(root: ConfinedRoot): boolean {
    return lexists(root.path(JOURNAL_FILE));
  }

  /**
   * The records on disk, without opening for writing (for --dry-run). Throws, before anything is
   * done, when an entry is malformed or names a path that is not confined to the root.
   */
  static read(root: ConfinedRoot): JournalRecord[] {
    const path = root.path(JOURNAL_FILE);
    const text = readJournal(path) ?? "";
    return parseRecords(path, text.slice(0, text.lastIndexOf("\n") + 1), root);
  }

  static open(root: ConfinedRoot): Journal {
    const path = root.path(JOURNAL_FILE);
    const text = readJournal(path) ?? "";
    // A crash (or a full disk) can leave the last line torn: it was never acted on, drop it.
    const end = text.lastIndexOf("\n") + 1;
    const records = parseRecords(path, text.slice(0, end), root);
    if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    if (!text) fsyncDirectory(root.real);
    return new Journal(path, fd, records);
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

  /**
   * After a complete rollback nothing is left to finish or undo: the journal goes, so the root is
   * as it was, nothing piles up over migrate/rollback cycles, and a later run starts afresh.
   */
  remove(): void {
    this.close();
    unlinkSync(this.path);
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

/** The journal's text, undefined when there is none; a journal that is a symlink is refused (never followed). */
function readJournal(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new Error(`the migration journal ${path} is a symlink: refused (never followed)`);
    throw error;
  }
  try {
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

const MOVE_STATES: ReadonlySet<string> = new Set<MoveState>(["done", "failed", "undo-intent", "undone"]);

/**
 * Every line checked before any is acted on: a record of a known shape whose paths are confined to
 * the root. One bad line refuses the whole journal, naming the file, the line and a short excerpt.
 */
function parseRecords(path: string, text: string, root: ConfinedRoot): JournalRecord[] {
  const records: JournalRecord[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    // The message quotes the line raw; the output layer makes it terminal-safe where it is printed.
    const refuse = (problem: string) => new Error(`the migration journal ${path}, line ${index + 1}: ${problem}; refused, nothing was changed: ${excerpt(line)}`);
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw refuse("not a JSON record");
    }
    const problem = recordProblem(record);
    if (problem) throw refuse(problem);
    for (const relative of pathsOf(record as JournalRecord)) {
      try {
        root.path(relative);
      } catch (error) {
        throw refuse((error as Error).message);
      }
    }
    records.push(record as JournalRecord);
  });
  return records;
}

function recordProblem(record: unknown): string | undefined {
  if (typeof record !== "object" || record === null) return "not a record";
  const r = record as Record<string, unknown>;
  const badId = !Number.isSafeInteger(r.id) || (r.id as number) < 1;
  const badPath = (key: string) => {
    const problem = lexicalProblem(r[key]);
    return problem ? `'${key}' is not a path confined to the root (${problem})` : undefined;
  };
  switch (r.op) {
    case "intent":
      return badId ? "bad id" : (badPath("from") ?? badPath("to"));
    case "mkdir":
      return badPath("path");
    case "rmdir":
      if (!Number.isSafeInteger(r.mode) || (r.mode as number) < 0 || (r.mode as number) > 0o7777) return "bad mode";
      return badPath("path");
    case "times":
      if (![r.atimeUs, r.mtimeUs].every((t) => Number.isSafeInteger(t) && (t as number) >= 0)) return "bad times";
      return r.path === undefined ? undefined : badPath("path");
    default:
      return typeof r.op === "string" && MOVE_STATES.has(r.op) ? (badId ? "bad id" : undefined) : "unknown op";
  }
}

function pathsOf(record: JournalRecord): string[] {
  if (record.op === "intent") return [record.from, record.to];
  return "path" in record && record.path !== undefined ? [record.path] : [];
}

function fsyncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
