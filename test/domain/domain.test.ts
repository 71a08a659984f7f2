import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  deriveRunTags,
  flattenMetrics,
  formatRunId,
  mapOldLayout,
  metricDirection,
  type PyJson,
  parseGroup,
  parsePythonJson,
  parsePythonJsonWithSource,
  parseRunId,
  pythonFloat,
  pythonStr,
  runIdFromPath,
} from "../../functions/domain/index.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");

describe("run ids", () => {
  it("parses and formats the deterministic id", () => {
    expect(parseRunId("hcrl_sa/student_curriculum_kd")).toEqual({ dataset: "hcrl_sa", modelSize: "student", stage: "curriculum", kd: true });
    expect(parseRunId("set_01/teacher_fusion")).toEqual({ dataset: "set_01", modelSize: "teacher", stage: "fusion", kd: false });
    expect(parseRunId("set_02/large_evaluation")?.modelSize).toBe("large");
    expect(formatRunId({ dataset: "hcrl_sa", modelSize: "student", stage: "evaluation", kd: true })).toBe("hcrl_sa/student_evaluation_kd");
  });

  it("rejects what is not a run id", () => {
    for (const bad of ["hcrl_sa", "hcrl_sa/teacher", "../x/teacher_fusion", "a/b/c_d", "a/_fusion", "a/teacher_", "a/ teacher_fusion"]) {
      expect(parseRunId(bad), bad).toBeUndefined();
    }
  });

  it("splits compare groups", () => {
    expect(parseGroup("student_kd")).toEqual({ modelSize: "student", kd: true });
    expect(parseGroup("teacher")).toEqual({ modelSize: "teacher", kd: false });
  });
});

describe("old layout mapping", () => {
  it("maps every stage, with and without distillation", () => {
    expect(mapOldLayout("hcrl_sa/teacher/unsupervised/vgae/no_distillation/autoencoder".split("/"))).toMatchObject({ ok: true, runId: "hcrl_sa/teacher_autoencoder" });
    expect(mapOldLayout("hcrl_sa/student/supervised/gat/distilled/curriculum".split("/"))).toMatchObject({ ok: true, runId: "hcrl_sa/student_curriculum_kd" });
    expect(mapOldLayout("set_01/teacher/rl_fusion/dqn/no_distillation/fusion".split("/"))).toMatchObject({ ok: true, runId: "set_01/teacher_fusion" });
    expect(mapOldLayout("hcrl_sa/student/evaluation/eval/distilled/evaluation".split("/"))).toMatchObject({ ok: true, runId: "hcrl_sa/student_evaluation_kd" });
    expect(mapOldLayout("hcrl_ch/teacher/supervised/gat/no_distillation/normal".split("/"))).toMatchObject({ ok: true, runId: "hcrl_ch/teacher_normal" });
  });

  it("never guesses the older size-after-architecture ordering", () => {
    const result = mapOldLayout("hcrl_sa/unsupervised/vgae/teacher/no_distillation/autoencoder".split("/"));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/matches no stage/);
    expect(mapOldLayout("hcrl_sa/teacher/supervised/gat/half_distilled/curriculum".split("/")).ok).toBe(false);
    expect(mapOldLayout(["hcrl_sa", "teacher"]).ok).toBe(false);
  });

  it("finds the teacher's run id in a checkpoint path of either layout", () => {
    expect(runIdFromPath("experimentruns/hcrl_sa/teacher_curriculum/best_model.pt")).toBe("hcrl_sa/teacher_curriculum");
    expect(runIdFromPath("/scratch/x/experimentruns/automotive/hcrl_sa/teacher/supervised/gat/no_distillation/curriculum/best_model.pt")).toBe("hcrl_sa/teacher_curriculum");
    expect(runIdFromPath("experimentruns/set_01/teacher_autoencoder")).toBe("set_01/teacher_autoencoder");
    expect(runIdFromPath("model.pt")).toBeUndefined();
  });
});

describe("Python-style params", () => {
  it("stringifies config values as the Python pipeline logged them", () => {
    const config = parsePythonJsonWithSource(fixture("student_curriculum_kd_config.json")) as Record<string, PyJson>;
    expect(pythonStr(config.use_kd)).toBe("True");
    expect(pythonStr(config.use_scheduler)).toBe("False");
    expect(pythonStr(config.vgae_hidden_dims)).toBe("(480, 240, 48)");
    expect(pythonStr(config.kd_temperature)).toBe("4.0");
    expect(pythonStr(config.gradient_clip)).toBe("1.0");
    expect(pythonStr(config.weight_decay)).toBe("0.0001");
    expect(pythonStr(config.max_epochs)).toBe("300");
    expect(pythonStr(config.precision)).toBe("16-mixed");
    expect(pythonStr(null)).toBe("None");
  });

  it("formats floats like Python's repr", () => {
    expect([1e-5, 0.0001, 1.5e-7, 1e16, 123456789.5, 0.1, -2.5, 1e22].map(pythonFloat)).toEqual(["1e-05", "0.0001", "1.5e-07", "1e+16", "123456789.5", "0.1", "-2.5", "1e+22"]);
    expect(pythonStr(parsePythonJsonWithSource("[1e-05]") as PyJson)).toBe("(1e-05,)");
  });

  it("reads Python's NaN and Infinity tokens, but not inside strings", () => {
    expect(parsePythonJson('{"a": NaN, "b": -Infinity, "c": "NaN Infinity"}')).toEqual({ a: Number.NaN, b: -Infinity, c: "NaN Infinity" });
  });
});

describe("metrics.json flattening", () => {
  it("flattens the real evaluation metrics by the documented rule", () => {
    const flat = flattenMetrics(parsePythonJson(fixture("teacher_evaluation_metrics.json")));
    expect(flat.get("gat_f1")).toBeCloseTo(0.998003992015968);
    expect(flat.get("fusion_mcc")).toBeCloseTo(0.9976984755238361);
    expect(flat.get("vgae_youden_j")).toBeCloseTo(0.7199488114127952);
    expect(flat.get("vgae_detection_at_fpr_0.05")).toBeCloseTo(0.6135458167330677);
    expect(flat.get("test_gat_test_01_known_vehicle_known_attack_f1")).toBeCloseTo(0.9989615784008308);
    for (const key of flat.keys()) expect(key).toMatch(/^[\w.-]+$/);
  });
});

describe("tags and directions", () => {
  it("derives the pipeline's tags from the run id and config", () => {
    const config = parsePythonJsonWithSource(fixture("student_curriculum_kd_config.json")) as Record<string, PyJson>;
    expect(deriveRunTags("hcrl_sa/student_curriculum_kd", config)).toEqual({
      dataset: "hcrl_sa",
      model_size: "student",
      stage: "curriculum",
      use_kd: "True",
      model_arch: "gat",
      teacher_run_id: "hcrl_sa/teacher_curriculum",
    });
    expect(deriveRunTags("weird-name", { dataset: "set_03" } as Record<string, PyJson>)).toEqual({ dataset: "set_03" });
  });

  it("ranks loss-like metrics ascending", () => {
    expect(metricDirection("val_loss")).toBe("asc");
    expect(metricDirection("gat_fpr")).toBe("asc");
    expect(metricDirection("gat_f1")).toBe("desc");
    expect(metricDirection("fusion_accuracy")).toBe("desc");
  });
});

describe("Python JSON edge cases", () => {
  it("does not mistake a string for a NaN token, and refuses unpaired surrogates", () => {
    expect(parsePythonJson('{"a": "\\u0000NaN", "b": "NaN 0"}')).toEqual({ a: "\u0000NaN", b: "NaN 0" });
    expect(() => parsePythonJson('{"a": "\\ud800"}')).toThrow(SyntaxError);
    expect(() => parsePythonJsonWithSource('{"\\udc00": 1}')).toThrow(SyntaxError);
    expect(parsePythonJson('{"a": "\\ud83d\\ude00"}')).toEqual({ a: "😀" });
  });
});
