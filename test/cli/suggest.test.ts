/** "Did you mean" over the metric names a real evaluation logs (the flattened fixture metrics.json). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { closestNames, editDistance, unknownNameMessage } from "../../cli/suggest.js";
import { flattenMetrics } from "../../functions/domain/flatten.js";

const KEYS = [...flattenMetrics(JSON.parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "teacher_evaluation_metrics.json"), "utf8"))).keys()];

describe("closestNames", () => {
  it("suggests the flattened names for the old tool's short ones, nearest first", () => {
    expect(KEYS.length).toBeGreaterThan(100);
    expect(closestNames("f1", KEYS).slice(0, 3)).toEqual(["gat_f1", "vgae_f1", "fusion_f1"]);
    expect(closestNames("F1", KEYS).slice(0, 3)).toEqual(["gat_f1", "vgae_f1", "fusion_f1"]);
    expect(closestNames("gat_f2", KEYS)[0]).toBe("gat_f1");
    expect(closestNames("fusion_mc", KEYS)[0]).toBe("fusion_mcc");
    expect(closestNames("zzz", KEYS)).toEqual([]);
  });

  it("counts edits", () => {
    expect([editDistance("", "abc"), editDistance("kitten", "sitting"), editDistance("f1", "gat_f1"), editDistance("same", "same")]).toEqual([3, 3, 4, 0]);
  });
});

describe("unknownNameMessage", () => {
  it("lists few names, and says where many are listed", () => {
    expect(unknownNameMessage("stage", "evaluaton", ["normal", "evaluation"], "URL")).toBe(
      "unknown stage 'evaluaton' (did you mean evaluation?); the tracker has 2 stage names: evaluation, normal",
    );
    expect(unknownNameMessage("metric", "f1", KEYS, "http://127.0.0.1:8787/api/v1/metric-keys")).toMatch(
      new RegExp(
        `^unknown metric 'f1' \\(did you mean gat_f1, vgae_f1, fusion_f1, [^)]*\\?\\); the tracker has ${KEYS.length} metric names; http://127\\.0\\.0\\.1:8787/api/v1/metric-keys lists them$`,
      ),
    );
    expect(unknownNameMessage("metric", "f1", [], "URL")).toBe("unknown metric 'f1': the tracker has no metric names yet");
  });
});
