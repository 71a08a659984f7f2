/**
 * runs/search with tag and param filters starts from the (key, value, run_uuid) indexes, and a
 * whole answer reads a bounded number of D1 rows per returned run (Server-Timing).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseFilter, parseOrderBy, RUN_SEARCH } from "../../functions/search/filter";
import { openDb } from "../../functions/store/db";
import { rankRunIds } from "../../functions/store/search";
import { call } from "./support/call";

const db = openDb(env.DB);
const RUNS = 2000;
/** A config.json's worth of params, the pipeline's 9 tags (group among them), 4 latest metrics. */
const PARAMS = 78;
const TAGS = 9;
const METRICS = 4;
const uuid = (i: number) => i.toString(16).padStart(32, "0");
const group = (i: number) => `g${i % 10}`;
const lr = (i: number) => String(i % 7);

beforeAll(async () => {
  const ids = JSON.stringify(Array.from({ length: RUNS }, (_, i) => i));
  await env.DB.batch([
    env.DB.prepare(
      `insert into runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
       select printf('%032x', value), 0, 'run-' || value, 'FINISHED', 1700000000000 + value * 1000, 'x' from json_each(?)`,
    ).bind(ids),
    env.DB.prepare(`insert into params (run_uuid, key, value) select printf('%032x', value), 'lr', value % 7 from json_each(?)`).bind(ids),
    env.DB.prepare(
      `with recursive k(i) as (select 1 union all select i + 1 from k where i < ${PARAMS - 1})
       insert into params (run_uuid, key, value) select printf('%032x', j.value), printf('config_%02d', k.i), j.value % 13 from json_each(?) j cross join k`,
    ).bind(ids),
    env.DB.prepare(`insert into tags (run_uuid, key, value) select printf('%032x', value), 'group', 'g' || (value % 10) from json_each(?)`).bind(ids),
    env.DB.prepare(
      `with recursive k(i) as (select 1 union all select i + 1 from k where i < ${TAGS - 1})
       insert into tags (run_uuid, key, value) select printf('%032x', j.value), printf('tag_%d', k.i), 'v' from json_each(?) j cross join k`,
    ).bind(ids),
    env.DB.prepare(
      `with recursive k(i) as (select 0 union all select i + 1 from k where i < ${METRICS - 1})
       insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan)
       select printf('%032x', j.value), printf('m%d', k.i), 0, 0, (j.value * 7919 + k.i) % 3001 / 3001.0, 0 from json_each(?) j cross join k`,
    ).bind(ids),
  ]);
}, 60_000);

const search = (filter: string, order: string[] = [], maxResults = 1000) =>
  rankRunIds(db, {
    experimentIds: [0],
    filter: parseFilter(filter, RUN_SEARCH),
    orderBy: parseOrderBy(order, RUN_SEARCH),
    viewType: "ACTIVE_ONLY",
    maxResults,
  });

/** The matching runs, newest first (MLflow's default order), computed from the seed. */
const expected = (match: (i: number) => boolean) =>
  Array.from({ length: RUNS }, (_, i) => i)
    .filter(match)
    .reverse()
    .map(uuid);

describe("runs/search filters over 2,000 runs", () => {
  it("a tag and a param equality: the right runs, reading the matching index entries, not the experiment", async () => {
    const { ids, rowsRead } = await search("tags.group = 'g1' and params.lr = '3'");
    const want = expected((i) => group(i) === "g1" && lr(i) === "3");
    expect(want.length).toBeGreaterThan(20);
    expect(ids).toEqual(want);
    // The 200 g1 tags, then per candidate its run and its lr param; checking every run read 4,229.
    expect(rowsRead).toBeLessThanOrEqual(200 + 3 * 200 + 30);
  });

  it("mixes indexed equalities with other clauses and orders, exactly as before", async () => {
    const { ids } = await search("params.lr = '3' and tags.group LIKE 'g1%' and attributes.status = 'FINISHED'");
    expect(ids).toEqual(expected((i) => group(i) === "g1" && lr(i) === "3"));
    const byMetric = await search("tags.group = 'g2'", ["metrics.m1 ASC"]);
    expect(byMetric.ids).toHaveLength(200);
    const none = await search("tags.group = 'g1' and params.lr = 'nope'");
    expect(none.ids).toEqual([]);
    const byName = await search("params.lr != '3' and tags.group = 'g4'", ["attributes.run_name ASC"]);
    expect(byName.ids).toEqual(expected((i) => group(i) === "g4" && lr(i) !== "3").sort((a, b) => (`run-${parseInt(a, 16)}` < `run-${parseInt(b, 16)}` ? -1 : 1)));
  });

  it("starts from the first indexed equality's range, tag or param", async () => {
    const byParam = await search("params.lr = '3' and tags.group = 'g1'");
    expect(byParam.ids).toEqual(expected((i) => group(i) === "g1" && lr(i) === "3"));
    // The 286 lr=3 params, then per candidate its run and its group tag.
    expect(byParam.rowsRead).toBeLessThanOrEqual(286 + 3 * 286 + 30);
    expect(byParam.rowsRead).toBeGreaterThan(286);
  });

  it("a whole runs/search answer reads a bounded number of rows per returned run (Server-Timing)", async () => {
    for (const [filter, order] of [
      ["", ["metrics.m0 DESC"]],
      ["tags.group = 'g3' and params.lr = '5'", []],
    ] as const) {
      const body = { experiment_ids: ["0"], filter, order_by: order, max_results: 10 };
      const response = await call("POST", "/api/2.0/mlflow/runs/search", { body, headers: { "Content-Type": "application/json" } });
      expect(response.status).toBe(200);
      const { runs } = response.json as { runs: Array<{ data: { params: unknown[] } }> };
      expect(runs).toHaveLength(10);
      expect(runs[0].data.params).toHaveLength(PARAMS);
      const rowsRead = Number(response.headers.get("Server-Timing")?.match(/rows_read=(\d+)/)?.[1]);
      const ranking = (await search(filter, [...order], 10)).rowsRead;
      // Beyond the ranking: each returned param, tag and metric is an index entry and a table row;
      // each run its row, its index entry and its id in each statement's json_each; a few lookups
      // (the dataset inputs' two, asked in the same batch whether or not a run has any).
      const perRun = 2 * (PARAMS + TAGS + METRICS) + 10;
      expect(rowsRead - ranking).toBeGreaterThan(10 * (PARAMS + TAGS + METRICS));
      expect(rowsRead - ranking).toBeLessThanOrEqual(10 * perRun + 50);
    }
    // The metric-ordered ranking itself reads about two rows per returned run however many runs there are.
    expect((await search("", ["metrics.m0 DESC"])).rowsRead).toBeLessThanOrEqual(2 * 1000 + 30);
  });
});
