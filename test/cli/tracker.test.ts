/** backfill, query, token, export and import against a real local tracker (wrangler dev + local D1). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExportDocument, RunDetailResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { buildOldTree } from "./support/trees.js";

let server: TestServer;
let token: string;
const base = mkdtempSync(join(tmpdir(), "kdgat-tracker-"));
const root = join(base, "experimentruns");
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  token = await server.mintToken("cli-tests");
  env = { KDGAT_API: server.url, KDGAT_TOKEN: token };
  mkdirSync(root);
  const tree = buildOldTree(root, { datasets: ["hcrl_sa", "set_01"], awkward: true });
  const migrated = await runCli(["migrate", "--root", root, "--execute"]);
  expect(migrated.stdout).toContain(`migrated ${tree.specs.length + 1}`);
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** The full backup (both test servers have the same admin token). */
const exportDocument = async (url = server.url) => {
  const result = await runCli(["export", "--api", url, "--admin-token", server.adminToken]);
  expect(result.code, result.stderr).toBe(0);
  const document = JSON.parse(result.stdout) as ExportDocument;
  // exported_at is when the export ran; everything else must be identical.
  return { ...document, exported_at: 0, runs: [...document.runs].sort((a, b) => a.run_name.localeCompare(b.run_name)) };
};

describe("kdgat backfill", () => {
  it("--dry-run shows what would be sent and sends nothing", async () => {
    const result = await runCli(["backfill", "--root", root, "--dry-run"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /would-send +hcrl_sa\/teacher_evaluation: PUT config\.json \(80 params, start 2026-01-01T\d\d:00:00\.000Z\), metrics\.json \(\d+ metrics\), 1 metrics\.csv in 1 upload\(s\), end FINISHED/,
    );
    expect(result.stdout).toContain("skipped            set_04/student_normal_kd: No config.json - skipping backfill");
    expect((await server.call("GET", "/api/v1/runs")).json.runs).toEqual([]);
  });

  it("logs every run folder as a finished run: params, tags, flattened metrics.json, metrics.csv history, file times", async () => {
    const result = await runCli(["backfill", "--root", root], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Backfill: total 32, backfilled 31, unchanged 0, skipped 1, failed 0");

    const detail = (await server.call("GET", "/api/v1/runs/hcrl_sa/student_evaluation_kd")).json as RunDetailResponse;
    expect(detail.run.status).toBe("FINISHED");
    expect(detail.params.use_kd).toBe("True");
    expect(detail.params.vgae_hidden_dims).toMatch(/^\(\d+, \d+, \d+\)$/);
    expect(Object.keys(detail.params).length).toBe(80);
    expect(detail.tags).toMatchObject({ stage: "evaluation", use_kd: "True", teacher_run_id: "hcrl_sa/teacher_evaluation", dataset: "hcrl_sa" });
    expect(detail.metrics.gat_f1.value).toBeCloseTo(0.998003992015968, 12);
    expect(detail.metric_keys).toContain("val_loss");
    expect(detail.metric_keys.some((k) => k.startsWith("test_gat_test_01"))).toBe(true);
    // Start and end from the files' mtimes (oldest config.json, newest symlink).
    const specIndex = 14; // hcrl_sa evaluation, student, kd: the 15th generated run
    expect(detail.run.start_time).toBe(1_767_225_600_000 + specIndex * 3_600_000);
    expect(detail.run.end_time).toBe(1_767_225_600_000 + specIndex * 3_600_000 + 9_000);
    const history = (await server.call("GET", "/api/v1/runs/hcrl_sa/student_evaluation_kd/metrics/val_loss")).json;
    expect(history.points.map((p: { step: number }) => p.step)).toEqual([10, 20, 30, 40, 50]);
  });

  it("a second backfill changes nothing in the tracker", async () => {
    const before = await exportDocument();
    const again = await runCli(["backfill", "--root", root, "--json"], { env });
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { runs: Array<{ status: string }> };
    expect(report.runs.filter((r) => r.status === "already-backfilled")).toHaveLength(31);
    expect(await exportDocument()).toEqual(before);
  });

  it("completes a run whose backfill was cut short, without storing anything twice", async () => {
    const runDir = join(root, "set_01/student_fusion_kd");
    const reference = await exportDocument();
    const id = "set_01/student_fusion_kd";
    // A backfill killed right after its PUT leaves the attempt RUNNING with nothing else logged.
    const start = reference.runs.find((r) => r.run_name === id)!.start_time;
    expect(start).toBeGreaterThan(0);
    const put = await server.call("PUT", "/api/v1/runs/set_02/student_fusion_kd", { token, query: { start_time: String(start) }, body: readFileSync(join(runDir, "config.json")) });
    expect(put.status).toBe(201);
    const copy = join(root, "set_02", "student_fusion_kd");
    mkdirSync(copy, { recursive: true });
    for (const name of ["config.json", "slurm.out"]) {
      writeFileSync(join(copy, name), readFileSync(join(runDir, name)));
      utimesSync(join(copy, name), start / 1000, (start + 5_000) / 1000);
    }
    utimesSync(join(copy, "config.json"), start / 1000, start / 1000);
    const resumed = await runCli(["backfill", "--root", root, "--json"], { env });
    const report = JSON.parse(resumed.stdout) as { runs: Array<{ run_id: string; status: string }> };
    expect(report.runs.find((r) => r.run_id === "set_02/student_fusion_kd")?.status).toBe("completed");
    const detail = (await server.call("GET", "/api/v1/runs/set_02/student_fusion_kd")).json as RunDetailResponse;
    expect(detail.run).toMatchObject({ status: "FINISHED", attempt: 1, start_time: start, end_time: start + 5_000 });
  });
});

describe("kdgat query", () => {
  it("lists all runs newest first, filters, and prints JSON and CSV", async () => {
    const all = await runCli(["query", "--all", "--json"], { env });
    const runs = JSON.parse(all.stdout).runs as Array<{ run_id: string; start_time: number }>;
    expect(runs.length).toBe(32);
    expect(runs.map((r) => r.start_time)).toEqual([...runs.map((r) => r.start_time)].sort((a, b) => b - a));

    const filtered = await runCli(["query", "--dataset", "hcrl_sa", "--stage", "curriculum", "--size", "student", "--kd", "--json"], { env });
    expect(JSON.parse(filtered.stdout).runs.map((r: { run_id: string }) => r.run_id)).toEqual(["hcrl_sa/student_curriculum_kd"]);
    const noKd = await runCli(["query", "--dataset", "hcrl_sa", "--stage", "curriculum", "--no-kd", "--json"], { env });
    expect(
      JSON.parse(noKd.stdout)
        .runs.map((r: { run_id: string }) => r.run_id)
        .sort(),
    ).toEqual(["hcrl_sa/student_curriculum", "hcrl_sa/teacher_curriculum"]);

    const table = await runCli(["query", "--dataset", "set_01"], { env });
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^RUN ID +STATUS +ATTEMPT +STARTED \(UTC\) +DURATION +TEACHER +ERROR$/);
    expect(lines).toHaveLength(16);
    expect(lines[1]).toMatch(/^set_01\/student_evaluation_kd +FINISHED +1 +2026-01-02 /);

    const csv = await runCli(["query", "--stage", "evaluation", "--csv"], { env });
    const rows = csv.stdout.trim().split("\n");
    expect(rows[0]).toBe("run_id,status,attempt,dataset,model_size,stage,kd,start_time,end_time,teacher_run_id,error_msg,mlflow_run_id");
    expect(rows).toHaveLength(7);

    const running = await runCli(["query", "--running", "--json"], { env });
    expect(JSON.parse(running.stdout).runs).toEqual([]);
    const failed = await runCli(["query", "--failed"], { env });
    expect(failed.stdout).toBe("no runs match\n");
  });

  it("ranks the leaderboard and compares groups per dataset with the delta", async () => {
    const board = await runCli(["query", "--leaderboard", "--top", "2", "--json"], { env });
    const parsed = JSON.parse(board.stdout);
    expect(parsed.metric).toBe("gat_f1");
    expect(parsed.entries).toHaveLength(2);
    const byMetric = await runCli(["query", "--leaderboard", "--metric", "fusion_mcc", "--dataset", "set_01"], { env });
    expect(byMetric.stdout).toMatch(/RANK +RUN ID +fusion_mcc/);
    expect(byMetric.stdout).toContain("set_01/teacher_evaluation");
    expect(byMetric.stdout).not.toContain("hcrl_sa/");

    const compare = await runCli(["query", "--compare", "teacher", "student_kd", "--json"], { env });
    const datasets = JSON.parse(compare.stdout).datasets as Array<{ dataset: string; delta: number }>;
    expect(datasets.map((d) => d.dataset).sort()).toEqual(["hcrl_sa", "set_01"]);
    expect(datasets[0].delta).toBe(0);
    const table = await runCli(["query", "--compare", "teacher", "student_kd", "--metric", "gat_accuracy"], { env });
    expect(table.stdout).toMatch(/hcrl_sa +hcrl_sa\/teacher_evaluation +0\.9995 +hcrl_sa\/student_evaluation_kd +0\.9995 +\+0\.0000/);
  });

  it("fails with exit 1 and a message when the tracker cannot be reached", async () => {
    const result = await runCli(["query", "--all", "--api", "http://127.0.0.1:9"], { env: { ...env, KDGAT_RETRIES: "2" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot reach the tracker at http://127.0.0.1:9");
  }, 30_000);
});

describe("kdgat token", () => {
  it("creates, lists and revokes tokens with the admin token", async () => {
    const admin = { ...env, KDGAT_ADMIN_TOKEN: server.adminToken };
    const created = await runCli(["token", "create", "slurm-job", "--json"], { env: admin });
    expect(created.code, created.stderr).toBe(0);
    const { token: secret } = JSON.parse(created.stdout);
    const list = await runCli(["token", "list"], { env: admin });
    expect(list.stdout).toMatch(/^NAME +CREATED +LAST USED +REVOKED/);
    expect(list.stdout).toContain("slurm-job");
    const write = (t: string) => server.call("PUT", "/api/v1/runs/set_09/teacher_normal", { token: t, body: {} });
    expect((await write(secret)).status).toBe(201);
    const revoked = await runCli(["token", "revoke", "slurm-job", "--admin-token", server.adminToken], { env });
    expect(revoked.stdout).toBe("token 'slurm-job' revoked\n");
    expect((await write(secret)).status).toBe(401);
    // The flag wins over the environment; a wrong admin token is refused.
    const wrong = await runCli(["token", "list", "--admin-token", "not-the-admin-token-0000"], { env: admin });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("401");
  });

  it("falls back to ADMIN_TOKEN in ./.dev.vars", async () => {
    const cwd = mkdtempSync(join(base, "devvars-"));
    writeFileSync(join(cwd, ".dev.vars"), `OTHER=1\nADMIN_TOKEN=${server.adminToken}\n`);
    const list = await runCli(["token", "list", "--json"], { env, cwd });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).some((t: { name: string }) => t.name === "cli-tests")).toBe(true);
  });
});

describe("kdgat export and import", () => {
  // The tracker both tests import into, empty at the first (importing again is harmless: the API
  // recognises identical runs).
  let second: TestServer;
  beforeAll(async () => {
    second = await startTestServer();
  });
  afterAll(() => second?.stop());

  it("exports one merged document and imports it into an empty tracker, identical", async () => {
    // A deleted run is in the admin's backup only.
    const detail = (await server.call("GET", "/api/v1/runs/hcrl_sa/teacher_evaluation")).json as RunDetailResponse;
    const deleted = detail.run.mlflow_run_id;
    expect((await server.post("runs/delete", { run_id: deleted })).status).toBe(200);
    const publicFile = join(base, "public.json");
    const publicExport = await runCli(["export", "--out", publicFile], { env });
    expect(publicExport.code, publicExport.stderr).toBe(0);
    const publicDocument = JSON.parse(readFileSync(publicFile, "utf8")) as ExportDocument;
    expect(publicDocument.runs.map((r) => r.mlflow_run_id)).not.toContain(deleted);

    const file = join(base, "snapshot.json");
    const exported = await runCli(["export", "--out", file], { env: { ...env, KDGAT_ADMIN_TOKEN: server.adminToken } });
    expect(exported.code, exported.stderr).toBe(0);
    const document = JSON.parse(readFileSync(file, "utf8")) as ExportDocument;
    expect(document.format).toBe("kdgat-export");
    expect(document.next_page_token).toBeUndefined();
    expect(document.runs.length).toBeGreaterThanOrEqual(33);
    expect(document.runs.length).toBe(publicDocument.runs.length + 1);
    expect(document.runs.find((r) => r.mlflow_run_id === deleted)?.lifecycle_stage).toBe("deleted");

    const imported = await runCli(["import", file, "--api", second.url, "--admin-token", second.adminToken]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`imported ${document.experiments.length} experiment(s), ${document.runs.length} run(s)`);
    expect(await exportDocument(second.url)).toEqual(await exportDocument());
    // Importing again is harmless (the API recognises identical runs).
    const again = await runCli(["import", file, "--api", second.url, "--admin-token", second.adminToken]);
    expect(again.code, again.stderr).toBe(0);
    expect(await exportDocument(second.url)).toEqual(await exportDocument());
  }, 180_000);

  it("a history longer than an export page: exported in parts, merged into one run, imported in parts of a request each, identical", async () => {
    // More than an export page holds (EXPORT_POINTS_PER_PAGE, 50,000).
    const steps = 55_000;
    const admin = server.adminToken;
    expect((await server.call("PUT", "/api/v1/runs/set_07/teacher_normal", { token: admin, body: {} })).status).toBe(201);
    for (let from = 0; from < steps; from += 20_000) {
      const points = Array.from({ length: Math.min(20_000, steps - from) }, (_, i) => ({ step: from + i, metrics: { loss: 1 / (from + i + 1), ...(from + i < 100 && { acc: 0.5 }) } }));
      const posted = await server.call("POST", "/api/v1/runs/set_07/teacher_normal/metrics", { token: admin, body: points });
      expect(posted.status, posted.text).toBe(200);
    }
    const file = join(base, "long.json");
    const exported = await runCli(["export", "--out", file], { env: { ...env, KDGAT_ADMIN_TOKEN: server.adminToken } });
    expect(exported.code, exported.stderr).toBe(0);
    const document = JSON.parse(readFileSync(file, "utf8")) as ExportDocument;
    const long = document.runs.filter((r) => r.run_name === "set_07/teacher_normal");
    expect(long).toHaveLength(1);
    expect(long[0].part).toBeUndefined();
    expect(long[0].metrics.loss.map(([step]) => step)).toEqual(Array.from({ length: steps }, (_, i) => i));
    expect(Object.keys(long[0].metrics)).toEqual(["loss", "acc"]);

    const imported = await runCli(["import", file, "--api", second.url, "--admin-token", second.adminToken]);
    expect(imported.code, imported.stderr).toBe(0);
    const requests = Number(imported.stderr.match(/in (\d+) request/)?.[1]);
    // 55,000 points do not fit one 512 kB request: the run went in parts.
    expect(requests).toBeGreaterThan(Math.ceil(document.runs.length / 100) + 2);
    expect(await exportDocument(second.url)).toEqual(await exportDocument());
    const latest = await second.call("GET", "/api/v1/runs/set_07/teacher_normal");
    expect(latest.text).toContain(`${steps - 1}`);
  }, 300_000);
});
