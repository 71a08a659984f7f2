/**
 * Moving one run folder with everything in it. On one filesystem: a single rename. Across
 * filesystems (EXDEV): copy into a hidden partial folder next to the target (modes, mtimes,
 * symlinks as links, holes of sparse files kept), verify it against the source (structure, modes,
 * sizes, link targets, SHA-256 of every file), rename it into place, then remove the source.
 * Every state a crash can leave is recognised by finishMove().
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { step } from "./crash-hook.js";
import { timesOf, utimesArgs } from "./times.js";

export const PARTIAL_SUFFIX = ".kdgat-partial";

/** KDGAT_MIGRATE_FORCE_COPY=1 treats every rename as crossing filesystems (tests the copy path on one disk). */
export const FORCE_COPY = process.env.KDGAT_MIGRATE_FORCE_COPY === "1";

export function partialPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}${PARTIAL_SUFFIX}`);
}

/** True when something (even a dangling symlink) is at the path. */
export function lexists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Moves src to dst, which must not exist. */
export function moveFolder(src: string, dst: string): void {
  if (!FORCE_COPY) {
    try {
      renameSync(src, dst);
      step();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    }
  }
  const partial = partialPathOf(dst);
  rmSync(partial, { recursive: true, force: true });
  try {
    const hashes = new Map<string, string>();
    copyTree(src, partial, "", hashes);
    verifyCopy(src, partial, "", hashes);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  renameSync(partial, dst);
  step();
  removeTree(src);
}

/**
 * Brings an interrupted move (its intent journaled, maybe partly done) to its end:
 * only src -> move it; only dst -> it was moved; both -> a verified copy is in place and removing
 * the source was cut short (checked: what is left of src is all in dst) -> finish removing.
 */
export function finishMove(src: string, dst: string): void {
  rmSync(partialPathOf(dst), { recursive: true, force: true });
  const hasSrc = lexists(src);
  const hasDst = lexists(dst);
  if (hasSrc && !hasDst) {
    // Killed between journaling the batch and creating its folders: the parent may be missing.
    mkdirSync(dirname(dst), { recursive: true });
    moveFolder(src, dst);
    return;
  }
  if (!hasSrc && hasDst) return;
  if (!hasSrc && !hasDst) throw new Error(`neither ${src} nor ${dst} exists`);
  assertContainedIn(src, dst);
  removeTree(src);
}

function copyTree(src: string, dst: string, rel: string, hashes: Map<string, string>): void {
  const stat = lstatSync(src, { bigint: true });
  if (stat.isDirectory()) {
    mkdirSync(dst);
    for (const name of readdirSync(src)) copyTree(join(src, name), join(dst, name), join(rel, name), hashes);
    chmodSync(dst, Number(stat.mode & 0o7777n));
    utimesSync(dst, ...utimesArgs(timesOf(stat)));
  } else if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
    lutimesSync(dst, ...utimesArgs(timesOf(stat)));
  } else if (stat.isFile()) {
    hashes.set(rel, copyFileContents(src, dst, Number(stat.size)));
    chmodSync(dst, Number(stat.mode & 0o7777n));
    utimesSync(dst, ...utimesArgs(timesOf(stat)));
  } else {
    throw new Error(`${src} is neither a file, a folder nor a symlink: cannot move it across filesystems`);
  }
  step();
}

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/** Copies a file's bytes, leaving all-zero chunks as holes; returns the source's SHA-256. */
function copyFileContents(src: string, dst: string, size: number): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK);
  const input = openSync(src, "r");
  const output = openSync(dst, "wx", 0o600);
  try {
    for (let position = 0; position < size; ) {
      const n = readSync(input, buffer, 0, CHUNK, position);
      if (n === 0) throw new Error(`${src} shrank while it was being copied`);
      const chunk = buffer.subarray(0, n);
      hash.update(chunk);
      if (!chunk.equals(ZEROS.subarray(0, n))) writeSync(output, chunk, 0, n, position);
      position += n;
    }
    ftruncateSync(output, size);
    // The source is removed after this: the copy must be on disk first.
    fsyncSync(output);
  } finally {
    closeSync(input);
    closeSync(output);
  }
  return hash.digest("hex");
}

function hashFile(path: string): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, "r");
  try {
    for (let n = readSync(fd, buffer, 0, CHUNK, null); n > 0; n = readSync(fd, buffer, 0, CHUNK, null)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Throws unless dst holds exactly src's entries with the same types, modes, sizes, link targets and contents. */
function verifyCopy(src: string, dst: string, rel: string, hashes: Map<string, string>): void {
  const a = lstatSync(src);
  const b = lstatSync(dst);
  const differs = (what: string) => new Error(`copy of ${src} differs in ${what}; source left in place`);
  if (kindOf(a.mode) !== kindOf(b.mode)) throw differs("type");
  if (!a.isSymbolicLink() && (a.mode & 0o7777) !== (b.mode & 0o7777)) throw differs("mode");
  if (a.isDirectory()) {
    const names = readdirSync(src).sort();
    if (names.join("\0") !== readdirSync(dst).sort().join("\0")) throw differs("entries");
    for (const name of names) verifyCopy(join(src, name), join(dst, name), join(rel, name), hashes);
  } else if (a.isSymbolicLink()) {
    if (readlinkSync(src) !== readlinkSync(dst)) throw differs("link target");
  } else if (a.size !== b.size || hashFile(dst) !== hashes.get(rel)) {
    throw differs("content");
  }
}

/** Throws unless every entry left under src is in dst with the same type and size. */
function assertContainedIn(src: string, dst: string): void {
  const a = lstatSync(src);
  const b = lexists(dst) ? lstatSync(dst) : undefined;
  if (!b || kindOf(a.mode) !== kindOf(b.mode) || (a.isFile() && a.size !== b.size)) {
    throw new Error(`both ${src} and ${dst} exist and differ: left as they are`);
  }
  if (a.isDirectory()) for (const name of readdirSync(src)) assertContainedIn(join(src, name), join(dst, name));
}

/** Removes a tree entry by entry (each one a crash point). */
function removeTree(path: string): void {
  if (lstatSync(path).isDirectory()) {
    for (const name of readdirSync(path)) removeTree(join(path, name));
    rmdirSync(path);
  } else {
    unlinkSync(path);
  }
  step();
}

const kindOf = (mode: number) => mode & 0o170000;
