/** The metric-ordered runs/search ranks from latest_metrics_key_value_idx and reads few D1 rows. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunSearchCursor } from "../../functions/search/cursor-token";
import { parseFilter, parseOrderBy, RUN_SEARCH } from "../../functions/search/filter";
import { openDb } from "../../functions/store/db";
import { rankRunIds } from "../../functions/store/search";
import { post } from "./support/call";

const db = openDb(env.DB);
const RUNS = 3000;
const uuid = (i: number) => i.toString(16).padStart(32, "0");

beforeAll(async () => {
  const ids = Array.from({ length: RUNS }, (_, i) => i);
  // Seeded in bulk through SQL; the API path is covered by the other mlflow tests.
  await env.DB.batch([
    env.DB.prepare(
      `insert into runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
       select printf('%032x', value), 0, 'run-' || value, 'FINISHED', 1700000000000 + value, 'x' from json_each(?)`,
    ).bind(JSON.stringify(ids)),
    // Every run has f1 (every 100th is NaN); only even runs have loss.
    env.DB.prepare(
      `insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan)
       select printf('%032x', value), 'f1', 0, 0, case when value % 100 = 7 then 0 else (value * 7919 % 3001) / 3001.0 end, value % 100 = 7 from json_each(?)`,
    ).bind(JSON.stringify(ids)),
    env.DB.prepare(
      `insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan)
       select printf('%032x', value), 'loss', 0, 0, value / 10.0, 0 from json_each(?) where value % 2 = 0`,
    ).bind(JSON.stringify(ids)),
    // 300 runs share three values of "tied": ties cross every page edge.
    env.DB.prepare(
      `insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan)
       select printf('%032x', value), 'tied', 0, 0, value % 3, 0 from json_each(?) where value < 300`,
    ).bind(JSON.stringify(ids)),
    env.DB.prepare(`insert into params (run_uuid, key, value) select printf('%032x', value), 'seed', value % 5 from json_each(?)`).bind(JSON.stringify(ids)),
  ]);
});

const search = (order: string, extra: { filter?: string; maxResults?: number; after?: RunSearchCursor } = {}) =>
  rankRunIds(db, {
    experimentIds: [0],
    filter: parseFilter(extra.filter, RUN_SEARCH),
    orderBy: parseOrderBy([order], RUN_SEARCH),
    viewType: "ACTIVE_ONLY",
    maxResults: extra.maxResults ?? 100,
    after: extra.after,
  });

/** Every page of `pageSize` runs, each started after the last run of the one before (as the page token does). */
async function paged(order: string, pageSize: number, until = RUNS) {
  const ids: string[] = [];
  const rowsRead: number[] = [];
  let after: RunSearchCursor | undefined;
  for (;;) {
    const page = await search(order, { maxResults: pageSize, after });
    ids.push(...page.ids);
    rowsRead.push(page.rowsRead);
    if (page.ids.length < pageSize || ids.length >= until) return { ids, rowsRead };
    after = page.cursors.at(-1);
  }
}

describe("runs/search ranking cost", () => {
  it("the top 100 by a metric reads about 200 rows out of 3000 runs", async () => {
    const { ids, rowsRead } = await search("metrics.f1 DESC");
    expect(ids).toHaveLength(100);
    expect(rowsRead).toBeLessThanOrEqual(205);
    const values = await env.DB.prepare(`select value from latest_metrics where key = 'f1' and run_uuid in (select value from json_each(?))`)
      .bind(JSON.stringify(ids))
      .all<{ value: number }>();
    const best = await env.DB.prepare(`select value from latest_metrics where key = 'f1' and is_nan = 0 order by value desc limit 100`).all<{ value: number }>();
    expect(
      values.results
        .map((r) => r.value)
        .sort()
        .reverse(),
    ).toEqual(
      best.results
        .map((r) => r.value)
        .sort()
        .reverse(),
    );
  });

  it("the plan walks latest_metrics_key_value_idx and looks runs up by primary key", async () => {
    const plan = await env.DB.prepare(
      `explain query plan select r.run_uuid from latest_metrics lm cross join runs r on r.run_uuid = lm.run_uuid
       where lm.key = 'f1' and lm.is_nan = 0 and r.experiment_id in (select value from json_each('[0]')) and r.lifecycle_stage = 'active'
       order by lm.value desc, r.start_time desc, r.run_uuid asc limit 100`,
    ).all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail).join("\n");
    expect(details).toMatch(/SEARCH lm USING INDEX latest_metrics_key_value_idx \(key=\?\)/);
    expect(details).toMatch(/SEARCH r USING INDEX sqlite_autoindex_runs_1 \(run_uuid=\?\)/);
  });

  it("NaN values sort after numbers and runs without the metric come last, in both directions", async () => {
    for (const direction of ["ASC", "DESC"]) {
      const { ids } = await search(`metrics.loss ${direction}`, { maxResults: RUNS });
      expect(ids).toHaveLength(RUNS);
      const withLoss = ids.slice(0, RUNS / 2).map((id) => parseInt(id, 16));
      expect(withLoss.every((i) => i % 2 === 0)).toBe(true);
      expect(ids.slice(RUNS / 2).every((id) => parseInt(id, 16) % 2 === 1)).toBe(true);
      expect(withLoss).toEqual([...withLoss].sort((a, b) => (direction === "ASC" ? a - b : b - a)));
      // Runs without the key: start_time DESC.
      expect(parseInt(ids[RUNS / 2], 16)).toBe(RUNS - 1);
    }
    const { ids } = await search("metrics.f1 ASC", { maxResults: RUNS });
    const nanRuns = ids.slice(RUNS - RUNS / 100).map((id) => parseInt(id, 16));
    expect(nanRuns.every((i) => i % 100 === 7)).toBe(true);
  });

  it("pages over the segments add up to the whole ordering", async () => {
    const { ids: all } = await search("metrics.loss DESC", { maxResults: RUNS });
    expect((await paged("metrics.loss DESC", 700)).ids).toEqual(all);
    expect((await search("metrics.loss DESC", { maxResults: 10, after: [2, all[RUNS - 1]] })).ids).toEqual([]);
  });

  it("a deep page reads rows in proportion to what it returns (keyset paging, not offsets)", async () => {
    // Rows per returned run, whatever the page's depth: two (an index entry, a run); four past the
    // runs with loss, where half of the runs walked by start time have it and are passed over.
    for (const [order, perRun] of [
      ["metrics.f1 DESC", 2],
      ["metrics.loss ASC", 4],
      ["attributes.start_time DESC", 2],
    ] as const) {
      const { ids, rowsRead } = await paged(order, 300);
      expect(new Set(ids).size).toBe(RUNS);
      for (const rows of rowsRead) expect(rows, order).toBeLessThanOrEqual(perRun * 300 + 100);
    }
  });

  it("ties are ordered by start_time DESC then run id, also across page edges", async () => {
    for (const ascending of [true, false]) {
      const expected = Array.from({ length: 300 }, (_, i) => i)
        .sort((a, b) => (ascending ? (a % 3) - (b % 3) : (b % 3) - (a % 3)) || b - a)
        .map(uuid);
      const order = `metrics.tied ${ascending ? "ASC" : "DESC"}`;
      for (const pageSize of [7, 100, 300]) {
        expect((await paged(order, pageSize, 300)).ids.slice(0, 300)).toEqual(expected);
      }
    }
  });

  it("filters still apply on the fast path, and the API returns the page with its data", async () => {
    const res = await post("runs/search", { experiment_ids: ["0"], filter: "params.seed = '3' and metrics.f1 >= 0.5", order_by: ["metrics.f1 DESC"], max_results: 5 });
    expect(res.status).toBe(200);
    expect(res.json.runs).toHaveLength(5);
    const f1 = res.json.runs.map((r: any) => r.data.metrics.find((m: any) => m.key === "f1").value);
    expect(f1).toEqual([...f1].sort((a, b) => b - a));
    for (const run of res.json.runs) {
      expect(run.data.params).toEqual([{ key: "seed", value: "3" }]);
      expect(f1.every((v: number) => v >= 0.5)).toBe(true);
    }
    const next = await post("runs/search", {
      experiment_ids: ["0"],
      filter: "params.seed = '3' and metrics.f1 >= 0.5",
      order_by: ["metrics.f1 DESC"],
      max_results: 5,
      page_token: res.json.next_page_token,
    });
    const both = await post("runs/search", { experiment_ids: ["0"], filter: "params.seed = '3' and metrics.f1 >= 0.5", order_by: ["metrics.f1 DESC"], max_results: 10 });
    expect([...res.json.runs, ...next.json.runs].map((r: any) => r.info.run_id)).toEqual(both.json.runs.map((r: any) => r.info.run_id));
  });
});
