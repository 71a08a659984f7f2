/**
 * Artifacts through the real MLflow client (MLflow's artifact proxy, `mlflow-artifacts`), Lightning's
 * MLFlowLogger call sequence with checkpoints and proxied multipart uploads: on our
 * Worker and on MLflow's own server, answers normalised and compared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientMissing, clientSuite } from "./support/mlflow.js";
import { startTargets, type Targets } from "./support/targets.js";

const MIB = 1024 * 1024;
// Low enough for a test, and R2's minimum part size (5 MiB, except the last part).
const MULTIPART = { MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: "true", MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE: String(MIB), MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE: String(5 * MIB) };

describe.skipIf(clientMissing)(clientSuite("the real MLflow client, artifacts"), () => {
  let targets: Targets;
  beforeAll(async () => {
    targets = await startTargets(2);
  });
  afterAll(async () => {
    await targets?.stop();
  });

  it("log_artifact(s), log_dict, log_text, list_artifacts, download_artifacts as on MLflow's server", async () => {
    const { ours, theirs } = await targets.both("artifacts.py");
    expect(ours.status).toBe("FINISHED");
    expect(ours.artifact_uri).toBe("mlflow-artifacts:/<exp0>/<run0>/artifacts");
    expect(ours.downloaded_file).toBe(ours.expected_ckpt);
    expect(ours.downloaded_all["best_model.pt"]).toBe(ours.expected_ckpt);
    expect(Object.keys(ours.downloaded_all)).toEqual([
      "best_model.pt",
      "config.json",
      "config/config.yaml",
      "lightning_logs/hparams.yaml",
      "lightning_logs/version_0/metrics.csv",
      "notes/readme.txt",
      "slurm/slurm.out",
    ]);
    expect(ours.root).toContainEqual({ path: "best_model.pt", is_dir: false, file_size: 1_024_000 });
    expect(ours.empty_run).toEqual([]);
    expect(ours.load_dict).toEqual({ lr: 0.01, hidden: [1024, 512] });
    expect(ours.load_text).toBe("hello ✓\n");
    expect(ours.missing_download).toBe(true);
    expect(ours).toEqual(theirs);
  });

  for (const [logModel, outcome, status] of [
    ["true", "success", "FINISHED"],
    ["all", "success", "FINISHED"],
    ["true", "failed", "FAILED"],
    ["all", "failed", "FAILED"],
  ] as const) {
    it(`Lightning's MLFlowLogger, log_model=${logModel}, training ${outcome}: checkpoints logged, run ${status}`, async () => {
      const { ours, theirs } = await targets.both("lightning.py", { args: [logModel, outcome] });
      expect(ours.run.info.status).toBe(status);
      expect(ours.params).toBe(132);
      expect(ours.history).toEqual([
        [0, 0.9],
        [10, 0.45],
        [20, 0.3],
      ]);
      expect(ours.artifacts).toEqual([
        ["epoch=0-step=0", true],
        ["epoch=1-step=10", true],
        ["epoch=2-step=20", true],
      ]);
      expect(ours.checkpoint_files).toContainEqual(["epoch=2-step=20/epoch=2-step=20.ckpt", 6144]);
      expect(ours).toEqual(theirs);
    });
  }

  it("proxied multipart upload: parts through the Worker, a killed upload aborted and not listed", async () => {
    const { ours, theirs } = await targets.both("multipart.py", { env: MULTIPART });
    // MLflow's server with a local artifact folder refuses multipart (the client falls back to one PUT); ours takes it.
    expect(theirs.calls).toEqual(["create_multipart_upload: refused"]);
    expect(ours.calls).toEqual(["create_multipart_upload", "complete_multipart_upload"]);
    expect(ours.killed_calls).toEqual(["create_multipart_upload", "abort_multipart_upload"]);
    expect(ours.killed_error).toBe("MlflowException");
    expect(ours.killed_listing).toEqual([]);
    expect(ours.same_bytes).toBe(true);
    expect(ours.listing).toEqual([{ path: "checkpoints/best_model.pt", file_size: 2 * 5 * MIB + 12345 }]);
    expect(ours.listing).toEqual(theirs.listing);
  });

  it("log_input: datasets, contexts and tags in runs/get and runs/search as on MLflow's server", async () => {
    const { ours, theirs } = await targets.both("inputs.py");
    expect(ours.get).toHaveLength(2);
    expect(ours.get[0]).toMatchObject({ dataset: { name: "hcrl_sa-train", source_type: "local" }, tags: { split: "train", "mlflow.data.context": "training" } });
    expect(ours.search).toEqual(ours.get);
    expect(ours).toEqual(theirs);
  });
});
