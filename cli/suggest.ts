/** "Did you mean": the known names closest to a name that matched nothing. */

/** Edit distance (insertions, deletions, substitutions), one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Known names closest first: those containing the name (or contained in it) or a few edits away
 * (at most a third of its length, at least 2), nearest by edit distance, then alphabetically.
 */
export function closestNames(name: string, known: readonly string[], max = 5): string[] {
  const wanted = name.toLowerCase();
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return known
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= limit || candidate.toLowerCase().includes(wanted) || wanted.includes(candidate.toLowerCase()))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

/**
 * `unknown metric 'f1' (did you mean gat_f1, fusion_f1?); known metrics: ...`: every known name when
 * they are few (`listAll`), else the count and where the whole list is (`listedAt`).
 */
export function unknownNameMessage(kind: string, name: string, known: readonly string[], listedAt: string, listAll = 20): string {
  if (known.length === 0) return `unknown ${kind} '${name}': the tracker has no ${kind} names yet`;
  const suggestions = closestNames(name, known);
  const hint = suggestions.length > 0 ? ` (did you mean ${suggestions.join(", ")}?)` : "";
  const names = known.length <= listAll ? `: ${[...known].sort().join(", ")}` : `; ${listedAt} lists them`;
  return `unknown ${kind} '${name}'${hint}; the tracker has ${known.length} ${kind} names${names}`;
}
