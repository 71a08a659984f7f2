// Generates a synthetic ExportDocument (the shape of GET /api/v1/export and `kdgat export`) with
// N runs built from the real fixtures: every stage and group per dataset, training histories,
// flattened evaluation metrics, some failed and running runs. Deterministic (seeded).
//   node bench/site-snapshot.mjs 10000 > bench/results/site-snapshot-10000.json
// Needs the compiled domain module (dist/functions/domain, built by `npm run build:cli`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deriveRunTags, flattenMetrics, formatRunId, pythonStr, STAGE_NAMES } from "../dist/functions/domain/index.js";
import { ROOT } from "../scripts/local-server.mjs";
import { rng } from "./lib/stats.mjs";

const FIXTURES = join(ROOT, "test", "fixtures");
const readFixture = (name) => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));
const GROUPS = [
  { modelSize: "teacher", kd: false },
  { modelSize: "student", kd: false },
  { modelSize: "student", kd: true },
];
const EPOCHS = 30;

function history(rand, start, end, t0) {
  return Array.from({ length: EPOCHS }, (_, step) => {
    const progress = step / (EPOCHS - 1);
    return [step, t0 + step * 60_000, start + (end - start) * Math.sqrt(progress) + (rand() - 0.5) * 0.02];
  });
}

function stageMetrics(stage, rand, t0, evaluationMetrics) {
  if (stage === "evaluation") {
    // The real metrics.json, each score scaled a little, so that rankings differ between runs.
    const scale = 0.9 + rand() * 0.1;
    return Object.fromEntries([...flattenMetrics(evaluationMetrics)].map(([key, value]) => [key, [[0, t0, value > 0 && value <= 1 ? value * scale : value]]]));
  }
  if (stage === "fusion") {
    return {
      total_reward: history(rand, 10, 400, t0),
      val_accuracy: history(rand, 0.6, 0.99, t0),
      epsilon: history(rand, 1, 0.05, t0),
      best_accuracy: history(rand, 0.6, 0.99, t0),
    };
  }
  return {
    train_loss: history(rand, 1.2, 0.05, t0),
    val_loss: history(rand, 1.3, 0.1, t0),
    train_acc: history(rand, 0.5, 0.99, t0),
    val_acc: history(rand, 0.5, 0.97, t0),
    gpu_mem_allocated_gb: history(rand, 3, 3.4, t0),
  };
}

export function generateExport(runCount, { seed = 1, exportedAt = Date.UTC(2026, 10, 29, 12) } = {}) {
  const rand = rng(seed);
  const baseConfig = readFixture("teacher_evaluation_config.json");
  const studentConfig = readFixture("student_curriculum_kd_config.json");
  const evaluationMetrics = readFixture("teacher_evaluation_metrics.json");
  const runs = [];
  let t = Date.UTC(2026, 10, 1);
  for (let d = 0; runs.length < runCount; d++) {
    const dataset = `set_${String(d + 1).padStart(4, "0")}`;
    for (const group of GROUPS) {
      for (const stage of STAGE_NAMES) {
        if (runs.length >= runCount) break;
        const runId = formatRunId({ dataset, ...group, stage });
        const config = {
          ...(group.modelSize === "teacher" ? baseConfig : studentConfig),
          dataset,
          use_kd: group.kd,
          teacher_path: group.kd ? `experimentruns/${dataset}/teacher_${stage}/best_model.pt` : "",
        };
        const roll = rand();
        const status = roll < 0.02 ? "FAILED" : roll < 0.03 ? "RUNNING" : "FINISHED";
        t += 600_000;
        const start = t;
        const tags = { ...deriveRunTags(runId, config), "mlflow.runName": runId };
        if (status === "FAILED") tags.error_msg = "CUDA out of memory. Tried to allocate 2.00 GiB";
        const uuid = runs.length.toString(16).padStart(32, "0");
        runs.push({
          mlflow_run_id: uuid,
          experiment_id: "1",
          run_name: runId,
          user_id: "slurm",
          status,
          start_time: start,
          end_time: status === "RUNNING" ? null : start + EPOCHS * 60_000,
          artifact_uri: `mlflow-artifacts:/1/${uuid}/artifacts`,
          lifecycle_stage: "active",
          deleted_time: null,
          attempt: 1,
          params: Object.fromEntries(Object.entries(config).map(([key, value]) => [key, pythonStr(value)])),
          tags,
          metrics: stageMetrics(stage, rand, start, evaluationMetrics),
        });
      }
    }
  }
  return {
    format: "kdgat-export",
    version: 1,
    exported_at: exportedAt,
    experiments: [
      {
        experiment_id: "1",
        name: "kd-gat-pipeline",
        artifact_location: "mlflow-artifacts:/1",
        lifecycle_stage: "active",
        creation_time: Date.UTC(2026, 10, 1),
        last_update_time: exportedAt,
        tags: {},
      },
    ],
    runs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(generateExport(Number(process.argv[2] ?? 10_000))));
}
