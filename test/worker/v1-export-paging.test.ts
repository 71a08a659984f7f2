import { describe, expect, it } from "vitest";
import { EXPORT_POINTS_PER_PAGE } from "../../functions/store/export";
import { ADMIN_TOKEN, call } from "./support/call";

const pointsOf = (run: any) => Object.values(run.metrics as Record<string, unknown[]>).reduce((sum, h) => sum + h.length, 0);

describe("export paging by metric points", () => {
  it("keeps each page within the point budget, a larger run alone on its page", async () => {
    const sizes = { "set_01/teacher_curriculum": 30_000, "set_02/teacher_curriculum": 30_000, "set_03/teacher_curriculum": 60_000, "set_04/teacher_curriculum": 10 };
    for (const [runId, n] of Object.entries(sizes)) {
      await call("PUT", `/api/v1/runs/${runId}`, { token: ADMIN_TOKEN, body: {} });
      const points = Array.from({ length: n }, (_, step) => ({ step, metrics: { loss: step } }));
      expect((await call("POST", `/api/v1/runs/${runId}/metrics`, { token: ADMIN_TOKEN, body: points })).status).toBe(200);
    }
    const pages: any[] = [];
    let token: string | undefined;
    do {
      const page = (await call("GET", `/api/v1/export${token ? `?page_token=${token}` : ""}`)).json;
      pages.push(page);
      token = page.next_page_token;
    } while (token);
    for (const page of pages) {
      const total = page.runs.reduce((sum: number, run: any) => sum + pointsOf(run), 0);
      expect(page.runs.length === 1 || total <= EXPORT_POINTS_PER_PAGE).toBe(true);
    }
    const exported = Object.fromEntries(pages.flatMap((p) => p.runs).map((run: any) => [run.run_name, pointsOf(run)]));
    expect(exported).toEqual(sizes);
    expect(pages.length).toBeGreaterThanOrEqual(3);
  }, 60_000); // 120,000 points: seconds, more under a loaded machine
});
