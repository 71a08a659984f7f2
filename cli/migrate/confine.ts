/**
 * The one gate between `kdgat migrate` and the filesystem: every path it reads, writes, moves or
 * deletes is a root-relative path turned absolute here, and only when it stays inside the root.
 * A relative path must be plain (`/`-separated names, no `..`, `.`, empty names, NUL, no leading
 * `/`), and no folder on the way to it may be a symlink, so the real path of its existing parent
 * is inside the real root and nothing reaches outside through a link. The last name may be a
 * symlink: migrate only ever lstats, renames or unlinks it, never follows it.
 */
import { lstatSync, realpathSync } from "node:fs";
import { join, relative as relativePath, sep } from "node:path";

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

  constructor(root: string) {
    this.real = realpathSync(root);
  }

  /** The absolute path of `relative`, or a PathOutsideRoot saying why it is not inside the root. */
  path(relative: string): string {
    const problem = lexicalProblem(relative) ?? this.symlinkOnTheWay(relative);
    if (problem) throw new PathOutsideRoot(`path ${JSON.stringify(relative)} is not confined to the root: ${problem}`);
    return join(this.real, relative);
  }

  /** The root-relative form of an absolute path below the root (for messages and the journal). */
  relative(absolute: string): string {
    return relativePath(this.real, absolute).split(sep).join("/");
  }

  /** True when an absolute path is the root or below it (lexically). */
  contains(absolute: string): boolean {
    return absolute === this.real || absolute.startsWith(this.real + sep);
  }

  private symlinkOnTheWay(relative: string): string | undefined {
    const segments = relative.split("/");
    let dir = this.real;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      const stat = lstatOrUndefined(dir);
      if (!stat) return undefined;
      if (stat.isSymbolicLink()) return `${this.relative(dir)} is a symlink (never followed)`;
    }
    return undefined;
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}
