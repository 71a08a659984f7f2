/** The public export holds what anyone may read; the admin token's export is the full backup. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { IDEMPOTENCY_TAG } from "../../functions/store/pipeline-runs";
import { ADMIN_TOKEN, call } from "./support/call";

const exportPage = async (token?: string) => {
  const response = await call("GET", "/api/v1/export", { token });
  expect(response.status).toBe(200);
  return { document: response.json, cacheControl: response.headers.get("Cache-Control") };
};

const names = (document: any) => document.runs.map((r: any) => r.run_name).sort();

beforeAll(async () => {
  const put = (path: string, headers: Record<string, string> = {}) => call("PUT", `/api/v1/runs/${path}?experiment=kd-gat-pipeline`, { token: ADMIN_TOKEN, body: "{}", headers });
  expect((await put("hcrl_sa/teacher_curriculum", { "Idempotency-Key": "slurm-4242-0" })).status).toBe(201);
  expect((await put("hcrl_sa/teacher_fusion")).status).toBe(201);
  const deleted = (await put("hcrl_sa/student_fusion")).json;
  expect((await call("POST", "/api/2.0/mlflow/runs/delete", { token: ADMIN_TOKEN, body: { run_id: deleted.run_id } })).status).toBe(200);
  // A run that is itself active, in an experiment that was deleted.
  const hidden = (await call("POST", "/api/2.0/mlflow/experiments/create", { token: ADMIN_TOKEN, body: { name: "scratch" } })).json;
  expect((await call("PUT", "/api/v1/runs/set_01/teacher_normal?experiment=scratch", { token: ADMIN_TOKEN, body: "{}" })).status).toBe(201);
  expect((await call("POST", "/api/2.0/mlflow/experiments/delete", { token: ADMIN_TOKEN, body: { experiment_id: hidden.experiment_id } })).status).toBe(200);
});

describe("GET /api/v1/export", () => {
  it("leaves out deleted runs, deleted experiments and their runs, and idempotency keys for the public", async () => {
    const { document } = await exportPage();
    expect(document.experiments.map((e: any) => [e.name, e.lifecycle_stage])).toEqual([
      ["Default", "active"],
      ["kd-gat-pipeline", "active"],
    ]);
    expect(names(document)).toEqual(["hcrl_sa/teacher_curriculum", "hcrl_sa/teacher_fusion"]);
    expect(document.runs.every((r: any) => r.lifecycle_stage === "active" && r.deleted_time === null)).toBe(true);
    const keyed = document.runs.find((r: any) => r.run_name === "hcrl_sa/teacher_curriculum");
    expect(keyed.tags).not.toHaveProperty(IDEMPOTENCY_TAG);
    expect(keyed.tags).toMatchObject({ status: "running" });
    expect(JSON.stringify(document)).not.toContain("slurm-4242-0");
  });

  it("gives the admin the full backup: deleted runs and experiments, idempotency keys, never cached", async () => {
    const { document, cacheControl } = await exportPage(ADMIN_TOKEN);
    expect(cacheControl).toBe("private, no-store");
    expect(document.experiments.map((e: any) => [e.name, e.lifecycle_stage])).toEqual([
      ["Default", "active"],
      ["kd-gat-pipeline", "active"],
      ["scratch", "deleted"],
    ]);
    expect(names(document)).toEqual(["hcrl_sa/student_fusion", "hcrl_sa/teacher_curriculum", "hcrl_sa/teacher_fusion", "set_01/teacher_normal"]);
    expect(document.runs.find((r: any) => r.run_name === "hcrl_sa/student_fusion")).toMatchObject({ lifecycle_stage: "deleted" });
    expect(document.runs.find((r: any) => r.run_name === "hcrl_sa/teacher_curriculum").tags[IDEMPOTENCY_TAG]).toBe("slurm-4242-0");
    const stored = await env.DB.prepare("select count(*) as n from runs").first<number>("n");
    expect(document.runs).toHaveLength(stored!);
  });

  it("refuses a token that is not the admin token rather than answering it the public export", async () => {
    const write = (await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "ci" } })).json;
    for (const token of [write.token, "not-the-admin-token"]) {
      const response = await call("GET", "/api/v1/export", { token });
      expect(response.status).toBe(401);
      expect(response.json.error_code).toBe("UNAUTHENTICATED");
    }
  });
});
