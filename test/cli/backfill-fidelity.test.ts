/**
 * What backfill logs is what the pipeline's own loggers would have logged, against real temp trees
 * and a real local tracker: Lightning's `epoch` column is a metric at each row's step (as
 * Lightning's MLFlowLogger logs it), and an evaluation run without metrics.json is FINISHED but
 * marked (tag kdgat.no_metrics=true) and reported as "finished, no metrics".
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricHistoryResponse, RunDetailResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { metricsCsv, type RunSpec, writeRunFolder } from "./support/trees.js";

let server: TestServer;
let env: Record<string, string>;
const base = mkdtempSync(join(tmpdir(), "kdgat-backfill-fidelity-"));
const root = join(base, "experimentruns");

const spec = (size: string, stage: RunSpec["stage"]): RunSpec => ({ dataset: "hcrl_sa", size, stage, kd: false });
const runs = { training: spec("teacher", "normal"), evaluated: spec("student", "evaluation"), unevaluated: spec("teacher", "evaluation") };

beforeAll(async () => {
  server = await startTestServer();
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("backfill-fidelity") };
  mkdirSync(root);
  for (const [i, run] of Object.values(runs).entries()) writeRunFolder(join(root, `hcrl_sa/${run.size}_${run.stage}`), run, i);
  // An evaluation job that died before writing its results.
  rmSync(join(root, "hcrl_sa/teacher_evaluation/metrics.json"));
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

const get = async <T>(path: string): Promise<T> => (await server.call("GET", path)).json as T;

describe("kdgat backfill logs what the pipeline's loggers log", () => {
  it("--dry-run says which evaluation run has no metrics.json", async () => {
    const result = await runCli(["backfill", "--root", root, "--dry-run"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would-send +hcrl_sa\/teacher_evaluation: PUT config\.json \([^)]*\), no metrics\.json \(tag kdgat\.no_metrics=true\), 1 metrics\.csv/);
    expect(result.stdout).not.toMatch(/hcrl_sa\/student_evaluation: .*no metrics\.json/);
  });

  it("logs metrics.csv's epoch column as the metric epoch at each row's step, and marks an evaluation without metrics.json", async () => {
    const result = await runCli(["backfill", "--root", root], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("backfilled         hcrl_sa/teacher_evaluation: finished, no metrics (no metrics.json: tagged kdgat.no_metrics=true)\n");
    expect(result.stdout).toContain("Backfill: total 3, backfilled 3 (1 finished, no metrics), unchanged 0, skipped 0, failed 0");

    // Every row of the CSV (epochs 0-4 at steps 10-50) is one epoch point, as MLFlowLogger logs it.
    const rows = metricsCsv(5)
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split(",").map(Number));
    for (const run of Object.values(runs)) {
      const history = await get<MetricHistoryResponse>(`/api/v1/runs/hcrl_sa/${run.size}_${run.stage}/metrics/epoch`);
      expect(history.points.map((p) => [p.step, p.value])).toEqual(rows.map(([epoch, step]) => [step, epoch]));
    }

    const unevaluated = await get<RunDetailResponse>("/api/v1/runs/hcrl_sa/teacher_evaluation");
    expect(unevaluated.run.status).toBe("FINISHED");
    expect(unevaluated.tags["kdgat.no_metrics"]).toBe("true");
    expect(unevaluated.metric_keys).toContain("epoch");
    const evaluated = await get<RunDetailResponse>("/api/v1/runs/hcrl_sa/student_evaluation");
    expect(evaluated.tags).not.toHaveProperty("kdgat.no_metrics");
    expect(evaluated.metrics.gat_f1.value).toBeCloseTo(0.998003992015968, 12);
    // A training stage has no metrics.json to miss.
    expect((await get<RunDetailResponse>("/api/v1/runs/hcrl_sa/teacher_normal")).tags).not.toHaveProperty("kdgat.no_metrics");
  });

  it("a second backfill sends nothing again, and the mark stays", async () => {
    const again = await runCli(["backfill", "--root", root, "--json"], { env });
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { runs: Array<{ run_id: string; status: string }> };
    // Already backfilled: nothing is sent again, the tag stays.
    expect(report.runs.map((r) => r.status)).toEqual(["already-backfilled", "already-backfilled", "already-backfilled"]);
    expect((await get<RunDetailResponse>("/api/v1/runs/hcrl_sa/teacher_evaluation")).tags["kdgat.no_metrics"]).toBe("true");
  });
});
