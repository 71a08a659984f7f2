/**
 * GET /api/v1/artifacts/{mlflow_run_id}: the stored listing with sizes and SHA-256 that
 * `kdgat backfill --artifacts` resumes from, over the real local R2 and D1.
 */
import { describe, expect, it } from "vitest";
import { toHex } from "../../functions/domain/hex";
import { ADMIN_TOKEN, call, post } from "./support/call";

const sha256 = async (text: string) => toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

let runs = 0;
async function runWithArtifacts(files: Record<string, string>) {
  runs++;
  const { run_id } = (await post("runs/create", { experiment_id: "0", run_name: `hcrl_sa/teacher_autoencoder_${runs}`, start_time: runs })).json.run.info;
  for (const [path, text] of Object.entries(files)) {
    const put = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/0/${run_id}/artifacts/${path}`, { token: ADMIN_TOKEN, body: text });
    expect(put.status).toBe(200);
  }
  return run_id as string;
}

describe("GET /api/v1/artifacts/{mlflow_run_id}", () => {
  it("lists every stored file of the run, nested ones too, with size and SHA-256, by path", async () => {
    const runId = await runWithArtifacts({ "slurm.out": "done\n", "lightning_logs/version_0/metrics.csv": "epoch,step\n0,1\n", "best_model.pt": "weights" });
    const response = await call("GET", `/api/v1/artifacts/${runId}`);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      run_id: runId,
      artifact_uri: `mlflow-artifacts:/0/${runId}/artifacts`,
      files: [
        { path: "best_model.pt", size: 7, sha256: await sha256("weights") },
        { path: "lightning_logs/version_0/metrics.csv", size: 15, sha256: await sha256("epoch,step\n0,1\n") },
        { path: "slurm.out", size: 5, sha256: await sha256("done\n") },
      ],
    });
  });

  it("answers an empty list for a run without artifacts, 404 for an unknown run and 400 for a malformed id", async () => {
    const runId = await runWithArtifacts({});
    expect((await call("GET", `/api/v1/artifacts/${runId}`)).json).toMatchObject({ files: [] });
    const unknown = await call("GET", `/api/v1/artifacts/${"0".repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    const malformed = await call("GET", "/api/v1/artifacts/not-a-run");
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
  });

  it("needs a token when ARTIFACTS_PUBLIC is false, like artifact downloads", async () => {
    const runId = await runWithArtifacts({ "a.txt": "a" });
    const fetchWith = async (token?: string) => (await call("GET", `/api/v1/artifacts/${runId}`, { token, env: { ARTIFACTS_PUBLIC: "false" } })).status;
    expect(await fetchWith()).toBe(401);
    expect(await fetchWith(ADMIN_TOKEN)).toBe(200);
  });
});
