/**
 * Finding the old-layout run folders and deciding, for each, what a migration does with it.
 * A run folder is a folder exactly OLD_LAYOUT_DEPTH levels below `automotive/` that holds at least
 * one file anywhere beneath it (not only runs that have a best_model.pt). What sits at a layout
 * level and is not a folder is reported, never followed: a symlink or a file is left in place,
 * a hidden entry (`.ipynb_checkpoints`, `.DS_Store`) is ignored with a note.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { mapOldLayout, OLD_LAYOUT_DEPTH, OLD_LAYOUT_LEVELS, OLD_LAYOUT_ROOT, type OldLayoutMapping } from "../../functions/domain/layout.js";
import { type ConfinedRoot, PathOutsideRoot } from "./confine.js";
import { lexists, PARTIAL_SUFFIX } from "./move-folder.js";

export type PlanStatus = "move" | "target-exists" | "duplicate" | "unmappable" | "symlink" | "not-a-folder" | "ignored";

export interface PlanEntry {
  /** Old folder, relative to the root, `/`-separated: `automotive/hcrl_sa/teacher/...`. */
  from: string;
  /** The new run id and folder (relative to the root), when it could be computed. */
  to: string | null;
  status: PlanStatus;
  reason?: string;
}

/** A relative symlink in a run folder that would no longer point where it points today once moved. */
export interface LinkWarning {
  /** The link, relative to the root, where it is today. */
  link: string;
  target: string;
  reason: string;
}

export function planMigration(root: ConfinedRoot): PlanEntry[] {
  const { runs, others } = scanOldLayout(root);
  const mapped = runs.map((segments) => ({ from: [OLD_LAYOUT_ROOT, ...segments].join("/"), mapping: mapOldLayout(segments) }));
  return [...classify(root, mapped), ...others];
}

/** Decides each mapped folder's fate: unmappable, one of several sources of a run id, target taken, or move. */
export function classify(root: ConfinedRoot, mapped: ReadonlyArray<{ from: string; mapping: OldLayoutMapping }>): PlanEntry[] {
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
    const blocked = targetProblem(root, to);
    if (blocked) return { from, to, status: "target-exists", reason: blocked };
    return { from, to, status: "move" };
  });
}

/** Why the run cannot move to `to` (a new-layout `{dataset}/{name}`), or undefined when it can. */
function targetProblem(root: ConfinedRoot, to: string): string | undefined {
  const dataset = dirname(to);
  const stat = lstatSync(root.path(dataset), { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) return `${dataset} is a symlink where the dataset folder should be (never followed): left in place`;
  if (!stat.isDirectory()) return `${dataset} is a file where the dataset folder should be: left in place`;
  return lexists(root.path(to)) ? "target already exists (never overwritten, never merged)" : undefined;
}

/**
 * The segments below `automotive/` of every old run folder, in sorted order, and a report entry
 * for everything at a layout level that is not a folder to walk into.
 */
export function scanOldLayout(root: ConfinedRoot): { runs: string[][]; others: PlanEntry[] } {
  const found = { runs: [] as string[][], others: [] as PlanEntry[] };
  const base = root.path(OLD_LAYOUT_ROOT);
  if (!lexists(base)) return found;
  const stat = lstatSync(base);
  if (stat.isSymbolicLink()) found.others.push(skipped(OLD_LAYOUT_ROOT, "symlink", `a symlink where the ${OLD_LAYOUT_ROOT}/ folder should be: never followed, nothing in it migrated`));
  else if (stat.isDirectory()) walk(root, [], found);
  return found;
}

function walk(root: ConfinedRoot, segments: string[], found: { runs: string[][]; others: PlanEntry[] }): void {
  const dir = [OLD_LAYOUT_ROOT, ...segments].join("/");
  if (segments.length === OLD_LAYOUT_DEPTH) {
    if (holdsFile(root, dir)) found.runs.push(segments);
    return;
  }
  const level = OLD_LAYOUT_LEVELS[segments.length];
  for (const entry of root.list(dir)) {
    const from = [OLD_LAYOUT_ROOT, ...segments, entry.name].join("/");
    // A copy interrupted by a crash during a rollback; finishing or rolling back cleans it up.
    if (entry.isDirectory() && entry.name.endsWith(PARTIAL_SUFFIX)) continue;
    if (entry.name.startsWith(".")) found.others.push(skipped(from, "ignored", `hidden entry where a ${level} folder should be: not a run folder, ignored`));
    else if (entry.isSymbolicLink()) found.others.push(skipped(from, "symlink", `a symlink where a ${level} folder should be: never followed, left in place`));
    else if (entry.isDirectory()) walk(root, [...segments, entry.name], found);
    else found.others.push(skipped(from, "not-a-folder", `a file where a ${level} folder should be: left in place`));
  }
}

const skipped = (from: string, status: PlanStatus, reason: string): PlanEntry => ({ from, to: null, status, reason });

/** True when anything that is not a folder (a file, a symlink, ...) is somewhere beneath dir. */
function holdsFile(root: ConfinedRoot, dir: string): boolean {
  const entries = root.list(dir);
  return entries.some((entry) => !entry.isDirectory()) || entries.some((entry) => holdsFile(root, `${dir}/${entry.name}`));
}

/**
 * The relative symlinks inside the folders to move that would point elsewhere after the move: the
 * target, resolved from the new location, is not where the target of today ends up (a link that
 * leaves its run folder, or climbs out and back in under the old name). Links that already dangle
 * are left alone. Only link texts are read: no link is followed.
 */
export function linksThatWouldBreak(root: ConfinedRoot, plan: readonly PlanEntry[]): LinkWarning[] {
  const warnings: LinkWarning[] = [];
  for (const entry of plan) {
    if (entry.status !== "move") continue;
    const from = root.path(entry.from);
    const to = root.path(entry.to!);
    for (const link of symlinksUnder(from)) {
      const target = readlinkSync(link);
      if (isAbsolute(target)) continue;
      const today = resolve(dirname(link), target);
      const inside = today === from || today.startsWith(from + sep);
      const after = resolve(dirname(to + link.slice(from.length)), target);
      if (inside ? after === to + today.slice(from.length) : !mayExist(root, today)) continue;
      const outcome = mayExist(root, after) ? "a different path" : "which does not exist: the link would dangle";
      const reason = `points at ${describe(root, today)} today; after the move to ${entry.to} it would point at ${describe(root, after)}, ${outcome}`;
      warnings.push({ link: root.relative(link), target, reason });
    }
  }
  return warnings;
}

/** Every symlink below dir, sorted; the recursive listing never descends into a symlinked folder. */
function symlinksUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** False only when the path is inside the root and nothing is there; outside the root it is never looked at. */
function mayExist(root: ConfinedRoot, absolute: string): boolean {
  if (!root.contains(absolute)) return true;
  try {
    return lexists(root.path(root.relative(absolute)));
  } catch (error) {
    if (error instanceof PathOutsideRoot) return true;
    throw error;
  }
}

function describe(root: ConfinedRoot, absolute: string): string {
  return root.contains(absolute) ? root.relative(absolute) || "the root" : `${absolute} (outside the root)`;
}
