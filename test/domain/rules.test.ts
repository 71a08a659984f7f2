/**
 * The rules users rely on, one test each, written from the rule (issue 14). Each fails when its
 * rule breaks; `npm run test:mutation` measures that for every small change to these modules.
 */
import { describe, expect, it } from "vitest";
import { experimentEntry, experimentRecord, type RunRows, runEntry, runRecord, sameExportedRun } from "../../functions/domain/export-document.js";
import {
  competitionRanks,
  DEFAULT_LEADERBOARD_METRIC,
  deriveRunTags,
  flattenMetrics,
  formatRunId,
  groupOf,
  isLaterPoint,
  latestByKey,
  latestPoint,
  mapOldLayout,
  metricDirection,
  PIPELINE_EXPERIMENT,
  type PyJson,
  parseGroup,
  parsePythonJson,
  parsePythonJsonWithSource,
  parseRunId,
  pythonStr,
  rankEntries,
  runIdFromPath,
} from "../../functions/domain/index.js";
import { EXPERIMENT_SEARCH, parseFilter, parseOrderBy, RUN_SEARCH, SearchSyntaxError } from "../../functions/search/filter.js";

const configValue = (json: string) => pythonStr(parsePythonJsonWithSource(json) as PyJson);

describe("run ids", () => {
  it("a model size may contain '_': the stage is the last segment before an optional _kd", () => {
    expect(parseRunId("hcrl_sa/small_v2_curriculum")).toEqual({ dataset: "hcrl_sa", modelSize: "small_v2", stage: "curriculum", kd: false });
    expect(parseRunId("hcrl_sa/small_v2_curriculum_kd")).toEqual({ dataset: "hcrl_sa", modelSize: "small_v2", stage: "curriculum", kd: true });
    const parts = { dataset: "set_01", modelSize: "large_x_3", stage: "fusion", kd: true };
    expect(parseRunId(formatRunId(parts))).toEqual(parts);
  });

  it("a KD run id still needs a size and a stage, and a group label round-trips through its parts", () => {
    expect(parseRunId("a/teacher_kd")).toBeUndefined();
    expect(parseRunId("a/teacher_fusion_kd")).toEqual({ dataset: "a", modelSize: "teacher", stage: "fusion", kd: true });
    expect(parseGroup("_kd")).toEqual({ modelSize: "_kd", kd: false });
    for (const group of ["teacher", "student_kd", "small_v2_kd"]) expect(groupOf(parseGroup(group))).toBe(group);
  });
});

describe("Python-style params: str() of the config value", () => {
  it("renders strings inside lists and dicts as Python's repr", () => {
    expect(configValue('["adam", "sgd"]')).toBe("('adam', 'sgd')");
    expect(configValue('{"a": 1}')).toBe("{'a': 1}");
    expect(configValue('{"opt": ["adam"], "nested": {"b": null, "c": true}}')).toBe("{'opt': ('adam',), 'nested': {'b': None, 'c': True}}");
    expect(configValue("[]")).toBe("()");
    expect(configValue('"adam"')).toBe("adam");
  });

  it("quotes and escapes strings as Python does", () => {
    expect(configValue(`["it's"]`)).toBe(`("it's",)`);
    expect(configValue(`["say \\"hi\\""]`)).toBe(`('say "hi"',)`);
    expect(configValue(`["both ' and \\""]`)).toBe(`('both \\' and "',)`);
    expect(configValue('["a\\\\b\\nc\\rd\\te"]')).toBe("('a\\\\b\\nc\\rd\\te',)");
  });

  it("keeps every digit of an integer beyond 2^53, and drops only leading zeros", () => {
    expect(configValue("12345678901234567890")).toBe("12345678901234567890");
    expect(configValue("[-98765432109876543210]")).toBe("(-98765432109876543210,)");
    expect(configValue("9007199254740993")).toBe("9007199254740993");
    expect(configValue("0")).toBe("0");
    expect(configValue("-0")).toBe("0");
  });

  it("renders floats with Python's repr, ints as ints, non-finite values as nan/inf", () => {
    expect(configValue("4.0")).toBe("4.0");
    expect(configValue("4")).toBe("4");
    expect(configValue("1E-5")).toBe("1e-05");
    expect(configValue("2.5e20")).toBe("2.5e+20");
    expect(configValue("123.456")).toBe("123.456");
    expect(configValue("0.00012")).toBe("0.00012");
    expect(configValue("1234567890123456.0")).toBe("1234567890123456.0");
    expect(configValue("-0.0")).toBe("-0.0");
    expect(configValue("[NaN, Infinity, -Infinity]")).toBe("(nan, inf, -inf)");
    expect(pythonStr(3)).toBe("3");
    expect(pythonStr(0.5)).toBe("0.5");
    expect(pythonStr(false)).toBe("False");
    expect(pythonStr(undefined)).toBe("None");
  });

  it("keeps the source text of numbers in document order, strings that look like numbers left alone", () => {
    expect(configValue('{"a": "1.0", "b": 2.0, "c": [3, 4.50]}')).toBe("{'a': '1.0', 'b': 2.0, 'c': (3, 4.5)}");
    expect(configValue('{"a": "x\\"1", "b": 1e2}')).toBe(`{'a': 'x"1', 'b': 100.0}`);
  });
});

describe("metrics.json flattening", () => {
  it("booleans become 1 and 0; strings and nulls are left out; NaN is kept", () => {
    const flat = flattenMetrics(parsePythonJson('{"gat": {"core": {"converged": true, "diverged": false, "f1": 0.5, "name": "x", "auc": null, "mcc": NaN}}}'));
    expect(Object.fromEntries(flat)).toEqual({ gat_converged: 1, gat_diverged: 0, gat_f1: 0.5, gat_mcc: Number.NaN });
  });

  it("joins the path with '_', skipping the grouping levels core and additional, lists by index", () => {
    const flat = flattenMetrics(parsePythonJson('{"vgae": {"additional": {"at": {"0.05": 1}}, "core": {"f1": 2}}, "curve": [3, 4], "core": 5, "plain": 6}'));
    expect(Object.fromEntries(flat)).toEqual({ "vgae_at_0.05": 1, vgae_f1: 2, curve_0: 3, curve_1: 4, plain: 6 });
    expect(flattenMetrics(7).size).toBe(0);
    expect(Object.fromEntries(flattenMetrics(7, ["only"]))).toEqual({ only: 7 });
  });
});

describe("metric direction", () => {
  it("every loss-like metric ranks ascending", () => {
    const lossLike = [
      "gat_fnr",
      "vgae_fpr",
      "fpr",
      "fnr",
      "fpr_at_tpr_0.95",
      "miss_rate",
      "gat_miss_rate",
      "loss",
      "val_loss",
      "kd_loss_epoch",
      "Train_Loss",
      "test_error",
      "mse",
      "vgae_rmse",
      "mae",
      "perplexity",
      "latency_ms",
      "epoch_time",
    ];
    for (const key of lossLike) expect(metricDirection(key), key).toBe("asc");
  });

  it("everything else ranks descending, also names that merely contain fpr or time", () => {
    for (const key of [
      "gat_f1",
      "fusion_accuracy",
      "vgae_auc",
      "gat_tpr",
      "gat_fprate",
      "xfpr",
      "timed_f1",
      "time_budget",
      "gat_timestep_f1",
      "vgae_detection_at_fpr_0.05",
      "gat_tpr_at_fpr_0.01",
      "detection_at_fnr_0.1",
    ]) {
      expect(metricDirection(key), key).toBe("desc");
    }
  });
});

describe("rankings", () => {
  it("runs tied share one rank and the next rank skips past them", () => {
    expect(competitionRanks([0.9, 0.8, 0.8, 0.8, 0.7])).toEqual([1, 2, 2, 2, 5]);
    expect(competitionRanks([1, 1, 1])).toEqual([1, 1, 1]);
    expect(competitionRanks([3, 2, 1])).toEqual([1, 2, 3]);
    expect(competitionRanks([5, 5, 4, 4])).toEqual([1, 1, 3, 3]);
    expect(competitionRanks([])).toEqual([]);
  });

  it("the better value first in the metric's direction; tied runs by run id", () => {
    const entries = [
      { runId: "b/x_evaluation", value: 0.5 },
      { runId: "a/x_evaluation", value: 0.5 },
      { runId: "c/x_evaluation", value: 0.7 },
      { runId: "a/y_evaluation", value: 0.1 },
    ];
    expect(rankEntries(entries, "desc").map((e) => [e.rank, e.runId])).toEqual([
      [1, "c/x_evaluation"],
      [2, "a/x_evaluation"],
      [2, "b/x_evaluation"],
      [4, "a/y_evaluation"],
    ]);
    expect(rankEntries(entries, "asc").map((e) => [e.rank, e.runId])).toEqual([
      [1, "a/y_evaluation"],
      [2, "a/x_evaluation"],
      [2, "b/x_evaluation"],
      [4, "c/x_evaluation"],
    ]);
  });
});

describe("the latest metric point", () => {
  const p = (step: number, timestamp: number, value: number) => ({ step, timestamp, value });

  it("at equal step and timestamp the greater value wins", () => {
    expect(isLaterPoint(p(1, 10, 0.6), p(1, 10, 0.5))).toBe(true);
    expect(isLaterPoint(p(1, 10, 0.5), p(1, 10, 0.6))).toBe(false);
    expect(isLaterPoint(p(1, 10, 0.5), p(1, 10, 0.5))).toBe(false);
  });

  it("step decides first, then timestamp: an earlier point never wins, whatever its value", () => {
    expect(isLaterPoint(p(2, 1, 0), p(1, 99, 9))).toBe(true);
    expect(isLaterPoint(p(1, 99, 9), p(2, 1, 0))).toBe(false);
    expect(isLaterPoint(p(1, 11, 0), p(1, 10, 9))).toBe(true);
    expect(isLaterPoint(p(1, 10, 9), p(1, 11, 0))).toBe(false);
  });

  it("the latest of a history, and of each key in the order keys are first seen", () => {
    expect(latestPoint([p(3, 1, 0.1), p(1, 9, 0.9), p(3, 1, 0.2), p(2, 5, 0.5)])).toEqual(p(3, 1, 0.2));
    const points = [
      { key: "b", ...p(1, 1, 1) },
      { key: "a", ...p(5, 1, 1) },
      { key: "b", ...p(2, 0, 0) },
      { key: "a", ...p(4, 9, 9) },
    ];
    const latest = latestByKey(
      points,
      (point) => point.key,
      (point) => point,
    );
    expect([...latest]).toEqual([
      ["b", { key: "b", ...p(2, 0, 0) }],
      ["a", { key: "a", ...p(5, 1, 1) }],
    ]);
  });
});

describe("run id segments", () => {
  it("start alphanumeric, hold letters, digits, '.', '_', '-', at most 128 characters", () => {
    expect(parseRunId(`a/${"s".repeat(121)}_fusion`)?.stage).toBe("fusion");
    expect(parseRunId(`a/${"s".repeat(122)}_fusion`)).toBeUndefined();
    expect(parseRunId("s/x_fusion")).toEqual({ dataset: "s", modelSize: "x", stage: "fusion", kd: false });
    for (const bad of ["./teacher_fusion", "../teacher_fusion", ".x/teacher_fusion", "a/.teacher_fusion", "a/-teacher_fusion", "/teacher_fusion", "a/teacher fusion"]) {
      expect(parseRunId(bad), bad).toBeUndefined();
    }
  });
});

describe("the pipeline's defaults", () => {
  it("log to the kd-gat-pipeline experiment and rank leaderboards by gat_f1", () => {
    expect(PIPELINE_EXPERIMENT).toBe("kd-gat-pipeline");
    expect(DEFAULT_LEADERBOARD_METRIC).toBe("gat_f1");
  });
});

describe("old layout folders", () => {
  const map = (path: string) => mapOldLayout(path.split("/"));
  const reason = (path: string) => {
    const result = map(path);
    return result.ok ? undefined : result.reason;
  };

  it("map only when learning type, architecture and mode all match one stage", () => {
    for (const mixed of [
      "d/teacher/supervised/vgae/no_distillation/autoencoder",
      "d/teacher/unsupervised/gat/no_distillation/autoencoder",
      "d/teacher/unsupervised/vgae/no_distillation/curriculum",
    ]) {
      expect(map(mixed).ok, mixed).toBe(false);
    }
    expect(map("d/teacher/unsupervised/vgae/no_distillation/autoencoder").ok).toBe(true);
  });

  it("say why a folder is not mapped, naming what is wrong", () => {
    expect(reason("a/b")).toBe("expected 6 folder levels below automotive/, found 2");
    expect(reason("d/teacher/supervised/gat/half/curriculum")).toBe("distillation folder 'half' is neither 'distilled' nor 'no_distillation'");
    expect(reason("d/teacher/supervised/gat/distilled/sideways")).toMatch(/^'supervised\/gat\/sideways' matches no stage/);
    // A dataset name that cannot be a run id is named, with what is allowed and a name to use instead.
    expect(reason("hcrl sa/teacher/supervised/gat/distilled/curriculum")).toMatch(
      /^dataset folder 'hcrl sa' is not a valid run id segment \(letters, digits, .*rename it, e\.g\. to 'hcrl_sa'$/,
    );
    expect(reason("hcrl_sa/.hidden/supervised/gat/distilled/curriculum")).toBe("'hcrl_sa/.hidden' is not a valid dataset and model size");
  });

  it("a checkpoint path names its run in either layout, whatever the separators", () => {
    expect(runIdFromPath("automotive/hcrl_sa/teacher/supervised/gat/no_distillation/curriculum")).toBe("hcrl_sa/teacher_curriculum");
    expect(runIdFromPath("C:\\runs\\automotive\\set_01\\student\\rl_fusion\\dqn\\distilled\\fusion\\best.pt")).toBe("set_01/student_fusion_kd");
    expect(runIdFromPath("hcrl_sa/teacher_fusion")).toBe("hcrl_sa/teacher_fusion");
    expect(runIdFromPath("./hcrl_sa/./teacher_fusion/./best_model.pt")).toBe("hcrl_sa/teacher_fusion");
    expect(runIdFromPath("hcrl_sa//teacher_fusion/best_model.pt/")).toBe("hcrl_sa/teacher_fusion");
    expect(runIdFromPath("teacher_fusion")).toBeUndefined();
    expect(runIdFromPath("hcrl_sa/teacher_fusion/best_model.pt/extra")).toBeUndefined();
  });

  it("an unmappable old layout falls back to the new-layout run at the end; an old layout without its root is not guessed", () => {
    expect(runIdFromPath("automotive/a/b/c/d/e/f/set_01/teacher_fusion/best.pt")).toBe("set_01/teacher_fusion");
    expect(runIdFromPath("hcrl_sa/teacher/supervised/gat/no_distillation/curriculum/best_model.pt")).toBeUndefined();
  });
});

describe("derived run tags", () => {
  it("a run id that does not parse still gives its dataset, and the config gives the rest", () => {
    expect(deriveRunTags("weird/name")).toStrictEqual({ dataset: "weird" });
    expect(deriveRunTags("/name", { dataset: "set_03" })).toStrictEqual({ dataset: "set_03" });
    expect(deriveRunTags("weird", { dataset: "set_03", model_size: "teacher", use_kd: true })).toStrictEqual({ dataset: "set_03", model_size: "teacher", use_kd: "True" });
    expect(deriveRunTags("weird", { use_kd: false })).toStrictEqual({ use_kd: "False" });
  });

  it("only non-empty text and booleans count; an unknown stage has no architecture", () => {
    expect(deriveRunTags("weird", { dataset: "", model_size: 5 as unknown as PyJson, use_kd: "yes" })).toStrictEqual({});
    expect(deriveRunTags("d/large_pretrain")).toStrictEqual({ dataset: "d", model_size: "large", stage: "pretrain", use_kd: "False" });
  });

  it("a teacher is named only for a KD run whose teacher_path points at a run", () => {
    const teacher_path = "experimentruns/d/teacher_curriculum/best_model.pt";
    expect(deriveRunTags("d/student_curriculum", { teacher_path }).teacher_run_id).toBeUndefined();
    expect(deriveRunTags("d/student_curriculum_kd", { teacher_path }).teacher_run_id).toBe("d/teacher_curriculum");
    expect(deriveRunTags("d/student_curriculum_kd", { teacher_path: "model.pt" })).not.toHaveProperty("teacher_run_id");
    expect(deriveRunTags("d/student_curriculum_kd")).not.toHaveProperty("teacher_run_id");
  });
});

describe("Python JSON", () => {
  it("an unpaired surrogate is refused as such, in a key or a value", () => {
    expect(() => parsePythonJson('{"a": "\\ud800"}')).toThrow(/unpaired UTF-16 surrogate/);
    expect(() => parsePythonJson('{"\\udc00": 1}')).toThrow(/unpaired UTF-16 surrogate/);
  });

  it("numbers with long exponents keep their place in document order", () => {
    expect(configValue("[1.5e-10, 7, 2E+20, 8]")).toBe("(1.5e-10, 7, 2e+20, 8)");
    expect(configValue("[0.0, 0]")).toBe("(0.0, 0)");
  });
});

describe("search filter", () => {
  const runs = (filter: string) => parseFilter(filter, RUN_SEARCH);
  const refused = (filter: string, message: string | RegExp) => {
    expect(() => runs(filter), filter).toThrow(SearchSyntaxError);
    expect(() => runs(filter), filter).toThrow(message);
  };
  const unparsable = (filter: string) => refused(filter, `Invalid filter '${filter}'. Could not be parsed.`);

  it("'<=' is not '<', nor '>=' '>': each comparator is read as written", () => {
    expect(runs("metrics.a <= 1 and metrics.b < 1 and metrics.c >= 1 and metrics.d > 1 and metrics.e != 1 and metrics.f = 1").map((c) => c.op)).toEqual(["<=", "<", ">=", ">", "!=", "="]);
  });

  it("reads number forms exactly", () => {
    const values = ["12.5", ".25", "1e3", "1e10", "-2E-2", "+3", "7."].map((n) => runs(`metrics.a < ${n}`)[0].value);
    expect(values).toEqual([12.5, 0.25, 1000, 1e10, -0.02, 3, 7]);
    refused("metrics.a < '5'", "Expected numeric value type for metric. Found 5");
  });

  it("keys: bare or backquoted attributes, prefixed keys, quoted only right after the dot", () => {
    expect(runs("`status` = 'x'")).toEqual([{ entity: "attribute", key: "status", op: "=", value: "x" }]);
    expect(runs('metrics."b c" < 1')[0]).toMatchObject({ entity: "metric", key: "b c" });
    expect(runs("parameters.lr = 'x'")[0]).toMatchObject({ entity: "param", key: "lr" });
    expect(runs("attr.created > 5")[0]).toMatchObject({ entity: "attribute", key: "start_time" });
    expect(runs("Created > 5")[0]).toMatchObject({ entity: "attribute", key: "start_time" });
    expect(runs("metrics.created < 1")[0]).toMatchObject({ entity: "metric", key: "created" });
    for (const filter of [
      "'status' = 'x'",
      "\"status\" = 'x'",
      "= 'x'",
      "1 = 1",
      "metrics.'b' < 1",
      'metrics. "b" < 1',
      'metrics.a"b" < 1',
      "metrics.< 1",
      "tags.",
      "metrics.a",
      "metrics.a (1)",
      "params.lr =",
      "metrics.a <",
    ]) {
      unparsable(filter);
    }
  });

  it("names the valid entities and attribute keys when a key is unknown", () => {
    refused("datasets.name = 'x'", "Invalid entity type 'datasets'. Valid values are ['metric', 'param', 'tag', 'attribute']");
    refused("a.b = 'x'", "Invalid entity type 'a'.");
    refused("loss < 1", "Invalid attribute key 'loss' specified. Valid keys are 'run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'lifecycle_stage', 'start_time', 'end_time'");
  });

  it("names the comparator and the valid ones; NOT is a comparator only before IN", () => {
    refused("params.lr GLOB 'x'", "Invalid comparator 'GLOB' not one of '{'!=', '=', 'LIKE', 'ILIKE'}");
    refused("params.lr ~ 'x'", "Invalid comparator '~' not one of '{'!=', '=', 'LIKE', 'ILIKE'}");
    refused("params.x NOT", "Invalid comparator 'NOT'");
    refused("run_id = IN ('a')", "Expected a quoted string value for attribute (e.g. 'my-value'). Got value IN");
    refused("params.lr = `x`", "Expected a quoted string value for param (e.g. 'my-value'). Got value x");
  });

  it("IN lists hold quoted strings separated by commas, closed by a parenthesis", () => {
    expect(runs("run_id IN ('a''b', \"c\")")[0].value).toEqual(["a'b", "c"]);
    for (const filter of ["run_id IN", "run_id IN ('a'", "run_id IN ('a' 'b')"]) unparsable(filter);
    refused("run_id IN (`a`)", "expected string value, punctuation, or whitespace, but got different type in list: a");
    refused("run_id IN (", "but got different type in list: end of input");
  });

  it("only the word AND joins clauses", () => {
    refused("metrics.a < 1 'AND' metrics.b < 1", "Invalid clause(s) in filter string: AND");
  });

  it("experiment searches have their own keys, all of them usable", () => {
    expect(parseFilter("tag.team = 'x' and last_update_time > 1 and experiment_id = 2", EXPERIMENT_SEARCH).map((c) => [c.entity, c.key, c.value])).toEqual([
      ["tag", "team", "x"],
      ["attribute", "last_update_time", 1],
      ["attribute", "experiment_id", 2],
    ]);
    expect(parseOrderBy(["name", "creation_time", "last_update_time", "experiment_id"], EXPERIMENT_SEARCH).map((k) => k.key)).toEqual([
      "name",
      "creation_time",
      "last_update_time",
      "experiment_id",
    ]);
  });
});

describe("order_by", () => {
  it("takes every orderable run attribute; none given is no order", () => {
    const keys = ["run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"];
    expect(parseOrderBy(keys, RUN_SEARCH).map((k) => k.key)).toEqual(keys);
    expect(parseOrderBy(undefined, RUN_SEARCH)).toEqual([]);
  });

  it("a direction is the word ASC or DESC, not a quoted one; duplicates are named", () => {
    expect(() => parseOrderBy(["metrics.a 'ASC'"], RUN_SEARCH)).toThrow("Invalid ordering key in order_by clause 'metrics.a 'ASC''.");
    expect(() => parseOrderBy(["metrics.a", "metric.a DESC"], RUN_SEARCH)).toThrow("`order_by` contains duplicate fields: ['metrics.a', 'metric.a DESC']");
  });
});

describe("the export document", () => {
  const rows = (points: Array<[string, number, number, number, boolean]>, tags: Array<[string, string]>): RunRows => ({
    run: {
      runUuid: "a".repeat(32),
      experimentId: 3,
      name: "set_01/teacher_normal",
      userId: "",
      status: "FINISHED",
      startTime: 1,
      endTime: 2,
      artifactUri: "x",
      lifecycleStage: "active",
      deletedTime: null,
      attempt: 1,
    },
    params: [{ key: "lr", value: "0.1" }],
    tags: tags.map(([key, value]) => ({ key, value })),
    keys: ["val_loss", "never_logged_twice"],
    points: points.map(([key, step, timestamp, value, isNan]) => ({ key, step, timestamp, value, isNan })),
  });

  it("a run's rows become its document entry: keys in first-logged order, NaN as the string, ids as strings", () => {
    const run = runEntry(
      rows(
        [
          ["val_loss", 0, 5, 0.5, false],
          ["val_loss", 1, 6, 0, true],
          ["epoch", 0, 5, 0, false],
        ],
        [["stage", "normal"]],
      ),
    );
    expect(run).toMatchObject({ mlflow_run_id: "a".repeat(32), experiment_id: "3", run_name: "set_01/teacher_normal", params: { lr: "0.1" }, tags: { stage: "normal" } });
    expect(runRecord(run)).toEqual(rows([], []).run);
    const experiment = { experimentId: 0, name: "Default", artifactLocation: "mlflow-artifacts:/0", lifecycleStage: "deleted" as const, creationTime: 1, lastUpdateTime: 2 };
    expect(experimentRecord(experimentEntry(experiment, [{ key: "k", value: "v" }]))).toEqual(experiment);
    expect(Object.entries(run.metrics)).toEqual([
      [
        "val_loss",
        [
          [0, 5, 0.5],
          [1, 6, "NaN"],
        ],
      ],
      ["never_logged_twice", []],
      ["epoch", [[0, 5, 0]]],
    ]);
  });

  it("two runs are the same data whatever the order of their keys, tags and points, and not when a value differs", () => {
    const a = runEntry(
      rows(
        [
          ["x", 0, 1, 1, false],
          ["x", 1, 1, 2, false],
        ],
        [
          ["a", "1"],
          ["b", "2"],
        ],
      ),
    );
    const reordered = runEntry({
      ...rows(
        [
          ["x", 1, 1, 2, false],
          ["x", 0, 1, 1, false],
        ],
        [
          ["b", "2"],
          ["a", "1"],
        ],
      ),
      keys: ["never_logged_twice", "val_loss"],
    });
    expect(sameExportedRun(a, reordered)).toBe(true);
    expect(
      sameExportedRun(
        a,
        runEntry(
          rows(
            [
              ["x", 0, 1, 1, false],
              ["x", 1, 1, 3, false],
            ],
            [
              ["a", "1"],
              ["b", "2"],
            ],
          ),
        ),
      ),
    ).toBe(false);
    expect(
      sameExportedRun(
        a,
        runEntry(
          rows(
            [
              ["x", 0, 1, 1, false],
              ["x", 1, 1, 2, false],
            ],
            [["a", "1"]],
          ),
        ),
      ),
    ).toBe(false);
  });
});
