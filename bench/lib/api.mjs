// The few tracker calls the benchmarks make (MLflow REST and /api/v1), on top of lib/http.mjs.
import { ADMIN_TOKEN } from "../../scripts/admin-token.mjs";
import { createClient, expectOk, jsonOf } from "./http.mjs";

export const MLFLOW = "/api/2.0/mlflow";
export const T0 = 1_700_000_000_000;
export const KEYS = ["train_loss", "val_loss", "train_acc", "val_acc"];

/**
 * A write token as a SLURM job would use it: minted through POST /api/v1/tokens. (Writes with the
 * admin token skip the token lookup, so they would flatter the figures.)
 */
export async function mintToken(url, name = `bench-${Date.now()}`) {
  const admin = createClient(url, { token: ADMIN_TOKEN, maxSockets: 1 });
  try {
    const reply = await admin.request({ method: "POST", path: "/api/v1/tokens", body: { name } });
    return jsonOf(expectOk(reply, "POST /api/v1/tokens"), "POST /api/v1/tokens").token;
  } finally {
    admin.close();
  }
}

/** The id of the experiment of this name, created when missing. */
export async function experimentId(client, name) {
  const found = await client.request({ method: "GET", path: `${MLFLOW}/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}` });
  if (found.status === 200) return jsonOf(found, "experiments/get-by-name").experiment.experiment_id;
  const created = await client.request({ method: "POST", path: `${MLFLOW}/experiments/create`, body: { name } });
  return jsonOf(expectOk(created, "experiments/create"), "experiments/create").experiment_id;
}

export async function createMlflowRun(client, experiment, runName, startTime = T0) {
  const reply = await client.request({ method: "POST", path: `${MLFLOW}/runs/create`, body: { experiment_id: experiment, run_name: runName, start_time: startTime } });
  return jsonOf(expectOk(reply, "runs/create"), "runs/create").run.info.run_id;
}

/** A point of the synthetic training curve: point j of a run, 4 keys per step. */
export function point(j, firstStep = 0) {
  const step = firstStep + Math.floor(j / KEYS.length);
  const key = KEYS[j % KEYS.length];
  return { key, value: Number((1 / (1 + step) + (j % KEYS.length) * 0.01).toFixed(6)), timestamp: T0 + step * 1000, step };
}

/** A runs/log-batch body of `count` points starting at step firstStep. */
export function logBatchBody(runId, count, firstStep = 0) {
  return JSON.stringify({ run_id: runId, metrics: Array.from({ length: count }, (_, j) => point(j, firstStep)) });
}
