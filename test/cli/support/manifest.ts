/** A file manifest to compare trees exactly: paths, types, sizes, SHA-256, modes, symlink targets, mtimes. */
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Bookkeeping of kdgat migrate itself, not user data. */
const IGNORED = /^\.kdgat-migrate/;

/**
 * path -> description. Folder mtimes are left out: moving anything in or out of a folder changes its
 * mtime, as any `mv` does; files and symlinks keep theirs (compared to the millisecond).
 */
export function manifest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  walk(root, "", out);
  return out;
}

function walk(dir: string, rel: string, out: Record<string, string>): void {
  for (const name of readdirSync(dir).sort()) {
    if (rel === "" && IGNORED.test(name)) continue;
    const path = join(dir, name);
    const key = rel ? `${rel}/${name}` : name;
    const stat = lstatSync(path);
    const mode = (stat.mode & 0o7777).toString(8);
    const mtime = Math.round(stat.mtimeMs);
    if (stat.isDirectory()) {
      out[key] = `dir ${mode}`;
      walk(path, key, out);
    } else if (stat.isSymbolicLink()) {
      out[key] = `link -> ${readlinkSync(path)} ${mtime}`;
    } else {
      out[key] = `file ${stat.size} ${mode} ${mtime} ${hashFile(path)}`;
    }
  }
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
