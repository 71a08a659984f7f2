/**
 * runs/search answers every run's params and tags exactly as logged and in the order they were
 * logged, whatever the text (NULs, control characters, quotes, backslashes, astral characters,
 * maximal values) and however the runs' rows interleave: the store reads them in chunks of rowids
 * (store/search.ts keyValueChunks), which these runs cross many times.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../functions/domain/limits";
import { post } from "./support/call";

const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("");
const ODD_TEXT = ["abc\0def", "\0", `${CONTROLS}"\\\\u0000\u007f`, "é-😀-𝔘-\u200b-\ufeff", "'; drop table params; --", " leading and trailing "];

type KeyValue = { key: string; value: string };
/** What each run was sent, in order. */
const logged: Record<string, { runId: string; params: KeyValue[]; tags: KeyValue[] }> = {};
let experimentId = "";

beforeAll(async () => {
  experimentId = (await post("experiments/create", { name: "search-run-data" })).json.experiment_id;
  for (const name of ["a", "b", "c"]) {
    const run = (await post("runs/create", { experiment_id: experimentId, run_name: name })).json.run;
    logged[name] = { runId: run.info.run_id, params: [], tags: [{ key: "mlflow.runName", value: name }] };
  }
  // Rounds of small batches to each run in turn, so that every run's rows are spread over many
  // rowid chunks shared with the other runs' rows.
  for (let round = 0; round < 12; round++) {
    for (const [index, name] of ["a", "b", "c"].entries()) {
      const count = 3 + ((round + index) % 5);
      const params = Array.from({ length: count }, (_, i) => ({
        key: `p${String(round).padStart(2, "0")}_${i}`,
        value: i === 0 ? ODD_TEXT[(round + index) % ODD_TEXT.length] : `${name}-${round}-${i}`,
      }));
      const tags = [{ key: `t${round}`, value: ODD_TEXT[(round + 2 * index) % ODD_TEXT.length] }];
      expect((await post("runs/log-batch", { run_id: logged[name].runId, params, tags })).status).toBe(200);
      logged[name].params.push(...params);
      logged[name].tags.push(...tags);
    }
  }
  // A maximal param value and a maximal tag value of escaped characters (each 6 bytes in JSON).
  const longParam = { key: "long", value: "\u0001".repeat(LIMITS.maxParamValueLength) };
  const longTag = { key: "long", value: "\u0001".repeat(LIMITS.maxTagValueLength) };
  expect((await post("runs/log-batch", { run_id: logged.a.runId, params: [longParam], tags: [longTag] })).status).toBe(200);
  logged.a.params.push(longParam);
  logged.a.tags.push(longTag);
});

describe("runs/search run data", () => {
  it("answers each run's params and tags verbatim, in logged order", async () => {
    const answer = await post("runs/search", { experiment_ids: [experimentId], order_by: ["attributes.run_name ASC"] });
    expect(answer.status).toBe(200);
    const runs = answer.json.runs as Array<{ info: { run_name: string }; data: { params: KeyValue[]; tags: KeyValue[] } }>;
    expect(runs.map((r) => r.info.run_name)).toEqual(["a", "b", "c"]);
    for (const run of runs) {
      const sent = logged[run.info.run_name];
      expect(sent.params.length).toBeGreaterThan(32);
      expect(run.data.params).toEqual(sent.params);
      expect(run.data.tags).toEqual(sent.tags);
    }
  });

  it("answers the same data for a page of one run as for all three", async () => {
    const one = await post("runs/search", { experiment_ids: [experimentId], filter: "attributes.run_name = 'b'" });
    expect(one.json.runs).toHaveLength(1);
    expect(one.json.runs[0].data.params).toEqual(logged.b.params);
    expect(one.json.runs[0].data.tags).toEqual(logged.b.tags);
  });
});
