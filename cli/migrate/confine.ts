/**
 * The one gate between `kdgat migrate` and the filesystem: every path it reads, writes, moves or
 * deletes is a root-relative path turned absolute here, and only when it stays inside the root.
 * A relative path must be plain (`/`-separated names, no `..`, `.`, empty names, NUL, no leading
 * `/`), and no folder on the way to it may be a symlink, so the real path of its existing parent
 * is inside the real root and nothing reaches outside through a link. The last name may be a
 * symlink: migrate only ever lstats, renames or unlinks it, never follows it. A folder found to be
 * a real folder is remembered for the rest of the run (one lstat per folder, not per path).
 */
import { type Dirent, lstatSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join, relative as relativePath, sep } from "node:path";

export class PathOutsideRoot extends Error {}

/** Why a root-relative path is not plain, or undefined when it is. */
export function lexicalProblem(relative: unknown): string | undefined {
  if (typeof relative !== "string") return "not a string";
  if (relative === "") return "empty";
  if (relative.includes("\0")) return "contains a NUL";
  if (relative.startsWith("/")) return "absolute";
  const segments = relative.split("/");
  if (segments.includes("..")) return "has a '..' segment";
  if (segments.some((segment) => segment === "" || segment === ".")) return "has an empty or '.' segment";
  return undefined;
}

export class ConfinedRoot {
  /** The root's real path: every absolute path handed out is below it. */
  readonly real: string;
  private readonly realFolders = new Set<string>();

  constructor(root: string) {
    this.real = realpathSync(root);
  }

  /** The absolute path of `relative`, or a PathOutsideRoot saying why it is not inside the root. */
  path(relative: string): string {
    const problem = lexicalProblem(relative) ?? this.symlinkOnTheWay(relative);
    if (problem) throw new PathOutsideRoot(`path ${JSON.stringify(relative)} is not confined to the root: ${problem}`);
    return join(this.real, relative);
  }

  /** The entries of a real folder of the root (never a symlink's), sorted by name; the real folders among them are remembered. */
  list(relative: string): Dirent[] {
    const dir = this.path(relative);
    if (!this.realFolders.has(dir) && !lstatSync(dir).isDirectory()) throw new PathOutsideRoot(`${relative} is not a folder: not listed (a symlink is never followed)`);
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.realFolders.add(dir);
    for (const entry of entries) if (entry.isDirectory()) this.realFolders.add(join(dir, entry.name));
    return entries;
  }

  /** The root-relative form of an absolute path below the root (for messages and the journal). */
  relative(absolute: string): string {
    return relativePath(this.real, absolute).split(sep).join("/");
  }

  /** True when an absolute path is the root or below it (lexically). */
  contains(absolute: string): boolean {
    return absolute === this.real || absolute.startsWith(this.real + sep);
  }

  /** Checks the folders on the way to the path, from the deepest one already known to be real downwards. */
  private symlinkOnTheWay(relative: string): string | undefined {
    const unchecked: string[] = [];
    for (let dir = dirname(join(this.real, relative)); dir !== this.real && !this.realFolders.has(dir); dir = dirname(dir)) unchecked.push(dir);
    for (const dir of unchecked.reverse()) {
      const stat = lstatOrUndefined(dir);
      if (!stat) return undefined;
      if (stat.isSymbolicLink()) return `${this.relative(dir)} is a symlink (never followed)`;
      if (!stat.isDirectory()) return undefined;
      this.realFolders.add(dir);
    }
    return undefined;
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}
