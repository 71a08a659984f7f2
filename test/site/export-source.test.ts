/**
 * Where the site build gets its data (site/lib/export-source.ts): a snapshot file or every page of
 * the API, through the shared client, each page checked with the export format's one schema (the
 * one POST /api/v1/import validates with; test/worker/metric-key-cap.test.ts and v1-export.test.ts
 * check the import side). No Chromium, no Worker: a real file and a real HTTP server.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExportDocument, ExportedRun } from "../../functions/api/contract.js";
import { loadExport } from "../../site/lib/export-source.js";
import { loadWhole } from "./whole-export.js";

const dir = mkdtempSync(join(tmpdir(), "kdgat-export-source-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (uuid: string, overrides: Partial<Record<keyof ExportedRun, unknown>> = {}) => ({
  mlflow_run_id: uuid.padStart(32, "0"),
  experiment_id: "1",
  run_name: "hcrl_sa/teacher_evaluation",
  user_id: "slurm",
  status: "FINISHED",
  start_time: 1000,
  end_time: 2000,
  artifact_uri: "mlflow-artifacts:/1",
  lifecycle_stage: "active",
  deleted_time: null,
  attempt: 1,
  params: { lr: "0.001" },
  tags: {},
  metrics: { gat_f1: [[0, 1500, 0.9]] },
  ...overrides,
});
const doc = (runs: unknown[], extra: object = {}) => ({
  format: "kdgat-export",
  version: 1,
  exported_at: 5000,
  experiments: [{ experiment_id: "1", name: "kd-gat-pipeline", artifact_location: "x", lifecycle_stage: "active", creation_time: 1, last_update_time: 1, tags: {} }],
  runs,
  ...extra,
});
const snapshot = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return { SITE_SNAPSHOT: path };
};

describe("the site's export source", () => {
  it("loads a snapshot that the export format's schema accepts", async () => {
    const loaded = await loadWhole(snapshot("good.json", doc([run("a")])));
    expect(loaded.runs.map((r) => r.mlflow_run_id)).toEqual(["a".padStart(32, "0")]);
  });

  it("refuses what the import route refuses, naming the field and the rule", async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["bad-key.json", doc([run("b", { metrics: { "../f1": [[0, 1, 0.5]] } })]), /runs\.0\.metrics.*Invalid metric name: '\.\.\/f1'/],
      ["no-deleted-time.json", doc([{ ...run("c"), deleted_time: undefined }]), /runs\.0\.deleted_time/],
      ["bad-status.json", doc([run("d", { status: "DONE" })]), /runs\.0\.status/],
      ["bad-uuid.json", doc([run("e", { mlflow_run_id: "not-a-uuid" })]), /runs\.0\.mlflow_run_id: expected 32 lowercase hex characters/],
      ["not-export.json", { format: "other" }, /format/],
      // Each point of a history: [integer step, integer ms >= 0, a number or "NaN"], the first bad one named by index.
      [
        "point-step.json",
        doc([
          run("f", {
            metrics: {
              gat_f1: [
                [0, 1, 0.5],
                [1.5, 2, 0.6],
              ],
            },
          }),
        ]),
        /runs\.0\.metrics\.gat_f1\.1: expected an integer step/,
      ],
      ["point-time.json", doc([run("f", { metrics: { gat_f1: [[0, -1, 0.5]] } })]), /runs\.0\.metrics\.gat_f1\.0: expected a timestamp in integer milliseconds >= 0/],
      ["point-value.json", doc([run("f", { metrics: { gat_f1: [[0, 1, "0.5"]] } })]), /runs\.0\.metrics\.gat_f1\.0: expected a number or "NaN" as the value/],
      ["point-shape.json", doc([run("f", { metrics: { gat_f1: [[0, 1]] } })]), /runs\.0\.metrics\.gat_f1\.0: expected a point \[step, timestamp, value\]/],
      ["history-shape.json", doc([run("f", { metrics: { gat_f1: { 0: [0, 1, 0.5] } } })]), /runs\.0\.metrics\.gat_f1: expected an array of points/],
    ];
    for (const [name, value, reason] of cases) {
      const error = (await loadWhole(snapshot(name, value)).catch((e: unknown) => e)) as Error;
      expect(error.message, name).toMatch(/^Site build: SITE_SNAPSHOT=.* is not a kdgat-export version 1 document/);
      expect(error.message, name).toMatch(reason);
    }
  });

  describe("from the API", () => {
    let server: Server;
    let url = "";
    const answers: Array<[number, unknown]> = [];
    beforeAll(async () => {
      server = createServer((_req, res) => {
        const [status, body] = answers.shift() ?? [500, {}];
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it("merges every page, retrying a 5xx on the way", async () => {
      answers.push([200, doc([run("1")], { next_page_token: "p2" })], [503, {}], [200, doc([run("2")], { exported_at: 6000 })]);
      const loaded: ExportDocument = await loadWhole({ SITE_API_URL: url });
      expect([loaded.runs.length, loaded.experiments.length, loaded.exported_at, loaded.next_page_token]).toEqual([2, 1, 6000, undefined]);
    });

    it("hands a run whose history is split across pages over whole, with the page of its last part; a lost part is refused", async () => {
      const part = (index: number, last: boolean, metrics: object) => run("b", { part: { index, last }, metrics });
      answers.push(
        [200, doc([run("a"), part(1, false, { gat_f1: [[0, 1500, 0.1]], loss: [] })], { next_page_token: "p2" })],
        [200, doc([part(2, false, { gat_f1: [[1, 1600, 0.2]], loss: [[0, 1500, 3]] })], { next_page_token: "p3" })],
        [200, doc([part(3, true, { loss: [[1, 1600, 2]] }), run("c")])],
      );
      const pages: ExportDocument[] = [];
      await loadExport((page) => pages.push(page), { SITE_API_URL: url });
      expect(pages.map((page) => page.runs.map((r) => r.mlflow_run_id.replace(/^0+/, "")))).toEqual([["a"], [], ["b", "c"]]);
      const joined = pages[2].runs[0];
      expect(joined.part).toBeUndefined();
      expect(joined.metrics).toEqual({
        gat_f1: [
          [0, 1500, 0.1],
          [1, 1600, 0.2],
        ],
        loss: [
          [0, 1500, 3],
          [1, 1600, 2],
        ],
      });
      answers.push([200, doc([part(1, false, { gat_f1: [] })], { next_page_token: "p2" })], [200, doc([part(3, true, { gat_f1: [] })])]);
      await expect(loadWhole({ SITE_API_URL: url })).rejects.toThrow(/run 0+b stops before its part 2/);
      answers.push([200, doc([part(1, false, { gat_f1: [] })])]);
      await expect(loadWhole({ SITE_API_URL: url })).rejects.toThrow(/Export ends inside run 0+b: its part 2 is missing/);
    });

    it("gives up on a silent server after SITE_FETCH_TIMEOUT_MS, naming the URL and the wait", async () => {
      // A server that accepts connections and never answers.
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      try {
        const started = Date.now();
        await expect(loadWhole({ SITE_API_URL: silentUrl, SITE_FETCH_TIMEOUT_MS: "300" })).rejects.toThrow(
          /Site build: cannot fetch http:\/\/127\.0\.0\.1:\d+\/api\/v1\/export: no answer within 300 ms/,
        );
        // One wait, not one per retry: a timeout is not retried.
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it("refuses a page the schema refuses, and a 4xx answer, with the URL", async () => {
      answers.push([200, doc([run("3", { attempt: 0 })])]);
      await expect(loadWhole({ SITE_API_URL: url })).rejects.toThrow(/Site build: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/export is not a kdgat-export version 1 document \(runs\.0\.attempt/);
      answers.push([404, { error_code: "ENDPOINT_NOT_FOUND", message: "nope" }]);
      await expect(loadWhole({ SITE_API_URL: url })).rejects.toThrow(/Site build: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/export answered HTTP 404/);
    });
  });
});
