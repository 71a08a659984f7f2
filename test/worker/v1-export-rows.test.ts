/** An export page reads rows in proportion to what it holds, however many runs come before or after it. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { EXPORT_RUNS_PER_PAGE } from "../../functions/store/export";
import { ADMIN_TOKEN as ADMIN, call } from "./support/call";

const RUNS = 3000;

beforeAll(async () => {
  await env.DB.prepare(
    `insert into runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
     select printf('%032x', value), 0, 'run-' || value, 'FINISHED', 1700000000000 + value, 'x' from json_each(?)`,
  )
    .bind(JSON.stringify(Array.from({ length: RUNS }, (_, i) => i)))
    .run();
});

describe("export pages over many runs", () => {
  for (const [scope, token] of [
    ["public", undefined],
    ["backup", ADMIN],
  ] as const) {
    it(`${scope}: every page of ${EXPORT_RUNS_PER_PAGE} runs reads about its own runs' rows, from the cursor on`, async () => {
      const rows: number[] = [];
      let runs = 0;
      let next: string | undefined;
      do {
        const response = await call("GET", `/api/v1/export${next ? `?page_token=${next}` : ""}`, { token });
        rows.push(Number(response.headers.get("Server-Timing")?.match(/rows_read=(\d+)/)?.[1]));
        const page = response.json;
        runs += page.runs.length;
        next = page.next_page_token;
      } while (next);
      expect(runs).toBe(RUNS);
      // Each run: its row and index entry, and its id in each of a few statements' json_each (params,
      // tags, keys, points, the artifact listing).
      for (const read of rows) expect(read).toBeLessThanOrEqual(13 * EXPORT_RUNS_PER_PAGE);
    }, 60_000);
  }
});
