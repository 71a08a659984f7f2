/**
 * Real experimentruns/ trees for the CLI tests: old-layout runs of every stage, KD and not, built
 * from the real fixtures, with the awkward things a year of GPU results holds: hidden files,
 * spaces, modes, symlinks (also dangling), nested lightning logs, fixed mtimes, optionally a big
 * sparse checkpoint; plus a conflict, unmappable folders and a folder without files.
 */
import { chmodSync, closeSync, ftruncateSync, lutimesSync, mkdirSync, openSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { STAGE_NAMES, STAGES, type Stage } from "../../../functions/domain/index.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
export const CONFIG_TEMPLATE = readFileSync(join(FIXTURES, "student_curriculum_kd_config.json"), "utf8");
export const METRICS_JSON = readFileSync(join(FIXTURES, "teacher_evaluation_metrics.json"), "utf8");

/** 2026-01-01T00:00:00Z: every generated mtime is this plus a run/file offset (ms precision). */
export const BASE_TIME_MS = 1_767_225_600_000;

export interface RunSpec {
  dataset: string;
  size: string;
  stage: Stage;
  kd: boolean;
}

export interface TreeOptions {
  datasets?: string[];
  stages?: Stage[];
  /** Gives the first run's best_model.pt this many (sparse) bytes. */
  sparseCheckpointBytes?: number;
  /** Adds a conflict, unmappable folders and a folder without files. */
  awkward?: boolean;
}

export function runSpecs(options: TreeOptions = {}): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const dataset of options.datasets ?? ["hcrl_sa", "set_01"]) {
    for (const stage of options.stages ?? STAGE_NAMES) {
      specs.push({ dataset, size: "teacher", stage, kd: false });
      specs.push({ dataset, size: "student", stage, kd: false });
      specs.push({ dataset, size: "student", stage, kd: true });
    }
  }
  return specs;
}

export function oldPath(spec: RunSpec): string {
  const row = STAGES[spec.stage];
  return join("automotive", spec.dataset, spec.size, row.learningType, row.modelArch, spec.kd ? "distilled" : "no_distillation", row.mode);
}

export function runId(spec: RunSpec): string {
  return `${spec.dataset}/${spec.size}_${spec.stage}${spec.kd ? "_kd" : ""}`;
}

export function configFor(spec: RunSpec): string {
  return CONFIG_TEMPLATE.replace(/"dataset": "[^"]*"/, `"dataset": "${spec.dataset}"`)
    .replace(/"model_size": "[^"]*"/, `"model_size": "${spec.size}"`)
    .replace(/"use_kd": (true|false)/, `"use_kd": ${spec.kd}`)
    .replace(/"teacher_path": "[^"]*"/, `"teacher_path": "experimentruns/${spec.dataset}/teacher_${spec.stage}/best_model.pt"`);
}

export function metricsCsv(epochs: number): string {
  const rows = ["epoch,step,train_loss,val_loss,train_acc,val_acc"];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loss = (1 / (epoch + 2)).toFixed(6);
    rows.push(`${epoch},${(epoch + 1) * 10},${loss},${(Number(loss) * 1.1).toFixed(6)},${(1 - Number(loss)).toFixed(6)},${(0.98 - Number(loss)).toFixed(6)}`);
  }
  return `${rows.join("\n")}\n`;
}

/** Writes a file with a mode and an mtime (creating its folder). */
export function writeFileAt(path: string, content: string | Buffer, mtimeMs: number, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
  utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
}

/** One run folder's contents (old or new layout: `dir` is the run folder). */
export function writeRunFolder(dir: string, spec: RunSpec, index: number, options: { sparseBytes?: number } = {}): void {
  const t = BASE_TIME_MS + index * 3_600_000;
  writeFileAt(join(dir, "config.json"), configFor(spec), t);
  writeFileAt(join(dir, "best_model.pt"), Buffer.from(`checkpoint of ${runId(spec)}\n`.repeat(50)), t + 1_000, 0o640);
  if (options.sparseBytes) {
    const fd = openSync(join(dir, "best_model.pt"), "r+");
    ftruncateSync(fd, options.sparseBytes);
    closeSync(fd);
    utimesSync(join(dir, "best_model.pt"), (t + 1_000) / 1000, (t + 1_000) / 1000);
  }
  writeFileAt(join(dir, "slurm.out"), `epoch 1 done\nrun ${runId(spec)} finished\n`, t + 2_000);
  writeFileAt(join(dir, "slurm.err"), "", t + 2_000);
  writeFileAt(join(dir, ".nfs0000deadbeef"), "hidden", t + 3_000, 0o600);
  writeFileAt(join(dir, "notes with spaces.txt"), "a note", t + 4_000, 0o600);
  writeFileAt(join(dir, "run.sh"), "#!/bin/sh\necho hi\n", t + 5_000, 0o755);
  writeFileAt(join(dir, "readonly.txt"), "do not touch", t + 6_000, 0o444);
  writeFileAt(join(dir, "lightning_logs", "version_0", "metrics.csv"), metricsCsv(5), t + 7_000);
  writeFileAt(join(dir, "lightning_logs", "version_0", "hparams.yaml"), "lr: 0.001\n", t + 7_000);
  if (spec.stage === "evaluation") writeFileAt(join(dir, "metrics.json"), METRICS_JSON, t + 8_000);
  symlinkSync("best_model.pt", join(dir, "last.ckpt"));
  lutimesSync(join(dir, "last.ckpt"), (t + 9_000) / 1000, (t + 9_000) / 1000);
  symlinkSync("../does-not-exist", join(dir, "dangling.lnk"));
  lutimesSync(join(dir, "dangling.lnk"), (t + 9_000) / 1000, (t + 9_000) / 1000);
  utimesSync(join(dir, "lightning_logs", "version_0"), (t + 7_000) / 1000, (t + 7_000) / 1000);
  chmodSync(dir, 0o750);
  utimesSync(dir, (t + 10_000) / 1000, (t + 10_000) / 1000);
}

export interface BuiltTree {
  specs: RunSpec[];
  conflict?: { from: string; to: string };
  unmappable: string[];
}

export function buildOldTree(root: string, options: TreeOptions = {}): BuiltTree {
  const specs = runSpecs(options);
  for (const [i, spec] of specs.entries()) writeRunFolder(join(root, oldPath(spec)), spec, i, { sparseBytes: i === 0 ? options.sparseCheckpointBytes : undefined });
  if (!options.awkward) return { specs, unmappable: [] };
  // A run whose new folder already exists: never overwritten, never merged.
  const conflictSpec: RunSpec = { dataset: "hcrl_ch", size: "teacher", stage: "normal", kd: false };
  writeRunFolder(join(root, oldPath(conflictSpec)), conflictSpec, 90);
  writeFileAt(join(root, runId(conflictSpec), "config.json"), configFor(conflictSpec), BASE_TIME_MS);
  // The older size-after-architecture ordering, and a dataset name that is not a run id segment.
  const sizeAfterArch = "automotive/hcrl_ch/supervised/gat/teacher/no_distillation/normal";
  writeFileAt(join(root, sizeAfterArch, "best_model.pt"), "old", BASE_TIME_MS);
  const badDataset = "automotive/my dataset/teacher/supervised/gat/no_distillation/normal";
  writeFileAt(join(root, badDataset, "slurm.out"), "spaces", BASE_TIME_MS);
  // No file anywhere beneath: not a run folder at all.
  mkdirSync(join(root, "automotive/set_04/teacher/supervised/gat/no_distillation/curriculum/lightning_logs/version_0"), { recursive: true });
  // A run folder without best_model.pt or config.json is still moved.
  writeFileAt(join(root, "automotive/set_04/student/supervised/gat/distilled/normal/slurm.err"), "OOM", BASE_TIME_MS);
  return { specs, conflict: { from: oldPath(conflictSpec), to: runId(conflictSpec) }, unmappable: [sizeAfterArch, badDataset] };
}
