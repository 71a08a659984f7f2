/**
 * Flattening of the evaluation stage's nested `metrics.json` into MLflow metric keys.
 *
 * Rule: join the path with `_`, leaving out the grouping levels `core` and `additional`.
 *   gat.core.f1                                   -> gat_f1
 *   vgae.additional.detection_at_fpr."0.05"       -> vgae_detection_at_fpr_0.05
 *   test.gat.test_01_known_vehicle_known_attack.core.f1
 *                                                 -> test_gat_test_01_known_vehicle_known_attack_f1
 * Only numbers (and booleans, as 1/0) become metrics; strings and nulls are left out. NaN and
 * infinities are kept (they are valid MLflow metric values).
 */
export const METRIC_PATH_SEPARATOR = "_";
export const GROUPING_LEVELS: ReadonlySet<string> = new Set(["core", "additional"]);

export function flattenMetrics(tree: unknown, prefix: readonly string[] = []): Map<string, number> {
  const out = new Map<string, number>();
  walk(tree, prefix, out);
  return out;
}

function walk(node: unknown, path: readonly string[], out: Map<string, number>): void {
  if (typeof node === "number" || typeof node === "boolean") {
    if (path.length > 0) out.set(path.join(METRIC_PATH_SEPARATOR), Number(node));
    return;
  }
  if (node === null || typeof node !== "object") return;
  // Lists flatten by index: Object.entries of an array gives "0", "1", ...
  for (const [key, value] of Object.entries(node)) {
    walk(value, GROUPING_LEVELS.has(key) ? path : [...path, key], out);
  }
}
