/**
 * kdgat backfill --artifacts against a real temp tree and a real local tracker (R2 under wrangler's
 * local state): checkpoints, slurm.out/.err and lightning_logs/ are stored byte for byte; a re-run
 * sends only what is missing or changed (size + SHA-256 from the tracker); a large file goes up as
 * a multipart upload; nothing is read through a symlink out of the run folder.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactListResponse, RunDetailResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { configFor, type RunSpec, writeFileAt } from "./support/trees.js";

let server: TestServer;
let env: Record<string, string>;
const base = mkdtempSync(join(tmpdir(), "kdgat-backfill-artifacts-"));
const root = join(base, "experimentruns");
const runDir = join(root, "hcrl_sa", "teacher_autoencoder");
const MIB = 1024 * 1024;
const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

const spec: RunSpec = { dataset: "hcrl_sa", size: "teacher", stage: "autoencoder", kd: false };
const checkpoint = randomBytes(11 * MIB + 3);
const files: Record<string, Buffer | string> = {
  "best_model.pt": checkpoint,
  "slurm.out": "epoch 1 done\n",
  "slurm.err": "",
  "lightning_logs/version_0/metrics.csv": "epoch,step,val_loss\n0,10,0.5\n",
  "lightning_logs/version_0/hparams.yaml": "lr: 0.001\n",
};

beforeAll(async () => {
  server = await startTestServer();
  // Above 5 MiB in parts of 5 MiB: the 11 MiB checkpoint goes up in three parts.
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("backfill-artifacts"), KDGAT_MULTIPART_MIN_BYTES: String(5 * MIB), KDGAT_MULTIPART_PART_BYTES: String(5 * MIB) };
  const t = 1_767_225_600_000;
  writeFileAt(join(runDir, "config.json"), configFor(spec), t);
  for (const [path, content] of Object.entries(files)) writeFileAt(join(runDir, path), content, t + 1_000);
  writeFileAt(join(runDir, "notes.txt"), "not an artifact", t + 2_000);
  // Links out of the run folder: never read, never uploaded.
  mkdirSync(join(base, "private"));
  writeFileSync(join(base, "private", "secret.pt"), "private weights");
  symlinkSync(join(base, "private", "secret.pt"), join(runDir, "leak.pt"));
  symlinkSync(join(base, "private"), join(runDir, "lightning_logs", "version_1"));
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

async function backfill() {
  const result = await runCli(["backfill", "--root", root, "--artifacts", "--json"], { env });
  return { ...result, report: JSON.parse(result.stdout) as { artifacts: Array<{ run_id: string; uploaded: string[]; unchanged: number; notes: string[]; failed: boolean }> } };
}

async function stored(): Promise<ArtifactListResponse> {
  const detail = (await server.call("GET", "/api/v1/runs/hcrl_sa/teacher_autoencoder")).json as RunDetailResponse;
  return (await server.call("GET", `/api/v1/artifacts/${detail.run.mlflow_run_id}`)).json as ArtifactListResponse;
}

describe("kdgat backfill --artifacts", () => {
  it("uploads the checkpoint, slurm.out/.err and lightning_logs/ byte for byte, and nothing through a symlink", async () => {
    const { code, report, stderr } = await backfill();
    expect(code).toBe(0);
    const [run] = report.artifacts;
    expect(run.uploaded).toEqual(Object.keys(files).sort());
    expect(run.notes).toEqual(expect.arrayContaining(["leak.pt is a symlink - not uploaded", "lightning_logs/version_1 is a symlink - not uploaded"]));
    const listing = await stored();
    expect(listing.files).toEqual(
      Object.entries(files)
        .map(([path, content]) => ({ path, size: Buffer.byteLength(content), sha256: sha256(content) }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    const root = listing.artifact_uri.replace("mlflow-artifacts:/", "");
    const download = Buffer.from((await server.call("GET", `/api/2.0/mlflow-artifacts/artifacts/${root}/best_model.pt`)).bytes);
    expect(sha256(download)).toBe(sha256(checkpoint));
    expect(JSON.stringify(listing)).not.toContain("secret");
    expect(stderr).toBe("");
  });

  it("a re-run sends nothing; a changed file is sent again, alone", async () => {
    const again = await backfill();
    expect(again.report.artifacts[0]).toMatchObject({ uploaded: [], unchanged: 5, failed: false });
    writeFileSync(join(runDir, "slurm.out"), "epoch 1 done\nepoch 2 done\n");
    const changed = await backfill();
    expect(changed.report.artifacts[0]).toMatchObject({ uploaded: ["slurm.out"], unchanged: 4 });
    expect((await stored()).files.find((f) => f.path === "slurm.out")).toMatchObject({ size: 26, sha256: sha256("epoch 1 done\nepoch 2 done\n") });
  });

  it("shows progress in bytes on stderr, part by part for a large file, and a summary without --json", async () => {
    const retrained = randomBytes(11 * MIB);
    writeFileSync(join(runDir, "best_model.pt"), retrained);
    writeFileSync(join(runDir, "slurm.err"), "warning\n");
    const total = 11 * MIB + 8;
    const { code, stdout, stderr } = await runCli(["backfill", "--root", root, "--artifacts"], { env });
    expect(code).toBe(0);
    // The checkpoint's first 5 MiB part, then the rest: it went up in parts.
    expect(stderr).toContain(`uploading artifacts (bytes): ${5 * MIB}/${total}`);
    expect(stderr).toContain(`uploading artifacts (bytes): ${total}/${total}`);
    expect(stdout).toContain(`Artifacts: uploaded 2 file(s), ${total} bytes; already stored 3; failed runs 0`);
    expect((await stored()).files.find((f) => f.path === "best_model.pt")).toMatchObject({ size: 11 * MIB, sha256: sha256(retrained) });
  });
});
