/**
 * kdgat backfill against real temp trees and a real local tracker: it never reads through a symlink
 * out of a run folder (nothing private is published), and each run is logged all or nothing (a
 * malformed file ends the run FAILED with the file and the reason; fixing the file and backfilling
 * again completes that same attempt).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricHistoryResponse, RunDetailResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { BASE_TIME_MS, configFor, METRICS_JSON, metricsCsv, type RunSpec, writeFileAt, writeRunFolder } from "./support/trees.js";

let server: TestServer;
let env: Record<string, string>;
const base = mkdtempSync(join(tmpdir(), "kdgat-backfill-safety-"));

beforeAll(async () => {
  server = await startTestServer();
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("backfill-safety") };
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

type Report = { runs: Array<{ run_id: string; status: string; detail?: string }> };

async function backfill(root: string) {
  const result = await runCli(["backfill", "--root", root, "--json"], { env });
  const report = JSON.parse(result.stdout) as Report;
  return { code: result.code, stderr: result.stderr, byId: new Map(report.runs.map((r) => [r.run_id, r])) };
}

const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const answer = await server.call("GET", path);
  return { status: answer.status, body: answer.json as T };
};
const detailOf = async (runId: string) => (await get<RunDetailResponse>(`/api/v1/runs/${runId}`)).body;
const historyOf = async (runId: string, key: string) => (await get<MetricHistoryResponse>(`/api/v1/runs/${runId}/metrics/${key}`)).body.points;

const spec = (dataset: string, size: string, stage: RunSpec["stage"]): RunSpec => ({ dataset, size, stage, kd: false });

describe("kdgat backfill never follows a symlink out of a run folder", () => {
  const root = join(base, "symlinks", "experimentruns");
  const outside = join(base, "symlinks", "private");
  const SECRET = "hunter2-private-value";

  beforeAll(() => {
    mkdirSync(root, { recursive: true });
    mkdirSync(outside, { recursive: true });
    // Private files next to the tree: a config, metrics, a metrics.csv, a logs folder, whole run and dataset folders.
    writeFileSync(join(outside, "secret.json"), JSON.stringify({ api_key: SECRET, dataset: "hcrl_sa", model_size: "teacher" }));
    writeFileSync(join(outside, "metrics.json"), JSON.stringify({ gat: { core: { f1: 0.5 } }, leaked_secret_metric: 42 }));
    writeFileAt(join(outside, "logs", "version_0", "metrics.csv"), "epoch,step,leaked_csv_metric\n0,1,0.5\n", BASE_TIME_MS);
    writeFileAt(join(outside, "run", "config.json"), JSON.stringify({ api_key: SECRET }), BASE_TIME_MS);
    writeFileAt(join(outside, "dataset", "teacher_normal", "config.json"), JSON.stringify({ api_key: SECRET }), BASE_TIME_MS);

    const linkedConfig = join(root, "hcrl_sa", "teacher_normal");
    writeRunFolder(linkedConfig, spec("hcrl_sa", "teacher", "normal"), 0);
    rmSync(join(linkedConfig, "config.json"));
    symlinkSync(join(outside, "secret.json"), join(linkedConfig, "config.json"));

    const linkedMetrics = join(root, "hcrl_sa", "teacher_evaluation");
    writeRunFolder(linkedMetrics, spec("hcrl_sa", "teacher", "evaluation"), 1);
    rmSync(join(linkedMetrics, "metrics.json"));
    symlinkSync("../../../private/metrics.json", join(linkedMetrics, "metrics.json"));
    rmSync(join(linkedMetrics, "lightning_logs", "version_0", "metrics.csv"));
    symlinkSync(join(outside, "logs", "version_0", "metrics.csv"), join(linkedMetrics, "lightning_logs", "version_0", "metrics.csv"));

    const linkedLogs = join(root, "hcrl_sa", "student_normal");
    writeRunFolder(linkedLogs, spec("hcrl_sa", "student", "normal"), 2);
    rmSync(join(linkedLogs, "lightning_logs"), { recursive: true });
    symlinkSync(join(outside, "logs"), join(linkedLogs, "lightning_logs"));

    // A symlink to a file of the same run folder is followed.
    const inside = join(root, "hcrl_sa", "student_curriculum");
    writeRunFolder(inside, spec("hcrl_sa", "student", "curriculum"), 3);
    writeFileAt(join(inside, "configs", "stage.json"), configFor(spec("hcrl_sa", "student", "curriculum")), BASE_TIME_MS + 3 * 3_600_000);
    rmSync(join(inside, "config.json"));
    symlinkSync("configs/stage.json", join(inside, "config.json"));

    symlinkSync(join(outside, "run"), join(root, "hcrl_sa", "teacher_fusion"));
    symlinkSync(join(outside, "dataset"), join(root, "set_01"));
  });

  it("reports and skips every file and folder that leads outside; nothing private reaches the API", async () => {
    const { code, stderr, byId } = await backfill(root);
    expect(code, stderr).toBe(0);

    expect(byId.get("hcrl_sa/teacher_normal")).toMatchObject({ status: "skipped" });
    expect(byId.get("hcrl_sa/teacher_normal")?.detail).toContain("config.json is a symlink outside the run folder - skipped");
    expect((await get(`/api/v1/runs/hcrl_sa/teacher_normal`)).status).toBe(404);

    const evaluation = byId.get("hcrl_sa/teacher_evaluation");
    expect(evaluation?.status).toBe("backfilled");
    expect(evaluation?.detail).toContain("metrics.json is a symlink outside the run folder - skipped");
    expect(evaluation?.detail).toContain("lightning_logs/version_0/metrics.csv is a symlink outside the run folder - skipped");
    const evaluationDetail = await detailOf("hcrl_sa/teacher_evaluation");
    expect(evaluationDetail.run.status).toBe("FINISHED");
    expect(evaluationDetail.metric_keys).toEqual([]);

    expect(byId.get("hcrl_sa/student_normal")?.detail).toContain("lightning_logs is a symlink outside the run folder - skipped");
    expect((await detailOf("hcrl_sa/student_normal")).metric_keys).toEqual([]);

    expect(byId.get("hcrl_sa/student_curriculum")?.status).toBe("backfilled");
    const followed = await detailOf("hcrl_sa/student_curriculum");
    expect(Object.keys(followed.params)).toHaveLength(80);
    expect(followed.metric_keys).toContain("val_loss");

    for (const folder of ["hcrl_sa/teacher_fusion", "set_01"]) {
      expect(byId.get(folder), folder).toMatchObject({ status: "skipped" });
      expect(byId.get(folder)?.detail).toContain("symlinked folder - skipped");
    }
    expect((await get(`/api/v1/runs/hcrl_sa/teacher_fusion`)).status).toBe(404);
    expect((await get(`/api/v1/runs/set_01/teacher_normal`)).status).toBe(404);

    const everything = (await server.call("GET", "/api/v1/export")).text;
    for (const leaked of [SECRET, "api_key", "leaked_secret_metric", "leaked_csv_metric"]) expect(everything).not.toContain(leaked);
  });
});

describe("kdgat backfill is all or nothing per run", () => {
  const root = join(base, "all-or-nothing", "experimentruns");
  const evaluation = spec("set_03", "teacher", "evaluation");
  const normal = spec("set_03", "teacher", "normal");
  const live = spec("set_03", "student", "normal");
  const evaluationDir = join(root, "set_03", "teacher_evaluation");
  const normalDir = join(root, "set_03", "teacher_normal");
  const liveDir = join(root, "set_03", "student_normal");
  const csvPath = join(normalDir, "lightning_logs", "version_0", "metrics.csv");
  // writeRunFolder's mtimes for run index i: metrics.csv at +7 s, metrics.json at +8 s.
  const timeOf = (index: number, offsetMs: number) => BASE_TIME_MS + index * 3_600_000 + offsetMs;

  beforeAll(async () => {
    writeRunFolder(evaluationDir, evaluation, 10);
    writeFileAt(join(evaluationDir, "metrics.json"), METRICS_JSON.replace(/}\s*$/, ",}"), timeOf(10, 8_000));
    writeRunFolder(normalDir, normal, 11);
    const rows = metricsCsv(5).split("\n");
    rows[3] = "2,30,0.25";
    writeFileAt(csvPath, rows.join("\n"), timeOf(11, 7_000));
    writeRunFolder(liveDir, live, 12);

    // A live job logged this run with the folder's start time and ended it FAILED itself.
    const token = env.KDGAT_TOKEN;
    const put = await server.call("PUT", "/api/v1/runs/set_03/student_normal", { token, query: { start_time: String(timeOf(12, 0)) }, body: configFor(live) });
    expect(put.status).toBe(201);
    const end = await server.call("POST", "/api/v1/runs/set_03/student_normal/end", { token, body: { status: "FAILED", error: "CUDA out of memory" } });
    expect(end.status).toBe(200);
  });

  it("ends a run with a malformed metrics.json or metrics.csv FAILED with the file and the reason, nothing of its metrics logged", async () => {
    const { code, byId } = await backfill(root);
    expect(code).toBe(1);
    expect(byId.get("set_03/teacher_evaluation")).toMatchObject({ status: "failed" });
    expect(byId.get("set_03/teacher_normal")).toMatchObject({ status: "failed" });

    const badJson = await detailOf("set_03/teacher_evaluation");
    expect(badJson.run.status).toBe("FAILED");
    expect(badJson.run.error_msg).toMatch(/^metrics\.json: malformed JSON \(.+\)$/);
    expect(Object.keys(badJson.params)).toHaveLength(80);
    expect(badJson.metric_keys).toEqual([]);

    const badCsv = await detailOf("set_03/teacher_normal");
    expect(badCsv.run.status).toBe("FAILED");
    expect(badCsv.run.error_msg).toBe("lightning_logs/version_0/metrics.csv: metrics.csv line 4 has 3 cells; the header has 6.");
    expect(badCsv.metric_keys).toEqual([]);
    expect(byId.get("set_03/teacher_normal")?.detail).toBe(`ended FAILED: ${badCsv.run.error_msg}`);

    // Still malformed: the next backfill leaves it FAILED with the reason.
    const again = await backfill(root);
    expect(again.byId.get("set_03/teacher_normal")?.status).toBe("failed");
    expect((await detailOf("set_03/teacher_normal")).run).toMatchObject({ status: "FAILED", attempt: 1, error_msg: badCsv.run.error_msg });
  });

  it("completes the same attempt once the file is fixed: FINISHED, every metric once, no error left", async () => {
    writeFileAt(join(evaluationDir, "metrics.json"), METRICS_JSON, timeOf(10, 8_000));
    writeFileAt(csvPath, metricsCsv(5), timeOf(11, 7_000));
    const { code, stderr, byId } = await backfill(root);
    expect(code, stderr).toBe(0);
    expect(byId.get("set_03/teacher_evaluation")?.status).toBe("completed");
    expect(byId.get("set_03/teacher_normal")?.status).toBe("completed");

    for (const runId of ["set_03/teacher_evaluation", "set_03/teacher_normal"]) {
      const detail = await detailOf(runId);
      expect(detail.run, runId).toMatchObject({ status: "FINISHED", attempt: 1, error_msg: null, start_time: timeOf(runId.endsWith("evaluation") ? 10 : 11, 0) });
      expect(detail.attempts).toHaveLength(1);
      expect(detail.tags.status).toBe("complete");
      expect(Object.keys(detail.tags).filter((k) => k.startsWith("kdgat.") || k === "error_msg")).toEqual([]);
      const losses = await historyOf(runId, "val_loss");
      expect(losses.map((p) => p.step)).toEqual([10, 20, 30, 40, 50]);
    }
    expect((await detailOf("set_03/teacher_evaluation")).metrics.gat_f1.value).toBeCloseTo(0.998003992015968, 12);

    // A FINISHED run is left alone from now on.
    const after = await backfill(root);
    expect(after.byId.get("set_03/teacher_normal")?.status).toBe("already-backfilled");
  });

  it("never turns an attempt that failed live into FINISHED", async () => {
    for (let round = 0; round < 2; round++) {
      const { byId } = await backfill(root);
      expect(byId.get("set_03/student_normal")?.status).toBe("already-backfilled");
      expect((await detailOf("set_03/student_normal")).run).toMatchObject({ status: "FAILED", attempt: 1, error_msg: "CUDA out of memory" });
    }
  });
});
