/** cli/kdgat-log.sh (POSIX sh + curl) against a real tracker, then with the tracker down (spool) and back. */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactListResponse, MetricHistoryResponse, RunDetailResponse } from "../../functions/api/contract.js";
import { freePort } from "../../scripts/local-server.mjs";
import { startTestServer, type TestServer } from "../support/server.js";
import { ROOT } from "./support/cli.js";
import { configFor, metricsCsv } from "./support/trees.js";

const SCRIPT = join(ROOT, "cli", "kdgat-log.sh");
const base = mkdtempSync(join(tmpdir(), "kdgat-log-"));
const persistTo = join(base, "d1");
const spool = join(base, "spool");
let port: number;
let server: TestServer | undefined;
let token: string;

/** The tracker, on the one port and database every time, so that a restart comes back on its data. */
const start = () => startTestServer({ port, persistTo });

/** Runs the script, as a SLURM job when `job` gives its SLURM_JOB_ID (and SLURM_RESTART_COUNT). */
function sh(args: string[], job: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    // dash: the plain POSIX sh of Debian, as on the cluster's compute nodes.
    const child = spawn("dash", [SCRIPT, ...args], {
      env: { PATH: process.env.PATH, HOME: base, KDGAT_API: `http://127.0.0.1:${port}`, KDGAT_TOKEN: token, KDGAT_SPOOL: spool, KDGAT_RETRIES: "1", KDGAT_RETRY_DELAY: "0", ...job },
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const config = join(base, "config.json");
const csv = join(base, "metrics.csv");

beforeAll(async () => {
  port = await freePort();
  server = await start();
  token = await server.mintToken("slurm");
  writeFileSync(config, configFor({ dataset: "set_02", size: "student", stage: "curriculum", kd: true }));
  writeFileSync(csv, metricsCsv(4));
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

const detail = async (runId: string) => (await server!.call("GET", `/api/v1/runs/${runId}`)).json as RunDetailResponse;
const history = async (runId: string, key: string, attempt?: number) =>
  (await server!.call("GET", `/api/v1/runs/${runId}/metrics/${key}`, { query: attempt ? { attempt: String(attempt) } : undefined })).json as MetricHistoryResponse;
const steps = async (runId: string, key: string, attempt: number) => (await history(runId, key, attempt)).points.map((p) => [p.step, p.value]);

describe("kdgat-log.sh", () => {
  it("logs a stage: start, metrics, metrics.csv, end", async () => {
    const id = "set_02/student_curriculum_kd";
    expect((await sh(["start", id, config])).code).toBe(0);
    expect((await detail(id)).run.status).toBe("RUNNING");
    expect((await sh(["metric", id, "gpu_mem_allocated_gb", "3.25", "7"])).code).toBe(0);
    expect((await sh(["metric", id, "val_auc", "nan"])).code).toBe(0);
    expect((await sh(["csv", id, csv])).code).toBe(0);
    expect((await sh(["end", id, "FAILED", 'CUDA out of memory: "tried to allocate"\nline 2'])).code).toBe(0);
    const run = await detail(id);
    expect(run.run.status).toBe("FAILED");
    expect(run.run.error_msg).toBe('CUDA out of memory: "tried to allocate"\\nline 2'.replace("\\n", "\n"));
    expect(run.params.use_kd).toBe("True");
    expect(run.metrics.gpu_mem_allocated_gb).toMatchObject({ value: 3.25, step: 7 });
    expect(run.metrics.val_auc.value).toBe("NaN");
    expect((await history(id, "val_loss")).points.map((p) => p.step)).toEqual([10, 20, 30, 40]);
  });

  it("rejects bad input with exit 2 and a rejected request with exit 1", async () => {
    expect((await sh(["metric", "no-slash", "k", "1"])).code).toBe(2);
    expect((await sh(["metric", "a/b_normal", "k", "1.5x"])).code).toBe(2);
    expect((await sh(["end", "a/b_normal", "DONE"])).code).toBe(2);
    expect((await sh(["bogus"])).code).toBe(2);
    const missing = await sh(["metric", "set_09/never_started", "k", "1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("rejected (HTTP 404)");
  });

  it("spools everything while the tracker is down and sends it, in order and once, when it is back", async () => {
    await server!.stop();
    server = undefined;
    const id = "set_02/teacher_normal";
    for (const args of [
      ["start", id, config],
      ["metric", id, "val_acc", "0.5", "1"],
      ["metric", id, "val_acc", "0.75", "2"],
      ["csv", id, csv],
      ["end", id, "FINISHED"],
    ]) {
      const result = await sh(args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stderr).toContain("spooled");
    }
    expect(readdirSync(spool).filter((f) => f.endsWith(".req"))).toHaveLength(5);
    expect((await sh(["flush"])).code).toBe(1);
    cpSync(spool, `${spool}-copy`, { recursive: true });

    server = await start();
    expect((await sh(["flush"])).code).toBe(0);
    expect(readdirSync(spool).filter((f) => f.endsWith(".req"))).toHaveLength(0);
    const run = await detail(id);
    expect(run.run.status).toBe("FINISHED");
    expect(run.attempts).toHaveLength(1);
    const points = (await history(id, "val_acc")).points;
    expect(points.map((p) => p.step)).toEqual([1, 2, 10, 20, 30, 40]);
    expect(points.slice(0, 2).map((p) => p.value)).toEqual([0.5, 0.75]);

    // The same requests sent again (a retry after a lost answer) store nothing twice.
    const before = JSON.stringify(await detail(id)) + JSON.stringify(points);
    cpSync(`${spool}-copy`, spool, { recursive: true });
    expect((await sh(["flush"])).code).toBe(0);
    expect(JSON.stringify(await detail(id)) + JSON.stringify((await history(id, "val_acc")).points)).toBe(before);
  }, 180_000);

  describe("a job requeued while its old copy still runs", () => {
    it("gets its own metrics and end; the old copy's land on the old attempt, which ends FAILED", async () => {
      const id = "set_03/student_fusion_kd";
      const oldJob = { SLURM_JOB_ID: "5001" };
      const newJob = { SLURM_JOB_ID: "5002" };
      expect((await sh(["start", id, config], oldJob)).code).toBe(0);
      expect((await sh(["start", id, config], newJob)).code).toBe(0);
      expect((await sh(["metric", id, "val_loss", "0.9", "1"], oldJob)).code).toBe(0);
      expect((await sh(["csv", id, csv], oldJob)).code).toBe(0);
      expect((await sh(["end", id, "FAILED", "node lost"], oldJob)).code).toBe(0);

      let run = await detail(id);
      expect(run.run).toMatchObject({ attempt: 2, status: "RUNNING" });
      expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, "FAILED"],
        [2, "RUNNING"],
      ]);
      expect(await steps(id, "val_loss", 1)).toEqual([
        [1, 0.9],
        [10, expect.any(Number)],
        [20, expect.any(Number)],
        [30, expect.any(Number)],
        [40, expect.any(Number)],
      ]);
      expect(await steps(id, "val_loss", 2)).toEqual([]);

      expect((await sh(["metric", id, "val_loss", "0.5", "2"], newJob)).code).toBe(0);
      expect((await sh(["end", id, "FINISHED"], newJob)).code).toBe(0);
      run = await detail(id);
      expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, "FAILED"],
        [2, "FINISHED"],
      ]);
      expect(await steps(id, "val_loss", 2)).toEqual([[2, 0.5]]);
      expect((await steps(id, "val_loss", 1))[0]).toEqual([1, 0.9]);
    });

    it("keeps them apart when both starts were spooled, once the spool is sent", async () => {
      await server!.stop();
      server = undefined;
      const id = "set_03/teacher_fusion";
      // A SLURM requeue keeps the job id and counts restarts.
      const oldJob = { SLURM_JOB_ID: "5101" };
      const requeued = { SLURM_JOB_ID: "5101", SLURM_RESTART_COUNT: "1" };
      for (const [args, job] of [
        [["start", id, config], oldJob],
        [["start", id, config], requeued],
        [["metric", id, "val_acc", "0.25", "1"], oldJob],
        [["metric", id, "val_acc", "0.5", "1"], requeued],
        [["end", id, "FAILED", "node lost"], oldJob],
      ] as const) {
        const result = await sh([...args], job);
        expect(result.code, args.join(" ")).toBe(0);
        expect(result.stderr).toContain("spooled");
      }
      server = await start();
      // The requeued job's next call sends the spool, then its own point.
      expect((await sh(["metric", id, "val_acc", "0.75", "2"], requeued)).code).toBe(0);
      expect(readdirSync(spool).filter((f) => f.endsWith(".req"))).toHaveLength(0);
      const run = await detail(id);
      expect(run.run).toMatchObject({ attempt: 2, status: "RUNNING" });
      expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, "FAILED"],
        [2, "RUNNING"],
      ]);
      expect(await steps(id, "val_acc", 1)).toEqual([[1, 0.25]]);
      expect(await steps(id, "val_acc", 2)).toEqual([
        [1, 0.5],
        [2, 0.75],
      ]);
    }, 180_000);

    it("forgets, at the next start, the attempts of jobs that never ended within a month", async () => {
      const id = "set_03/teacher_normal";
      expect((await sh(["start", id, config], { SLURM_JOB_ID: "5301" })).code).toBe(0);
      const recorded = join(spool, "jobs", "set_03+teacher_normal@5301.0");
      expect(readFileSync(recorded, "utf8").trim()).toBe((await detail(id)).run.mlflow_run_id);
      const monthAgo = Date.now() / 1000 - 31 * 86_400;
      utimesSync(recorded, monthAgo, monthAgo);
      expect((await sh(["start", "set_03/student_normal", config], { SLURM_JOB_ID: "5302" })).code).toBe(0);
      expect(existsSync(recorded)).toBe(false);
      expect(existsSync(join(spool, "jobs", "set_03+student_normal@5302.0"))).toBe(true);
      // An end is the last call of a job: its record goes with it.
      expect((await sh(["end", "set_03/student_normal", "FINISHED"], { SLURM_JOB_ID: "5302" })).code).toBe(0);
      expect(existsSync(join(spool, "jobs", "set_03+student_normal@5302.0"))).toBe(false);
    });

    it("sends nothing more for a run whose start the tracker rejected", async () => {
      const id = "set_03/student_fusion";
      const running = { SLURM_JOB_ID: "5201" };
      const rejected = { SLURM_JOB_ID: "5202" };
      expect((await sh(["start", id, config], running)).code).toBe(0);
      const list = join(base, "list.json");
      writeFileSync(list, "[1, 2]");
      expect((await sh(["start", id, list], rejected)).code).toBe(1);
      const refused = await sh(["metric", id, "val_acc", "0.1", "1"], rejected);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("rejected this job's start");
      expect((await sh(["end", id, "FAILED"], rejected)).code).toBe(1);
      const run = await detail(id);
      expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([[1, "RUNNING"]]);
      expect(run.metrics).toEqual({});
    });
  });

  describe("artifact", () => {
    const artifactsOf = async (uuid: string) => ((await server!.call("GET", `/api/v1/artifacts/${uuid}`)).json as ArtifactListResponse).files;

    it("uploads a file to this job's attempt, under its name or a given path, streamed byte for byte", async () => {
      const id = "set_04/teacher_autoencoder";
      const job = { SLURM_JOB_ID: "6101" };
      expect((await sh(["start", id, config], job)).code).toBe(0);
      const checkpoint = join(base, "best_model.pt");
      const bytes = randomBytes(300_000);
      writeFileSync(checkpoint, bytes);
      expect((await sh(["artifact", id, checkpoint], job)).code).toBe(0);
      expect((await sh(["artifact", id, csv, "lightning_logs/version_0/metrics.csv"], job)).code).toBe(0);
      const uuid = (await detail(id)).run.mlflow_run_id;
      expect(await artifactsOf(uuid)).toEqual([
        { path: "best_model.pt", size: 300_000, sha256: createHash("sha256").update(bytes).digest("hex") },
        { path: "lightning_logs/version_0/metrics.csv", size: readFileSync(csv).length, sha256: createHash("sha256").update(readFileSync(csv)).digest("hex") },
      ]);
      // Without a recorded start (another job, a login node): the run id's latest attempt.
      expect((await sh(["artifact", id, config, "config.json"], { SLURM_JOB_ID: "6199" })).code).toBe(0);
      expect((await artifactsOf(uuid)).map((f) => f.path)).toContain("config.json");
    });

    it("refuses paths outside the run's artifacts (exit 2), unknown runs (exit 1), and goes on with a warning when the tracker is down", async () => {
      for (const path of ["../escape.txt", "/abs.txt", "a/../../b", "dir/", "with space.txt"]) expect((await sh(["artifact", "set_04/teacher_autoencoder", config, path])).code).toBe(2);
      expect((await sh(["artifact", "set_04/teacher_autoencoder", join(base, "no-such-file")])).code).toBe(2);
      const unknown = await sh(["artifact", "set_09/never_started", config]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("HTTP 404");
      await server?.stop();
      try {
        const down = await sh(["artifact", "set_04/teacher_autoencoder", config], { SLURM_JOB_ID: "6101" });
        expect(down.code).toBe(0);
        expect(down.stderr).toContain("not uploaded (kdgat backfill --artifacts sends it later)");
      } finally {
        server = await start();
      }
    });
  });
});
