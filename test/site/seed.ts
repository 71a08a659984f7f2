/**
 * Seeds a real tracker through the /api/v1 curl API with the pipeline's real fixtures: three
 * datasets x teacher/student/student_kd x every stage, training histories (one NaN point),
 * perturbed evaluation metrics.json uploads, a failed run, a running run, and run ids with
 * several attempts (one whose newest attempt is still running), and artifacts (a checkpoint and a
 * SLURM log) of the KD student's run, uploaded through MLflow's artifact proxy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { rng } from "../../bench/lib/stats.mjs";
import { formatRunId, STAGE_NAMES } from "../../functions/domain/index.js";
import { type Answer, type CallOptions, callServer } from "../support/call.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

export const SEED_DATASETS = ["hcrl_ch", "hcrl_sa", "set_01"];
export const SEED_GROUPS = [
  { modelSize: "teacher", kd: false },
  { modelSize: "student", kd: false },
  { modelSize: "student", kd: true },
];
export const FAILED_RUN = "set_01/student_fusion_kd";
export const FAILED_ERROR = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.77 GiB total capacity)";
export const RUNNING_RUN = "hcrl_ch/student_curriculum";
/** First attempt failed, second finished. */
export const RETRIED_RUN = "hcrl_sa/teacher_evaluation";
/** First attempt finished, second still running: no result on the leaderboards until it ends. */
export const RERUNNING_RUN = "set_01/student_evaluation_kd";
export const KD_STUDENT_RUN = "hcrl_sa/student_curriculum_kd";
/** The artifacts of KD_STUDENT_RUN's run, by path: a binary checkpoint and a text log. */
export const SEEDED_ARTIFACTS: Record<string, Uint8Array<ArrayBuffer>> = {
  "checkpoints/best_model.pt": Uint8Array.from({ length: 300 * 1024 + 7 }, (_, i) => (i * 131 + 17) & 0xff),
  "slurm.out": new TextEncoder().encode("epoch 1 loss 0.9\nepoch 2 loss 0.7\n"),
};

const EPOCHS = 12;
const HOUR = 3_600_000;

export interface SeededTracker {
  runIds: string[];
  /** A run logged as the plain MLflow client logs one (its own experiment, a free-form name). */
  plainRun: { experimentId: string; uuid: string; name: string };
}

export const PLAIN_EXPERIMENT = "notebook-sweeps";
export const PLAIN_RUN_NAME = "lr_sweep/adam_0.001";

export async function seedTracker(url: string, token: string): Promise<SeededTracker> {
  const rand = rng(7);
  const teacherConfig = JSON.parse(fixture("teacher_evaluation_config.json")) as Record<string, unknown>;
  const studentConfig = JSON.parse(fixture("student_curriculum_kd_config.json")) as Record<string, unknown>;
  const metricsJson = fixture("teacher_evaluation_metrics.json");

  /** One call to the tracker, answered within 15 s; a refusal throws with the tracker's answer. */
  async function send(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await callServer(url, method, path, { ...options, signal: AbortSignal.timeout(15_000) });
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer;
  }
  async function call(method: string, path: string, body: string, query = ""): Promise<void> {
    await send(method, `/api/v1/runs/${path}${query}`, { token, body });
  }
  const start = (runId: string, config: Record<string, unknown>, startTime: number) => call("PUT", runId, JSON.stringify(config, null, 2), `?start_time=${startTime}`);
  const end = (runId: string, status: "FINISHED" | "FAILED", endTime: number, error?: string) =>
    call("POST", `${runId}/end`, JSON.stringify({ status, end_time: endTime, ...(error && { error }) }));

  async function logMetrics(runId: string, stage: string, startTime: number): Promise<void> {
    if (stage === "evaluation") {
      // The real metrics.json (as is for the fixture's own run), other runs' scores in (0, 1] scaled.
      const scale = runId === RETRIED_RUN ? 1 : 0.85 + rand() * 0.15;
      const scaled = metricsJson.replace(/(?<=: )(0\.\d+|1\.0)(?=[,\s])/g, (n) => String(Number(n) * scale));
      return call("POST", `${runId}/metrics`, scaled, "?format=metrics.json");
    }
    const points = Array.from({ length: EPOCHS }, (_, step) => {
      const progress = step / (EPOCHS - 1);
      return {
        step,
        timestamp: startTime + step * 60_000,
        metrics: {
          train_loss: 1.2 - progress + rand() * 0.05,
          // One NaN point, as a diverging epoch logs it: charts must skip it, tables must show it.
          val_loss: step === 3 && runId === KD_STUDENT_RUN ? "NaN" : 1.3 - progress + rand() * 0.05,
          val_acc: 0.5 + 0.45 * progress + rand() * 0.02,
        },
      };
    });
    return call("POST", `${runId}/metrics`, JSON.stringify(points));
  }

  const runIds: string[] = [];
  let clock = Date.UTC(2026, 10, 20, 8);
  for (const dataset of SEED_DATASETS) {
    for (const group of SEED_GROUPS) {
      for (const stage of STAGE_NAMES) {
        const runId = formatRunId({ dataset, ...group, stage });
        const config = {
          ...(group.modelSize === "teacher" ? teacherConfig : studentConfig),
          dataset,
          model_size: group.modelSize,
          use_kd: group.kd,
          teacher_path: group.kd ? `experimentruns/${dataset}/teacher_${stage}/best_model.pt` : "",
        };
        clock += HOUR;
        const startTime = clock;
        runIds.push(runId);
        if (runId === RETRIED_RUN) {
          await start(runId, config, startTime - HOUR / 2);
          await end(runId, "FAILED", startTime - HOUR / 4, "Killed: SLURM time limit");
        }
        await start(runId, config, startTime);
        await logMetrics(runId, stage, startTime);
        if (runId === RUNNING_RUN) continue;
        if (runId === FAILED_RUN) {
          await end(runId, "FAILED", startTime + HOUR / 2, FAILED_ERROR);
          continue;
        }
        await end(runId, "FINISHED", startTime + HOUR / 2 + Math.round(rand() * HOUR));
        if (runId === RERUNNING_RUN) {
          await start(runId, config, startTime + HOUR);
          await logMetrics(runId, stage, startTime + HOUR);
        }
      }
    }
  }
  // The MLflow client's calls: experiments/create, runs/create, runs/log-batch, runs/update.
  const mlflow = async (path: string, body: object): Promise<any> => (await send("POST", `/api/2.0/mlflow/${path}`, { token, body })).json;
  // The KD student's checkpoint and log, as the MLflow client (or kdgat backfill --artifacts) stores them.
  const kdStudent = (await send("GET", `/api/v1/runs/${KD_STUDENT_RUN}`)).json;
  const { mlflow_run_id: kdUuid } = kdStudent.run;
  const kdRun = (await send("GET", "/api/2.0/mlflow/runs/get", { query: { run_id: kdUuid } })).json;
  const kdExperiment = kdRun.run.info.experiment_id;
  for (const [path, bytes] of Object.entries(SEEDED_ARTIFACTS)) {
    await send("PUT", `/api/2.0/mlflow-artifacts/artifacts/${kdExperiment}/${kdUuid}/artifacts/${path}`, { token, body: bytes });
  }
  const { experiment_id: experimentId } = await mlflow("experiments/create", { name: PLAIN_EXPERIMENT });
  const created = await mlflow("runs/create", { experiment_id: experimentId, run_name: PLAIN_RUN_NAME, start_time: clock });
  const uuid = created.run.info.run_id as string;
  const metrics = Array.from({ length: 8 }, (_, step) => [
    { key: "loss", value: 2 / (step + 1), timestamp: clock + step, step },
    { key: "accuracy", value: 0.5 + step * 0.05, timestamp: clock + step, step },
  ]).flat();
  await mlflow("runs/log-batch", { run_id: uuid, metrics, params: [{ key: "lr", value: "0.001" }], tags: [] });
  await mlflow("runs/update", { run_id: uuid, status: "FINISHED", end_time: clock + HOUR });
  return { runIds, plainRun: { experimentId, uuid, name: PLAIN_RUN_NAME } };
}
