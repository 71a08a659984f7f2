/**
 * A long metric history comes in pages of HISTORY_PAGE_POINTS (MLflow's get-history and the v1
 * route alike); following next_page_token yields every point once, in order, each page reading
 * about its own points.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { HISTORY_PAGE_POINTS } from "../../functions/store/runs";
import { ADMIN_TOKEN, call, d1Cost } from "./support/call";

const POINTS = 2 * HISTORY_PAGE_POINTS + 1234;
let runUuid = "";

beforeAll(async () => {
  const started = (await call("PUT", "/api/v1/runs/hist_a/teacher_normal", { token: ADMIN_TOKEN, body: "{}" })).json;
  runUuid = started.run_id;
  // Steps 0.. with two points at step 7 (timestamps 1 and 2) and a NaN, to exercise the order's ties.
  await env.DB.prepare(
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ${POINTS - 2})
     insert into metrics (run_uuid, key, step, timestamp, value, is_nan)
     select ?, 'loss', i, 1, case when i = 9 then 0 else 1.0 / (i + 1) end, i = 9 from n
     union all select ?, 'loss', 7, 2, 0.5, 0`,
  )
    .bind(runUuid, runUuid)
    .run();
}, 60_000);

async function followPages(first: string, next: (token: string) => string, pick: (body: any) => any[]) {
  const pages: Array<{ points: any[]; rowsRead: number }> = [];
  let url: string | undefined = first;
  while (url && pages.length < 10) {
    const response = await call("GET", url);
    expect(response.status).toBe(200);
    const body = response.json;
    pages.push({ points: pick(body), rowsRead: d1Cost(response).rowsRead });
    url = body.next_page_token ? next(body.next_page_token) : undefined;
  }
  return pages;
}

describe("metric history in pages", () => {
  it("MLflow's get-history: pages of 25,000 points, every point once, in (step, timestamp) order", async () => {
    const base = `/api/2.0/mlflow/metrics/get-history?run_id=${runUuid}&metric_key=loss&max_results=25000`;
    const pages = await followPages(
      base,
      (t) => `${base}&page_token=${encodeURIComponent(t)}`,
      (b) => b.metrics,
    );
    expect(pages.map((p) => p.points.length)).toEqual([HISTORY_PAGE_POINTS, HISTORY_PAGE_POINTS, POINTS - 2 * HISTORY_PAGE_POINTS]);
    const points = pages.flatMap((p) => p.points);
    expect(points.map((p) => p.step)).toEqual([...Array(8).keys(), 7, ...Array.from({ length: POINTS - 9 }, (_, i) => i + 8)]);
    expect(points[8]).toMatchObject({ step: 7, timestamp: 2, value: 0.5 });
    expect(points[10]).toMatchObject({ step: 9, value: "NaN" });
    // A later page reads its own points, not the ones before it.
    for (const page of pages) expect(page.rowsRead).toBeLessThanOrEqual(HISTORY_PAGE_POINTS + 10);
  });

  it("the v1 history route pages the same way", async () => {
    const base = "/api/v1/runs/hist_a/teacher_normal/metrics/loss";
    const pages = await followPages(
      base,
      (t) => `${base}?page_token=${t}`,
      (b) => b.points,
    );
    expect(pages.map((p) => p.points.length)).toEqual([HISTORY_PAGE_POINTS, HISTORY_PAGE_POINTS, POINTS - 2 * HISTORY_PAGE_POINTS]);
    expect(pages.flatMap((p) => p.points).at(-1).step).toBe(POINTS - 2);
  });

  it("refuses a forged page token with a 400", async () => {
    for (const url of [
      `/api/2.0/mlflow/metrics/get-history?run_id=${runUuid}&metric_key=loss&page_token=${btoa('{"offset": 5}')}`,
      `/api/v1/runs/hist_a/teacher_normal/metrics/loss?page_token=${btoa("[1,2,3,7]")}`,
    ]) {
      const response = await call("GET", url);
      expect(response.status).toBe(400);
      expect(response.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});
