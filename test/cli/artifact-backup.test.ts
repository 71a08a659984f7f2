/**
 * kdgat export --artifacts / kdgat import --artifacts between two real local trackers: the bytes of
 * every run's artifacts, checked against their SHA-256 both ways; a damaged backup imports nothing;
 * a second import sends nothing again.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactListResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";

let source: TestServer;
let target: TestServer;
const base = mkdtempSync(join(tmpdir(), "kdgat-artifact-backup-"));
const backup = join(base, "artifacts");
const documentFile = join(base, "backup.json");
const runs: Record<string, string> = {};
const files: Record<string, Record<string, Buffer>> = {
  trained: { "best_model.pt": randomBytes(200_000), "lightning_logs/version_0/metrics.csv": Buffer.from("epoch,step\n0,1\n"), "slurm.out": Buffer.from("done\n") },
  empty: {},
  deleted: { "best_model.pt": randomBytes(1000) },
};

async function mlflow(server: TestServer, path: string, body: object) {
  const answer = await server.post(path, body);
  expect(answer.status).toBe(200);
  return answer.json;
}

const listing = async (server: TestServer, uuid: string) => ((await server.call("GET", `/api/v1/artifacts/${uuid}`)).json as ArtifactListResponse).files;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestServer(), startTestServer()]);
  for (const [name, content] of Object.entries(files)) {
    const run = (await mlflow(source, "runs/create", { experiment_id: "0", run_name: `hcrl_sa/teacher_${name}`, start_time: 1_700_000_000_000 })).run.info;
    runs[name] = run.run_id;
    for (const [path, bytes] of Object.entries(content)) {
      const put = await source.call("PUT", `/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts/${path}`, { token: source.adminToken, body: new Uint8Array(bytes) });
      expect(put.status).toBe(200);
    }
  }
  await mlflow(source, "runs/delete", { run_id: runs.deleted });
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  rmSync(base, { recursive: true, force: true });
});

describe("kdgat export --artifacts / import --artifacts", () => {
  it("exports every run's artifact bytes with their listing, deleted runs' too", async () => {
    const exported = await runCli(["export", "--out", documentFile, "--artifacts", backup, "--api", source.url, "--admin-token", source.adminToken]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain("exported 4 artifact file(s), 201020 bytes");
    for (const name of ["trained", "deleted"]) {
      for (const [path, bytes] of Object.entries(files[name])) expect(readFileSync(join(backup, runs[name], ...path.split("/")))).toEqual(bytes);
    }
    const manifest = JSON.parse(readFileSync(join(backup, "artifacts.json"), "utf8"));
    expect(Object.keys(manifest.runs).sort()).toEqual([runs.trained, runs.deleted].sort());
    expect(manifest.runs[runs.trained].files).toEqual(await listing(source, runs.trained));
    expect(existsSync(join(backup, runs.empty))).toBe(false);
  });

  it("imports nothing from a damaged backup, then everything from the repaired one, byte for byte; again: nothing sent", async () => {
    const csv = join(backup, runs.trained, "lightning_logs", "version_0", "metrics.csv");
    writeFileSync(csv, "epoch,step\n0,2\n");
    const damaged = await runCli(["import", documentFile, "--artifacts", backup, "--api", target.url, "--admin-token", target.adminToken]);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain(`${runs.trained}/lightning_logs/version_0/metrics.csv: 15 bytes, SHA-256`);
    expect((await target.call("GET", `/api/v1/artifacts/${runs.trained}`)).status).toBe(404);

    writeFileSync(csv, files.trained["lightning_logs/version_0/metrics.csv"]);
    const imported = await runCli(["import", documentFile, "--artifacts", backup, "--api", target.url, "--admin-token", target.adminToken]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain("imported 3 artifact file(s), 200020 bytes; 0 already there; 1 of deleted runs left in the folder");
    expect(await listing(target, runs.trained)).toEqual(await listing(source, runs.trained));
    const model = await target.call("GET", `/api/2.0/mlflow-artifacts/artifacts/0/${runs.trained}/artifacts/best_model.pt`);
    expect(Buffer.from(model.bytes)).toEqual(files.trained["best_model.pt"]);

    const again = await runCli(["import", documentFile, "--artifacts", backup, "--api", target.url, "--admin-token", target.adminToken]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("imported 0 artifact file(s), 0 bytes; 3 already there");
  });
});
