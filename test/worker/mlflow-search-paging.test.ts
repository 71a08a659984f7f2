/**
 * runs/search answers are bounded (functions/store/search.ts SEARCH_PAGE) whatever max_results asks:
 * at most maxRuns runs and about maxBytes of data per page, with a next_page_token that, followed as
 * MLflow's client does, yields every run exactly once in order.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SEARCH_PAGE } from "../../functions/store/search";
import { d1Cost, post } from "./support/call";

const SMALL = SEARCH_PAGE.maxRuns + 300;
const BIG = 40;
/** 78 params of 2,000 characters: ~156 kB a run, so about maxBytes / 156 kB runs fit a page. */
const BIG_VALUE = 2000;

beforeAll(async () => {
  const created = await post("experiments/create", { name: "big-params" });
  const bigExperiment = created.json.experiment_id;
  await env.DB.batch([
    env.DB.prepare(
      `insert into runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
       select printf('%032x', value), 0, 'run-' || value, 'FINISHED', 1700000000000 + value, 'x' from json_each(?)`,
    ).bind(JSON.stringify(Array.from({ length: SMALL }, (_, i) => i))),
    env.DB.prepare(
      `insert into runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
       select printf('b%031x', value), ?, 'big-' || value, 'FINISHED', 1700000000000 + value, 'x' from json_each(?)`,
    ).bind(bigExperiment, JSON.stringify(Array.from({ length: BIG }, (_, i) => i))),
    env.DB.prepare(
      `with recursive k(i) as (select 0 union all select i + 1 from k where i < 77)
       insert into params (run_uuid, key, value) select r.run_uuid, printf('config_%02d', k.i), printf('%0${BIG_VALUE}d', k.i)
       from runs r cross join k where r.experiment_id = ?`,
    ).bind(bigExperiment),
  ]);
  (globalThis as any).bigExperiment = bigExperiment;
}, 60_000);

/** Follows next_page_token as MLflow's client does; returns every page's size and the run names. */
async function allPages(experimentId: string, maxResults: number) {
  const sizes: number[] = [];
  const names: string[] = [];
  const rowsRead: number[] = [];
  let token: string | undefined;
  do {
    const page = await post("runs/search", { experiment_ids: [experimentId], max_results: maxResults, ...(token && { page_token: token }) });
    expect(page.status, page.text.slice(0, 200)).toBe(200);
    const runs = page.json.runs ?? [];
    sizes.push(runs.length);
    rowsRead.push(d1Cost(page).rowsRead);
    names.push(...runs.map((r: any) => r.info.run_name));
    token = page.json.next_page_token;
  } while (token && sizes.length < 100);
  return { sizes, names, rowsRead };
}

describe("runs/search pages by size", () => {
  it("caps a page at maxRuns runs however many are asked for, and the token leads to the rest", async () => {
    const { sizes, names } = await allPages("0", 50_000);
    expect(sizes).toEqual([SEARCH_PAGE.maxRuns, SMALL - SEARCH_PAGE.maxRuns]);
    expect(names).toEqual(Array.from({ length: SMALL }, (_, i) => `run-${SMALL - 1 - i}`));
  });

  it("cuts a page of large runs at about maxBytes of data, every run returned once, in order", async () => {
    const { sizes, names } = await allPages((globalThis as any).bigExperiment, 1000);
    const perPage = Math.ceil(SEARCH_PAGE.maxBytes / (78 * (BIG_VALUE + 33)));
    expect(sizes[0]).toBeGreaterThan(perPage - 3);
    expect(sizes[0]).toBeLessThanOrEqual(perPage + 1);
    expect(sizes.length).toBeGreaterThan(1);
    expect(names).toEqual(Array.from({ length: BIG }, (_, i) => `big-${BIG - 1 - i}`));
  });

  it("follows next_page_token through deep pages, each reading rows in proportion to what it returns", async () => {
    const size = 100;
    const full = Math.floor(SMALL / size);
    const { sizes, names, rowsRead } = await allPages("0", size);
    expect(names).toEqual(Array.from({ length: SMALL }, (_, i) => `run-${SMALL - 1 - i}`));
    expect(sizes).toEqual([...Array(full).fill(size), SMALL % size]);
    // With offsets the last full page re-read the runs of every page before it.
    for (const rows of rowsRead.slice(0, full)) expect(rows).toBeLessThanOrEqual(rowsRead[0] + 20);
  });

  it("a page that is not full and not cut has no token", async () => {
    const page = await post("runs/search", { experiment_ids: [(globalThis as any).bigExperiment], max_results: 5 });
    expect(page.json.runs).toHaveLength(5);
    expect(page.json.next_page_token).toBeDefined();
    const last = await post("runs/search", { experiment_ids: ["0"], max_results: 10, filter: "attributes.run_name = 'run-7'" });
    expect(last.json.runs).toHaveLength(1);
    expect(last.json.next_page_token).toBeUndefined();
  });
});
