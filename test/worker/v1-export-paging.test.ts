import { beforeAll, describe, expect, it } from "vitest";
import { type ExportDocument, mergeExportPages } from "../../functions/domain/export-document";
import { EXPORT_POINTS_PER_PAGE } from "../../functions/store/export";
import { ADMIN_TOKEN as ADMIN, call, d1Cost } from "./support/call";

const pointsOf = (run: any) => Object.values(run.metrics as Record<string, unknown[]>).reduce((sum, h) => sum + h.length, 0);
/** Run name -> points per key; set_03's history is longer than a page, spread over two keys. */
const SIZES: Record<string, Record<string, number>> = {
  "set_01/teacher_curriculum": { loss: 30_000 },
  "set_02/teacher_curriculum": { loss: 30_000 },
  "set_03/teacher_curriculum": { acc: 20_000, loss: 45_000 },
  "set_04/teacher_curriculum": { loss: 10 },
};

/** Every page of the export, in order, with the D1 rows each read. */
async function exportPages(token?: string) {
  const pages: Array<{ doc: ExportDocument; rowsRead: number }> = [];
  let next: string | undefined;
  do {
    const response = await call("GET", `/api/v1/export${next ? `?page_token=${next}` : ""}`, { token });
    const { rowsRead } = d1Cost(response);
    const doc = response.json as ExportDocument;
    pages.push({ doc, rowsRead });
    next = doc.next_page_token;
  } while (next && pages.length < 20);
  return pages;
}

beforeAll(async () => {
  for (const [runId, keys] of Object.entries(SIZES)) {
    await call("PUT", `/api/v1/runs/${runId}`, { token: ADMIN, body: {} });
    const steps = Math.max(...Object.values(keys));
    for (let from = 0; from < steps; from += 20_000) {
      const points = Array.from({ length: Math.min(20_000, steps - from) }, (_, i) => from + i).map((step) => ({
        step,
        metrics: Object.fromEntries(Object.entries(keys).flatMap(([key, n]) => (step < n ? [[key, step / 7]] : []))),
      }));
      expect((await call("POST", `/api/v1/runs/${runId}/metrics`, { token: ADMIN, body: points })).status).toBe(200);
    }
  }
}, 120_000); // 135,000 points: seconds, more under a loaded machine

describe("export paging by metric points", () => {
  it("keeps every page within the point budget, a longer history cut into parts, each page reading at most a page of points", async () => {
    const pages = await exportPages();
    for (const { doc, rowsRead } of pages) {
      const points = doc.runs.reduce((sum, run) => sum + pointsOf(run), 0);
      expect(points).toBeLessThanOrEqual(EXPORT_POINTS_PER_PAGE);
      // At most a page of points (one D1 row each, those of a run cut off included), one more to see a cut, and the runs' few other rows.
      expect(rowsRead).toBeLessThanOrEqual(EXPORT_POINTS_PER_PAGE + 200);
    }
    const parts = pages.flatMap(({ doc }) => doc.runs.filter((run) => run.part).map((run) => [run.run_name, run.part]));
    expect(parts).toEqual([
      ["set_03/teacher_curriculum", { index: 1, last: false }],
      ["set_03/teacher_curriculum", { index: 2, last: true }],
    ]);
    // Part 1 lists every key (first-logged order), whatever part holds its points.
    const first = pages.flatMap(({ doc }) => doc.runs).find((run) => run.part?.index === 1);
    expect(Object.keys(first?.metrics ?? {})).toEqual(["acc", "loss"]);
  }, 60_000);

  it("joined back (mergeExportPages), every run holds its whole history in step order", async () => {
    const merged = mergeExportPages((await exportPages()).map((p) => p.doc));
    expect(merged.runs.map((run) => run.run_name).sort()).toEqual(Object.keys(SIZES));
    for (const run of merged.runs) {
      expect(run.part).toBeUndefined();
      const lengths = Object.fromEntries(Object.entries(run.metrics).map(([key, history]) => [key, history.length]));
      expect(lengths).toEqual(SIZES[run.run_name]);
      for (const history of Object.values(run.metrics)) expect(history.map(([step]) => step)).toEqual(history.map((_, i) => i));
    }
  }, 60_000);

  it("importing the pages again, parts included, changes nothing; a later part without its run is refused", async () => {
    const pages = await exportPages(ADMIN);
    for (const { doc } of pages) {
      const { exported_at: _at, next_page_token: _next, ...body } = doc;
      const response = await call("POST", "/api/v1/import", { token: ADMIN, body });
      expect(response.json).toEqual({ imported: { experiments: 0, runs: 0 } });
    }
    const count = (await call("GET", "/api/v1/export", { token: ADMIN })).json;
    expect(count.runs.length).toBeGreaterThan(0);
    const later = pages.flatMap(({ doc }) => doc.runs).find((run) => run.part?.index === 2);
    const stray = { ...later, mlflow_run_id: "f".repeat(32) };
    const refused = await call("POST", "/api/v1/import", { token: ADMIN, body: { format: "kdgat-export", version: 1, experiments: pages[0].doc.experiments, runs: [stray] } });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/Part 2 of run f{32} comes before its part 1/);
  }, 60_000);
});
