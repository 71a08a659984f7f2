/** runs/search semantics through the API: every clause kind, missing keys, ordering, scopes. */
import { beforeAll, describe, expect, it } from "vitest";
import { post } from "./support/call";

let experimentIds: string[] = [];
const names = async (body: object) => ((await post("runs/search", { experiment_ids: experimentIds, ...body })).json.runs ?? []).map((r: { info: { run_name: string } }) => r.info.run_name);

beforeAll(async () => {
  experimentIds = [(await post("experiments/create", { name: "search-a" })).json.experiment_id, (await post("experiments/create", { name: "search-b" })).json.experiment_id];
  const runs = [
    { name: "r1", exp: 0, start: 1000, params: { model: "GAT-large", lr: "0.1" }, tags: { "mlflow.note": "x*y", stage: "curriculum" }, metrics: { f1: 0.9, "val-loss": 0.3 } },
    { name: "r2", exp: 0, start: 2000, params: { model: "gat-small" }, tags: { stage: "fusion" }, metrics: { f1: 0.7 } },
    { name: "r3", exp: 1, start: 3000, params: { model: "vgae" }, tags: {}, metrics: { "val-loss": 0.1 } },
    { name: "r4", exp: 1, start: 4000, params: {}, tags: { stage: "curriculum" }, metrics: { f1: 0.7 } },
  ];
  for (const r of runs) {
    const run = (await post("runs/create", { experiment_id: experimentIds[r.exp], run_name: r.name, start_time: r.start })).json.run;
    await post("runs/log-batch", {
      run_id: run.info.run_id,
      params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(r.tags).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(r.metrics).map(([key, value]) => ({ key, value, timestamp: 1, step: 0 })),
    });
    if (r.name === "r3") await post("runs/update", { run_id: run.info.run_id, status: "FINISHED", end_time: 5000 });
  }
});

describe("runs/search", () => {
  it("defaults to start_time DESC over all given experiments", async () => {
    expect(await names({})).toEqual(["r4", "r3", "r2", "r1"]);
    expect(await names({ experiment_ids: [experimentIds[0]] })).toEqual(["r2", "r1"]);
    expect(await names({ experiment_ids: [] })).toEqual([]);
    expect(await names({ experiment_ids: ["not-a-number"] })).toEqual([]);
  });

  it("metric clauses compare the latest value; a run without the key never matches", async () => {
    expect(await names({ filter: "metrics.f1 >= 0.7" })).toEqual(["r4", "r2", "r1"]);
    expect(await names({ filter: "metrics.f1 != 0.7" })).toEqual(["r1"]);
    expect(await names({ filter: "metrics.`val-loss` < 0.2" })).toEqual(["r3"]);
    expect(await names({ filter: 'metrics."val-loss" > 0 and metrics.f1 > 0' })).toEqual(["r1"]);
  });

  it("LIKE is case-sensitive (with % and _), ILIKE is not; glob characters are literal", async () => {
    expect(await names({ filter: "params.model LIKE 'gat%'" })).toEqual(["r2"]);
    expect(await names({ filter: "params.model ILIKE 'gat%'" })).toEqual(["r2", "r1"]);
    expect(await names({ filter: "params.model LIKE '_AT-%'" })).toEqual(["r1"]);
    expect(await names({ filter: "params.model != 'vgae'" })).toEqual(["r2", "r1"]);
    expect(await names({ filter: "tags.\"mlflow.note\" LIKE 'x*%'" })).toEqual(["r1"]);
    expect(await names({ filter: "tags.\"mlflow.note\" LIKE 'xa%'" })).toEqual([]);
    expect(await names({ filter: "tags.stage = 'curriculum'" })).toEqual(["r4", "r1"]);
    expect(await names({ filter: "tags.stage != 'curriculum'" })).toEqual(["r2"]);
  });

  it("attribute clauses: names, status, times, run_id IN / NOT IN", async () => {
    const all = (await post("runs/search", { experiment_ids: experimentIds })).json.runs;
    const idOf = (name: string) => all.find((r: { info: { run_name: string } }) => r.info.run_name === name).info.run_id;
    expect(await names({ filter: "attributes.run_name = 'r2'" })).toEqual(["r2"]);
    expect(await names({ filter: "run.status = 'FINISHED'" })).toEqual(["r3"]);
    expect(await names({ filter: "attr.start_time >= 2000 and start_time < 4000" })).toEqual(["r3", "r2"]);
    expect(await names({ filter: "end_time > 0" })).toEqual(["r3"]);
    expect(await names({ filter: `run_id IN ('${idOf("r1")}', '${idOf("r4")}')` })).toEqual(["r4", "r1"]);
    expect(await names({ filter: `attributes.run_id NOT IN ('${idOf("r1")}')` })).toEqual(["r4", "r3", "r2"]);
    expect(await names({ filter: `run_id = '${idOf("r3")}'` })).toEqual(["r3"]);
    expect(await names({ filter: "user_id = '' and artifact_uri LIKE 'mlflow-artifacts:/%'" })).toHaveLength(4);
    expect(await names({ filter: "lifecycle_stage = 'active'" })).toHaveLength(4);
  });

  it("orders by metrics, params, tags and attributes with missing values last in either direction", async () => {
    expect(await names({ order_by: ["metrics.f1 DESC"] })).toEqual(["r1", "r4", "r2", "r3"]);
    expect(await names({ order_by: ["metrics.f1 ASC"] })).toEqual(["r4", "r2", "r1", "r3"]);
    expect(await names({ order_by: ["metrics.f1 ASC", "attributes.start_time ASC"] })).toEqual(["r2", "r4", "r1", "r3"]);
    expect(await names({ order_by: ["params.model"] })).toEqual(["r1", "r2", "r3", "r4"]);
    expect(await names({ order_by: ["params.model DESC"] })).toEqual(["r3", "r2", "r1", "r4"]);
    expect(await names({ order_by: ["tags.stage DESC", "metrics.f1 DESC"] })).toEqual(["r2", "r1", "r4", "r3"]);
    expect(await names({ order_by: ["end_time DESC"] })).toEqual(["r3", "r4", "r2", "r1"]);
    expect(await names({ order_by: ["run_name DESC"] })).toEqual(["r4", "r3", "r2", "r1"]);
    expect(await names({ order_by: ["metrics.`val-loss` ASC"], max_results: 2 })).toEqual(["r3", "r1"]);
  });

  it("pages with tokens until a page is short", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await post("runs/search", { experiment_ids: experimentIds, order_by: ["metrics.f1 DESC"], max_results: 3, ...(token && { page_token: token }) });
      seen.push(...(res.json.runs ?? []).map((r: { info: { run_name: string } }) => r.info.run_name));
      token = res.json.next_page_token;
    } while (token);
    expect(seen).toEqual(["r1", "r4", "r2", "r3"]);
  });
});
