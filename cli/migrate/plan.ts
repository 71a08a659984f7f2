/**
 * Finding the old-layout run folders and deciding, for each, what a migration does with it.
 * A run folder is a folder exactly OLD_LAYOUT_DEPTH levels below `automotive/` that holds at least
 * one file anywhere beneath it (not only runs that have a best_model.pt).
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { mapOldLayout, OLD_LAYOUT_DEPTH, OLD_LAYOUT_ROOT, type OldLayoutMapping } from "../../functions/domain/index.js";
import { lexists, PARTIAL_SUFFIX } from "./move-folder.js";

export type PlanStatus = "move" | "target-exists" | "duplicate" | "unmappable";

export interface PlanEntry {
  /** Old folder, relative to the root, `/`-separated: `automotive/hcrl_sa/teacher/...`. */
  from: string;
  /** The new run id and folder (relative to the root), when it could be computed. */
  to: string | null;
  status: PlanStatus;
  reason?: string;
}

export function planMigration(root: string): PlanEntry[] {
  const mapped = findOldRunFolders(root).map((segments) => ({ from: [OLD_LAYOUT_ROOT, ...segments].join("/"), mapping: mapOldLayout(segments) }));
  return classify(root, mapped);
}

/** Decides each mapped folder's fate: unmappable, one of several sources of a run id, target taken, or move. */
export function classify(root: string, mapped: ReadonlyArray<{ from: string; mapping: OldLayoutMapping }>): PlanEntry[] {
  const sources = new Map<string, string[]>();
  for (const { from, mapping } of mapped) {
    if (mapping.ok) sources.set(mapping.runId, [...(sources.get(mapping.runId) ?? []), from]);
  }
  return mapped.map(({ from, mapping }): PlanEntry => {
    if (!mapping.ok) return { from, to: null, status: "unmappable", reason: `could not compute new path: ${mapping.reason}` };
    const to = mapping.runId;
    if (mapping.parts.dataset === OLD_LAYOUT_ROOT) {
      return { from, to: null, status: "unmappable", reason: `could not compute new path: dataset '${OLD_LAYOUT_ROOT}' would land inside the old tree` };
    }
    const others = sources.get(to)!.filter((other) => other !== from);
    if (others.length > 0) {
      return { from, to, status: "duplicate", reason: `${others.join(", ")} maps to the same run id (both left in place)` };
    }
    if (lexists(join(root, to))) return { from, to, status: "target-exists", reason: "target already exists (never overwritten, never merged)" };
    return { from, to, status: "move" };
  });
}

/** The segments below `automotive/` of every old run folder, in sorted order. */
export function findOldRunFolders(root: string): string[][] {
  const found: string[][] = [];
  const base = join(root, OLD_LAYOUT_ROOT);
  if (lexists(base) && lstatSync(base).isDirectory()) walk(base, [], found);
  return found;
}

function walk(dir: string, segments: string[], found: string[][]): void {
  if (segments.length === OLD_LAYOUT_DEPTH) {
    if (holdsFile(dir)) found.push(segments);
    return;
  }
  for (const name of subfolders(dir)) {
    // A copy interrupted by a crash during a rollback; finishing or rolling back cleans it up.
    if (name.endsWith(PARTIAL_SUFFIX)) continue;
    walk(join(dir, name), [...segments, name], found);
  }
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** True when anything that is not a folder (a file, a symlink, ...) is somewhere beneath dir. */
function holdsFile(dir: string): boolean {
  const entries = readdirSync(dir, { withFileTypes: true });
  return entries.some((entry) => !entry.isDirectory()) || entries.some((entry) => holdsFile(join(dir, entry.name)));
}
