import { describe, expect, it } from "vitest";
import { EXPERIMENT_SEARCH, parseFilter, parseOrderBy, RUN_SEARCH, SearchSyntaxError } from "../../functions/search/filter.js";
import { decodePageToken, encodePageToken, nextPageToken } from "../../functions/search/page-token.js";

const runs = (filter: string) => parseFilter(filter, RUN_SEARCH);
const fails = (run: () => unknown, message: string | RegExp) => {
  expect(run).toThrow(SearchSyntaxError);
  expect(run).toThrow(message);
};

describe("filter: clause kinds", () => {
  it("reads metric comparisons with every numeric operator and number form", () => {
    expect(runs("metrics.loss < 1")).toEqual([{ entity: "metric", key: "loss", op: "<", value: 1 }]);
    for (const op of ["=", "!=", ">", ">=", "<", "<="]) expect(runs(`metrics.acc ${op} -0.5`)[0]).toMatchObject({ op, value: -0.5 });
    expect(runs("metric.f1>=1e-3")[0]).toEqual({ entity: "metric", key: "f1", op: ">=", value: 0.001 });
    expect(runs("metrics.gat_detection_at_fpr.0.05 > .5")[0]).toEqual({ entity: "metric", key: "gat_detection_at_fpr.0.05", op: ">", value: 0.5 });
  });

  it("reads params and tags with = != LIKE ILIKE and either quote", () => {
    expect(runs("params.lr = '0.01'")).toEqual([{ entity: "param", key: "lr", op: "=", value: "0.01" }]);
    expect(runs('param.optimizer != "adam"')[0]).toEqual({ entity: "param", key: "optimizer", op: "!=", value: "adam" });
    expect(runs("parameter.model like 'gat%'")[0]).toMatchObject({ entity: "param", op: "LIKE", value: "gat%" });
    expect(runs("tags.stage ILIKE '%Cur%'")[0]).toEqual({ entity: "tag", key: "stage", op: "ILIKE", value: "%Cur%" });
    expect(runs("tag.note = 'it''s'")[0]).toMatchObject({ value: "it's" });
  });

  it("reads quoted keys with backticks or double quotes", () => {
    expect(runs("tags.\"mlflow.runName\" = 'run-a'")[0]).toEqual({ entity: "tag", key: "mlflow.runName", op: "=", value: "run-a" });
    expect(runs("metrics.`val-loss` <= 2")[0]).toEqual({ entity: "metric", key: "val-loss", op: "<=", value: 2 });
    expect(runs("params.\"a b/c:d\" = 'x'")[0]).toMatchObject({ key: "a b/c:d" });
  });

  it("reads attributes with every prefix alias or none", () => {
    for (const prefix of ["", "attributes.", "attribute.", "attr.", "run."]) {
      expect(runs(`${prefix}status = 'FINISHED'`)).toEqual([{ entity: "attribute", key: "status", op: "=", value: "FINISHED" }]);
    }
    for (const key of ["run_name", "user_id", "artifact_uri", "lifecycle_stage"]) expect(runs(`${key} LIKE 'a%'`)[0]).toMatchObject({ key, op: "LIKE" });
    expect(runs("attributes.start_time >= 1700000000000")[0]).toEqual({ entity: "attribute", key: "start_time", op: ">=", value: 1700000000000 });
    expect(runs("end_time < 5")[0]).toMatchObject({ key: "end_time", op: "<" });
    expect(runs("created > 5")[0]).toMatchObject({ key: "start_time" });
  });

  it("reads run_id IN and NOT IN lists", () => {
    expect(runs("attributes.run_id IN ('a', \"b\")")).toEqual([{ entity: "attribute", key: "run_id", op: "IN", value: ["a", "b"] }]);
    expect(runs("run_id not in ('a')")[0]).toEqual({ entity: "attribute", key: "run_id", op: "NOT IN", value: ["a"] });
    expect(runs("run_id = 'abc'")[0]).toMatchObject({ op: "=", value: "abc" });
  });

  it("joins clauses with AND in any case; empty filters have no clauses", () => {
    expect(runs("metrics.loss < 1 and params.lr != '0.5' AND tags.x = 'y' aNd status = 'RUNNING'")).toHaveLength(4);
    expect(runs("")).toEqual([]);
    expect(parseFilter(undefined, RUN_SEARCH)).toEqual([]);
    expect(runs("   ")).toEqual([]);
  });
});

describe("filter: errors, worded as MLflow's", () => {
  it("refuses unknown or misplaced comparators", () => {
    fails(() => runs("metrics.loss <<< 1"), "Invalid comparator '<<<' not one of '{'!=', '>', '>=', '=', '<', '<='}");
    fails(() => runs("metrics.loss LIKE 1"), "Invalid comparator 'LIKE' not one of '{'!=', '>', '>=', '=', '<', '<='}");
    fails(() => runs("params.lr > '1'"), "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}");
    fails(() => runs("params.lr IN ('1')"), "Invalid comparator 'IN'");
    fails(() => runs("start_time LIKE '1'"), "Invalid comparator 'LIKE'");
  });

  it("refuses OR and anything else between clauses", () => {
    fails(() => runs("metrics.a < 1 OR metrics.b < 1"), "Invalid clause(s) in filter string: OR");
    fails(() => runs("metrics.a < 1 metrics.b < 1"), "Invalid clause(s) in filter string: metrics.b");
    fails(() => runs("metrics.a < 1 AND"), "Could not be parsed");
  });

  it("refuses wrong value types, unknown entities and attributes, unparsable text", () => {
    fails(() => runs("params.lr = 0.01"), "Expected a quoted string value for param (e.g. 'my-value'). Got value 0.01");
    fails(() => runs("metrics.loss < 'a'"), "Expected numeric value type for metric. Found a");
    fails(() => runs("datasets.name = 'x'"), "Invalid entity type 'datasets'");
    fails(() => runs("loss < 1"), "Invalid attribute key 'loss' specified.");
    fails(() => runs("metrics.loss < 1 ; drop table runs"), "Invalid filter 'metrics.loss < 1 ; drop table runs'. Could not be parsed.");
    fails(() => runs("tags.x = 'unterminated"), "Could not be parsed");
    fails(() => runs("run_id IN ('a', 1)"), "While parsing a list in the query");
    fails(() => runs("run_id IN 'a'"), "Could not be parsed");
  });

  it("experiments have their own vocabulary", () => {
    expect(parseFilter("name LIKE 'demo-%' and tags.team = 'x' and creation_time > 5", EXPERIMENT_SEARCH)).toEqual([
      { entity: "attribute", key: "name", op: "LIKE", value: "demo-%" },
      { entity: "tag", key: "team", op: "=", value: "x" },
      { entity: "attribute", key: "creation_time", op: ">", value: 5 },
    ]);
    fails(() => parseFilter("metrics.loss < 1", EXPERIMENT_SEARCH), "Invalid entity type 'metrics'");
    fails(() => parseFilter("status = 'x'", EXPERIMENT_SEARCH), "Invalid attribute key 'status'");
  });
});

describe("order_by", () => {
  it("reads identifiers with an optional direction, ascending by default", () => {
    expect(parseOrderBy(["metrics.loss ASC", "params.lr desc", 'tags."mlflow.runName"', "attributes.start_time DESC", "end_time"], RUN_SEARCH)).toEqual([
      { entity: "metric", key: "loss", ascending: true },
      { entity: "param", key: "lr", ascending: false },
      { entity: "tag", key: "mlflow.runName", ascending: true },
      { entity: "attribute", key: "start_time", ascending: false },
      { entity: "attribute", key: "end_time", ascending: true },
    ]);
    expect(parseOrderBy(["experiment_id DESC"], EXPERIMENT_SEARCH)).toEqual([{ entity: "attribute", key: "experiment_id", ascending: false }]);
  });

  it("refuses bad directions, unparsable items, unknown keys and duplicates", () => {
    fails(() => parseOrderBy(["metrics.loss SIDEWAYS"], RUN_SEARCH), "Invalid ordering key in order_by clause 'metrics.loss SIDEWAYS'.");
    fails(() => parseOrderBy(["metrics.loss ASC DESC"], RUN_SEARCH), "Invalid ordering key");
    fails(() => parseOrderBy([""], RUN_SEARCH), "Invalid order_by clause ''. Could not be parsed.");
    fails(() => parseOrderBy(["lifecycle_stage"], RUN_SEARCH), "Invalid attribute key 'lifecycle_stage'");
    fails(() => parseOrderBy(["metrics.a", "metric.a DESC"], RUN_SEARCH), "`order_by` contains duplicate fields");
  });
});

describe("page tokens", () => {
  it('are base64 of MLflow\'s {"offset": N}', () => {
    expect(encodePageToken(1)).toBe("eyJvZmZzZXQiOiAxfQ==");
    expect(decodePageToken("eyJvZmZzZXQiOiAyfQ==")).toBe(2);
    expect(decodePageToken(undefined)).toBe(0);
    expect(decodePageToken(encodePageToken(123456))).toBe(123456);
  });

  it("are refused unless exactly that shape", () => {
    for (const token of ["!!!", btoa("not json"), btoa('{"offset": -1}'), btoa('{"offset": 1.5}'), btoa('{"offset": "1"}'), btoa('{"offset": 1, "x": 2}'), btoa("[1]"), btoa("null")]) {
      expect(() => decodePageToken(token)).toThrow(/Invalid page token/);
    }
  });

  it("a next token comes with every full page", () => {
    expect(nextPageToken(0, 2, 2)).toBe(encodePageToken(2));
    expect(nextPageToken(4, 1, 2)).toBeUndefined();
    expect(nextPageToken(0, 0, 0)).toBeUndefined();
  });
});
