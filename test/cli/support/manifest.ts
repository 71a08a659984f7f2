/** A file manifest to compare trees exactly: paths, types, sizes, SHA-256, modes, symlink targets, mtimes. */
import { createHash } from "node:crypto";
import { type BigIntStats, closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";

/** Bookkeeping of kdgat migrate itself, not user data. */
const IGNORED = /^\.kdgat-migrate/;

/**
 * path -> description. By default folder mtimes are left out (moving anything in or out of a folder
 * changes its mtime, as any `mv` does) and so is migrate's bookkeeping; files and symlinks keep
 * their mtimes (compared to the millisecond). `exact` compares the tree as a rollback must leave it:
 * every mtime to the microsecond (what utimes can set), folders' and the root's own included, and
 * every entry of the root, bookkeeping included (after a rollback there must be none).
 */
export function manifest(root: string, options: { exact?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  if (options.exact) out["."] = `dir ${describeTimes(lstatSync(root, { bigint: true }).mtimeNs, true)}`;
  walk(root, "", out, options.exact ?? false);
  return out;
}

function describeTimes(mtimeNs: bigint, exact: boolean): string {
  return exact ? `${mtimeNs / 1000n}us` : String(Math.round(Number(mtimeNs / 1000n) / 1000));
}

function walk(dir: string, rel: string, out: Record<string, string>, exact: boolean): void {
  for (const name of readdirSync(dir).sort()) {
    if (rel === "" && !exact && IGNORED.test(name)) continue;
    const path = join(dir, name);
    const key = rel ? `${rel}/${name}` : name;
    const stat = lstatSync(path, { bigint: true });
    const mode = (Number(stat.mode) & 0o7777).toString(8);
    const mtime = describeTimes(stat.mtimeNs, exact);
    if (stat.isDirectory()) {
      out[key] = exact ? `dir ${mode} ${mtime}` : `dir ${mode}`;
      walk(path, key, out, exact);
    } else if (stat.isSymbolicLink()) {
      out[key] = `link -> ${readlinkSync(path)} ${mtime}`;
    } else {
      out[key] = `file ${stat.size} ${mode} ${mtime} ${hashOf(path, stat)}`;
    }
  }
}

/**
 * Hashes of large files already read, by inode and times: a write changes ctime, which no utimes can
 * set back, so an unchanged key means unchanged bytes (a test's 2 GB checkpoint is read once, not per
 * manifest). Small files are read every time.
 */
const hashes = new Map<string, string>();
const CACHED_FROM_BYTES = 64n * 1024n * 1024n;

function hashOf(path: string, stat: BigIntStats): string {
  if (stat.size < CACHED_FROM_BYTES) return hashFile(path);
  const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  const known = hashes.get(key);
  if (known !== undefined) return known;
  const hash = hashFile(path);
  hashes.set(key, hash);
  return hash;
}

function hashFile(path: string): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = openSync(path, "r");
  try {
    for (let n = readSync(fd, buffer, 0, buffer.length, null); n > 0; n = readSync(fd, buffer, 0, buffer.length, null)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Where each path of the old tree ends up when its run folder moves to its run id. */
export function relocate(before: Record<string, string>, moves: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, description] of Object.entries(before)) {
    const from = Object.keys(moves).find((f) => path === f || path.startsWith(`${f}/`));
    out[from ? moves[from] + path.slice(from.length) : path] = description;
  }
  return out;
}
