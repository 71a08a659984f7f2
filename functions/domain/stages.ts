/** The MLflow experiment the pipeline logs to (the /api/v1 default). */
export const PIPELINE_EXPERIMENT = "kd-gat-pipeline";

/** The KD-GAT pipeline stages and how the old 8-level layout named them. */
export const STAGES = {
  autoencoder: { learningType: "unsupervised", modelArch: "vgae", mode: "autoencoder" },
  curriculum: { learningType: "supervised", modelArch: "gat", mode: "curriculum" },
  normal: { learningType: "supervised", modelArch: "gat", mode: "normal" },
  fusion: { learningType: "rl_fusion", modelArch: "dqn", mode: "fusion" },
  evaluation: { learningType: "evaluation", modelArch: "eval", mode: "evaluation" },
} as const;

export type Stage = keyof typeof STAGES;
export const STAGE_NAMES = Object.keys(STAGES) as Stage[];

/** Known model sizes; the list is open (later pipelines use e.g. large/small). */
export const MODEL_SIZES = ["teacher", "student"] as const;

export function isStage(value: string): value is Stage {
  return Object.hasOwn(STAGES, value);
}

/** The stage whose old-layout folder names are exactly these, if any. */
export function stageFromOldLayout(learningType: string, modelArch: string, mode: string): Stage | undefined {
  return STAGE_NAMES.find((stage) => {
    const row = STAGES[stage];
    return row.learningType === learningType && row.modelArch === modelArch && row.mode === mode;
  });
}
