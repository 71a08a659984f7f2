/**
 * One migration per root at a time. The lock file holds the holder's pid, host and start time and
 * appears with that content in one step: it is written to a unique file created with O_EXCL, then
 * link()ed to the lock's name, which fails with EEXIST exactly like O_EXCL, so no reader ever sees
 * an empty or half-written lock.
 *
 * A lock whose holder is gone (same host, pid not alive) is taken over without ever allowing two
 * holders. The takeover of that lock file (identified by its inode) is claimed by creating
 * `<lock>.takeover-<inode>` with O_EXCL; the one claimant re-reads the lock, checks it is still that
 * stale file, and only then renames its own lock over it. Nothing else can change a stale lock (its
 * holder is dead, a normal acquire only creates an absent one, and a claim is exclusive), so it is
 * still the checked file when the rename lands.
 */
import { randomUUID } from "node:crypto";
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import type { ConfinedRoot } from "./confine.js";

export const LOCK_FILE = ".kdgat-migrate.lock";
const ATTEMPTS = 200;
const CLAIM_WAIT_MS = 5;

interface Holder {
  pid: number;
  host: string;
  started: string;
}

type LockState = { kind: "absent" } | { kind: "unreadable"; reason: string } | { kind: "held"; holder: Holder; inode: number; text: string };

export function acquireLock(root: ConfinedRoot): () => void {
  const path = root.path(LOCK_FILE);
  const text = `${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() } satisfies Holder)}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusive(path, text, (temporary) => linkSync(temporary, path))) return () => release(path, text);
    const state = readLock(path);
    if (state.kind === "absent") continue;
    if (state.kind === "unreadable") throw new Error(`the lock ${path} ${state.reason}: remove it if no kdgat migrate is working on this root`);
    const { holder } = state;
    if (!isStale(holder)) {
      const where = holder.host === hostname() ? "" : ` on ${holder.host}`;
      throw new Error(`another kdgat migrate (pid ${holder.pid}${where}, since ${holder.started}) is working on this root (${path})`);
    }
    if (takeOver(path, state.inode, text)) return () => release(path, text);
    sleep(CLAIM_WAIT_MS);
  }
  throw new Error(`could not take the lock ${path}: a takeover of a stale lock seems interrupted; remove ${path}.takeover-* if no kdgat migrate is running`);
}

/** Claims the takeover of the stale lock with this inode; true when this process now holds the lock. */
function takeOver(path: string, inode: number, text: string): boolean {
  const claim = `${path}.takeover-${inode}`;
  try {
    closeSync(openSync(claim, "wx", 0o644));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    const now = readLock(path);
    if (now.kind !== "held" || now.inode !== inode || !isStale(now.holder)) return false;
    return createExclusive(path, text, (temporary) => renameSync(temporary, path));
  } finally {
    rmSync(claim, { force: true });
  }
}

/** Writes text to a unique O_EXCL file next to path and publishes it with `publish`; false on EEXIST. */
function createExclusive(path: string, text: string, publish: (temporary: string) => void): boolean {
  const temporary = `${path}.${process.pid}.${randomUUID()}`;
  const fd = openSync(temporary, "wx", 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    publish(temporary);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function readLock(path: string): LockState {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "absent" };
    if (code === "ELOOP") return { kind: "unreadable", reason: "is a symlink" };
    throw error;
  }
  try {
    const inode = fstatSync(fd).ino;
    const text = readFileSync(fd, "utf8");
    const holder = parseHolder(text);
    return holder ? { kind: "held", holder, inode, text } : { kind: "unreadable", reason: "holds no pid, host and start time" };
  } finally {
    closeSync(fd);
  }
}

/** {pid, host, started}; a bare pid is a lock written by an older kdgat on this host. */
function parseHolder(text: string): Holder | undefined {
  if (/^\d+\s*$/.test(text)) return { pid: Number(text), host: hostname(), started: "an unknown time" };
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (Number.isSafeInteger(value.pid) && value.pid! > 0 && typeof value.host === "string" && typeof value.started === "string") return value as Holder;
  } catch {
    // Not JSON: unreadable.
  }
  return undefined;
}

/** Only a holder on this host can be checked; one elsewhere is taken as alive. */
function isStale(holder: Holder): boolean {
  return holder.host === hostname() && !isAlive(holder.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the lock if it is still this process's (it always is: a live lock is never taken over). */
function release(path: string, text: string): void {
  const state = readLock(path);
  if (state.kind === "held" && state.text === text) rmSync(path, { force: true });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
