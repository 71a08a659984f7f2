/**
 * The site's view models: export-source.ts hands the export over page by page (from SITE_SNAPSHOT
 * or the read API at SITE_API_URL) once per build, and each page's runs become the view models every
 * page renders before the next page is read, so that a build never holds the whole export. All
 * KD-GAT knowledge (run ids, groups, metric keys, directions) comes from functions/domain.
 */
import type { ExportDocument, ExportedRun, MetricValue, RunStatus } from "../../functions/api/contract.js";
import { artifactDownloadPath } from "../../functions/domain/artifacts.js";
import {
  compareText,
  DEFAULT_LEADERBOARD_METRIC,
  groupOf,
  latestPoint,
  METRIC_PATH_SEPARATOR,
  MODEL_SIZES,
  metricDirection,
  PIPELINE_EXPERIMENT,
  parseGroup,
  parseRunId,
  rankEntries,
  type SortDirection,
  STAGE_NAMES,
  STAGES,
} from "../../functions/domain/index.js";
import { loadExport } from "./export-source.js";

/** The experiment the site shows; the same default as the API's `?experiment=`. */
export const SITE_EXPERIMENT = process.env.SITE_EXPERIMENT || PIPELINE_EXPERIMENT;
// ---------------------------------------------------------------------------------------------
// View models

/** A metric point with NaN as a number. */
export interface Point {
  step: number;
  timestamp: number;
  value: number;
}

/** A metric's latest point as the pages show it (its step and value). */
export type LatestPoint = Pick<Point, "step" | "value">;

/**
 * A history of more than one point, packed as (step, value) pairs: a build keeps 10,000 runs' histories,
 * and a point object per point was most of its memory. historyPoints unpacks one for a chart.
 */
export type History = Float64Array;

export function historyPoints(history: History): LatestPoint[] {
  const points: LatestPoint[] = [];
  for (let i = 0; i < history.length; i += 2) points.push({ step: history[i], value: history[i + 1] });
  return points;
}

export interface Attempt {
  number: number;
  mlflowRunId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
}

/** A stored artifact of a run, linked to the Worker's download route (the site is served by the same origin). */
export interface ArtifactView {
  path: string;
  size: number;
  href: string;
}

/** One run id, shown through its latest attempt. */
export interface RunView {
  id: string;
  dataset: string;
  /** The part after the slash, e.g. `student_curriculum_kd`. */
  name: string;
  stage: string;
  group: string;
  href: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  attempts: Attempt[];
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Per key of the latest attempt, the point with the greatest (step, timestamp, value): MLflow's "latest". */
  latest: Record<string, LatestPoint>;
  /** Histories of more than one point (the ones worth a chart), in step order. */
  histories: Record<string, History>;
  teacherRunId: string | null;
  /** KD students whose teacher_run_id is this run. */
  students: string[];
  errorMsg: string | null;
  /** The latest attempt's artifacts by path; undefined when the export has no listing (ARTIFACTS_PUBLIC=false). */
  artifacts: ArtifactView[] | undefined;
}

/** A run whose name is not a KD-GAT run id, or of another experiment: one page per MLflow run (attempt). */
export interface PlainRunView {
  uuid: string;
  name: string;
  experimentId: string;
  experimentName: string;
  href: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  latest: Record<string, LatestPoint>;
  histories: Record<string, History>;
  artifacts: ArtifactView[] | undefined;
}

export interface ExperimentView {
  id: string;
  name: string;
  href: string;
  /** KD-GAT run ids shown on the leaderboards (only the site's experiment has them). */
  pipelineRuns: number;
  /** Every other run of the experiment, newest first. */
  runs: PlainRunView[];
}

export interface SiteData {
  exportedAt: number;
  /** The newest start or end time of any run: how fresh the data is. */
  lastActivity: number | null;
  runs: RunView[];
  byId: Map<string, RunView>;
  byDataset: Map<string, RunView[]>;
  datasets: string[];
  stages: string[];
  groups: string[];
  /** Runs of other experiments, or whose names are not `{dataset}/{size}_{stage}[_kd]` run ids: on the experiment pages. */
  otherRuns: number;
  /** Every active experiment, by name. */
  experiments: ExperimentView[];
}

export function experimentHref(experimentId: string): string {
  return `/experiments/${experimentId}/`;
}

let cached: { build: string | undefined; site: Promise<SiteData> } | undefined;

/**
 * The site data, loaded once per build however many pages ask for it. A warm builder
 * (scripts/site-builder.mjs) runs several builds in one process, and names each in SITE_BUILD_ID.
 */
export function getSite(): Promise<SiteData> {
  const build = process.env.SITE_BUILD_ID;
  if (cached === undefined || cached.build !== build) {
    const builder = new SiteDataBuilder();
    cached = { build, site: loadExport((page) => builder.add(page)).then(() => builder.finish()) };
  }
  return cached.site;
}

export function runHref(runId: string): string {
  return `/runs/${runId}/`;
}

/** One attempt as the site keeps it: the export's run without its raw metric histories. */
interface LoadedAttempt {
  run: Omit<ExportedRun, "metrics">;
  metrics: Pick<RunView, "latest" | "histories">;
}

/**
 * SiteData from export pages fed one at a time: each page's runs are reduced to what the pages show
 * (latest values, multi-point histories) as they arrive, so the raw page can be dropped.
 */
export class SiteDataBuilder {
  private readonly experiments = new Map<string, ExportDocument["experiments"][number]>();
  /** Attempts by experiment id and run name. */
  private readonly attempts = new Map<string, LoadedAttempt[]>();
  private exportedAt = 0;

  add(page: ExportDocument): void {
    this.exportedAt = Math.max(this.exportedAt, page.exported_at);
    for (const experiment of page.experiments) this.experiments.set(experiment.experiment_id, experiment);
    for (const { metrics, ...run } of page.runs) {
      if (run.lifecycle_stage !== "active") continue;
      const key = `${run.experiment_id}\u0000${run.run_name}`;
      if (!this.attempts.has(key)) this.attempts.set(key, []);
      this.attempts.get(key)!.push({ run, metrics: metricsOf(metrics) });
    }
  }

  finish(): SiteData {
    const experiment = [...this.experiments.values()].find((e) => e.name === SITE_EXPERIMENT && e.lifecycle_stage === "active");
    const views: RunView[] = [];
    const plain: PlainRunView[] = [];
    for (const attempts of this.attempts.values()) {
      const { experiment_id, run_name } = attempts[0].run;
      const shown = this.experiments.get(experiment_id);
      if (shown?.lifecycle_stage !== "active") continue;
      if (experiment_id === experiment?.experiment_id && parseRunId(run_name)) views.push(toRunView(run_name, attempts));
      else plain.push(...attempts.map((attempt) => toPlainRunView(attempt, shown.name)));
    }
    const site = assemble(
      this.exportedAt,
      views.sort((a, b) => compareText(a.id, b.id)),
      plain.length,
    );
    site.experiments = [...this.experiments.values()]
      .filter((e) => e.lifecycle_stage === "active")
      .map((e) => ({
        id: e.experiment_id,
        name: e.name,
        href: experimentHref(e.experiment_id),
        pipelineRuns: e.experiment_id === experiment?.experiment_id ? views.length : 0,
        runs: plain.filter((run) => run.experimentId === e.experiment_id).sort((a, b) => b.startTime - a.startTime),
      }))
      .sort((a, b) => compareText(a.name, b.name));
    return site;
  }
}

/** The whole export at once (one document, e.g. in tests). */
export function buildSiteData(doc: ExportDocument): SiteData {
  const builder = new SiteDataBuilder();
  builder.add(doc);
  return builder.finish();
}

function assemble(exportedAt: number, runs: RunView[], otherRuns: number): SiteData {
  const byId = new Map(runs.map((run) => [run.id, run]));
  for (const run of runs) {
    const teacher = run.teacherRunId ? byId.get(run.teacherRunId) : undefined;
    teacher?.students.push(run.id);
  }
  const byDataset = new Map<string, RunView[]>();
  for (const run of runs) {
    if (!byDataset.has(run.dataset)) byDataset.set(run.dataset, []);
    byDataset.get(run.dataset)!.push(run);
  }
  const lastActivity = runs.reduce<number | null>((newest, run) => Math.max(newest ?? 0, run.startTime, run.endTime ?? 0), null);
  return {
    exportedAt,
    lastActivity,
    runs,
    byId,
    byDataset,
    datasets: [...byDataset.keys()].sort(compareText),
    stages: orderStages(unique(runs.map((run) => run.stage))),
    groups: orderGroups(unique(runs.map((run) => run.group))),
    otherRuns,
    experiments: [],
  };
}

function toPlainRunView({ run, metrics }: LoadedAttempt, experimentName: string): PlainRunView {
  return {
    uuid: run.mlflow_run_id,
    name: run.run_name,
    experimentId: run.experiment_id,
    experimentName,
    href: `${experimentHref(run.experiment_id)}runs/${run.mlflow_run_id}/`,
    status: run.status,
    startTime: run.start_time,
    endTime: run.end_time,
    params: run.params,
    tags: run.tags,
    latest: metrics.latest,
    histories: metrics.histories,
    artifacts: artifactsOf(run),
  };
}

function toRunView(id: string, attempts: LoadedAttempt[]): RunView {
  const parts = parseRunId(id)!;
  const ordered = [...attempts].sort((a, b) => a.run.attempt - b.run.attempt || a.run.start_time - b.run.start_time);
  const { run: latestAttempt, metrics } = ordered[ordered.length - 1];
  return {
    id,
    dataset: parts.dataset,
    name: id.slice(parts.dataset.length + 1),
    stage: parts.stage,
    group: groupOf(parts),
    href: runHref(id),
    status: latestAttempt.status,
    startTime: latestAttempt.start_time,
    endTime: latestAttempt.end_time,
    attempts: ordered.map(({ run: a }) => ({ number: a.attempt, mlflowRunId: a.mlflow_run_id, status: a.status, startTime: a.start_time, endTime: a.end_time })),
    params: latestAttempt.params,
    tags: latestAttempt.tags,
    latest: metrics.latest,
    histories: metrics.histories,
    teacherRunId: latestAttempt.tags.teacher_run_id || null,
    students: [],
    errorMsg: latestAttempt.tags.error_msg || null,
    artifacts: artifactsOf(latestAttempt),
  };
}

function artifactsOf(run: LoadedAttempt["run"]): ArtifactView[] | undefined {
  return run.artifacts?.map(({ path, size }) => ({ path, size, href: artifactDownloadPath(Number(run.experiment_id), run.mlflow_run_id, path) }));
}

/**
 * Single-point histories (evaluation results) are kept only as latest values, longer ones packed
 * (History): 10,000 runs must fit in memory.
 */
function metricsOf(metrics: ExportedRun["metrics"]): Pick<RunView, "latest" | "histories"> {
  const latest: Record<string, LatestPoint> = {};
  const histories: Record<string, History> = {};
  for (const [key, history] of Object.entries(metrics)) {
    if (history.length === 0) continue;
    const { step, value } = latestPoint(history.map(([step, timestamp, value]) => ({ step, timestamp, value: metricNumber(value) })));
    latest[key] = { step, value };
    if (history.length > 1) {
      const packed = new Float64Array(history.length * 2);
      history.forEach(([step, , value], i) => {
        packed[i * 2] = step;
        packed[i * 2 + 1] = metricNumber(value);
      });
      histories[key] = packed;
    }
  }
  return { latest, histories };
}

function metricNumber(value: MetricValue): number {
  return value === "NaN" ? Number.NaN : value;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** Pipeline order first (autoencoder .. evaluation), then any new stage by name. */
function orderStages(stages: string[]): string[] {
  const rank = (stage: string) => {
    const i = (STAGE_NAMES as readonly string[]).indexOf(stage);
    return i < 0 ? STAGE_NAMES.length : i;
  };
  return stages.sort((a, b) => rank(a) - rank(b) || compareText(a, b));
}

/** teacher, student, student_kd, then unknown sizes by name. */
function orderGroups(groups: string[]): string[] {
  const rank = (group: string) => {
    const { modelSize, kd } = parseGroup(group);
    const i = (MODEL_SIZES as readonly string[]).indexOf(modelSize);
    return (i < 0 ? MODEL_SIZES.length : i) * 2 + (kd ? 1 : 0);
  };
  return groups.sort((a, b) => rank(a) - rank(b) || compareText(a, b));
}

// ---------------------------------------------------------------------------------------------
// Leaderboards

export const EVALUATION_STAGE = "evaluation";
/** The models an evaluation run scores, and the core metrics shown for each. */
export const MODELS = ["gat", "vgae", "fusion"] as const;
export const CORE_METRICS = ["f1", "accuracy", "auc", "mcc"] as const;
export const SCENARIO_METRIC = "f1";
export const OVERALL_TOP_N = 100;
export const GROUP_TEACHER = groupOf({ modelSize: "teacher", kd: false });
export const GROUP_STUDENT = groupOf({ modelSize: "student", kd: false });
export const GROUP_STUDENT_KD = groupOf({ modelSize: "student", kd: true });

export interface MetricColumn {
  key: string;
  model: string;
  metric: string;
  direction: SortDirection;
}

/** A flattened metric name (the domain's rule: path joined with `_`). */
export function metricKey(...path: string[]): string {
  return path.join(METRIC_PATH_SEPARATOR);
}

export const LEADERBOARD_COLUMNS: MetricColumn[] = MODELS.flatMap((model) =>
  CORE_METRICS.map((metric) => {
    const key = metricKey(model, metric);
    return { key, model, metric, direction: metricDirection(key) };
  }),
);
export const LEADERBOARD_METRIC = DEFAULT_LEADERBOARD_METRIC;

/**
 * A metric's latest value when the run's latest attempt FINISHED: what leaderboards compare, as
 * /api/v1/leaderboard and /compare do (a failed or re-running attempt has no result yet).
 */
export function resultOf(run: RunView, key: string): number | undefined {
  return run.status === "FINISHED" ? run.latest[key]?.value : undefined;
}

export interface RankedRun {
  /** 1-based; null when the run has no usable value for the metric. */
  rank: number | null;
  value: number | undefined;
  run: RunView;
}

/**
 * Runs ranked by a metric in its better direction, equal values sharing a rank (1, 2, 2, 4) as in
 * the API; runs without a finished value for it follow, unranked.
 */
export function rankRuns(runs: RunView[], key: string): RankedRun[] {
  const scored = runs.flatMap((run) => {
    const value = resultOf(run, key);
    return isScore(value) ? [{ runId: run.id, value, run }] : [];
  });
  const unscored = runs.filter((run) => !isScore(resultOf(run, key)));
  return [...rankEntries(scored, metricDirection(key)).map(({ rank, value, run }) => ({ rank, value, run })), ...unscored.map((run) => ({ rank: null, value: resultOf(run, key), run }))];
}

function isScore(value: number | undefined): value is number {
  return value !== undefined && !Number.isNaN(value);
}

export function evaluationRuns(site: SiteData, dataset?: string): RunView[] {
  const runs = dataset === undefined ? site.runs : (site.byDataset.get(dataset) ?? []);
  return runs.filter((run) => run.stage === EVALUATION_STAGE);
}

/** The best evaluation run of a dataset by the leaderboard metric, if any has a value. */
export function bestOf(site: SiteData, dataset: string): RankedRun | undefined {
  const top = rankRuns(evaluationRuns(site, dataset), LEADERBOARD_METRIC)[0];
  return top?.rank ? top : undefined;
}

/** Test scenario names of a model, from keys such as `test_gat_<scenario>_f1`. */
export function scenariosOf(runs: RunView[], model: string): string[] {
  const prefix = metricKey("test", model, "");
  const suffix = metricKey("", SCENARIO_METRIC);
  const names = runs.flatMap((run) =>
    Object.keys(run.latest)
      .filter((key) => key.startsWith(prefix) && key.endsWith(suffix) && key.length > prefix.length + suffix.length)
      .map((key) => key.slice(prefix.length, -suffix.length)),
  );
  return unique(names).sort(compareText);
}

/** The run of each group for one dataset and stage. */
export function runsByGroup(site: SiteData, dataset: string, stage: string): Map<string, RunView> {
  const runs = site.byDataset.get(dataset) ?? [];
  return new Map(runs.filter((run) => run.stage === stage).map((run) => [run.group, run]));
}

// ---------------------------------------------------------------------------------------------
// KD impact

/**
 * A size proxy per model from the frozen config (the pipeline logs no parameter counts): the
 * product of these fields, list-valued fields summed, e.g. gat_hidden·gat_heads·gat_layers.
 */
export const SIZE_FIELDS: Record<string, string[]> = {
  gat: ["gat_hidden", "gat_heads", "gat_layers"],
  vgae: ["vgae_hidden_dims", "vgae_latent_dim"],
  fusion: ["dqn_hidden", "dqn_layers"],
};

export interface KdImpactRow {
  dataset: string;
  model: string;
  key: string;
  direction: SortDirection;
  teacher?: RunView;
  student?: RunView;
  studentKd?: RunView;
  teacherValue?: number;
  studentValue?: number;
  studentKdValue?: number;
  /** student KD minus student, and minus teacher; null when a side is missing or NaN. */
  kdMinusStudent: number | null;
  kdMinusTeacher: number | null;
  /** student KD size / teacher size from SIZE_FIELDS; null when the configs lack a field. */
  sizeRatio: number | null;
}

export function kdImpact(site: SiteData, metric: string = CORE_METRICS[0]): KdImpactRow[] {
  return site.datasets.flatMap((dataset) => {
    const byGroup = runsByGroup(site, dataset, EVALUATION_STAGE);
    const teacher = byGroup.get(GROUP_TEACHER);
    const student = byGroup.get(GROUP_STUDENT);
    const studentKd = byGroup.get(GROUP_STUDENT_KD);
    if (!studentKd) return [];
    return MODELS.map((model) => {
      const key = metricKey(model, metric);
      const teacherValue = teacher && resultOf(teacher, key);
      const studentValue = student && resultOf(student, key);
      const studentKdValue = resultOf(studentKd, key);
      return {
        dataset,
        model,
        key,
        direction: metricDirection(key),
        teacher,
        student,
        studentKd,
        teacherValue,
        studentValue,
        studentKdValue,
        kdMinusStudent: difference(studentKdValue, studentValue),
        kdMinusTeacher: difference(studentKdValue, teacherValue),
        sizeRatio: trainedSizeRatio(site, dataset, model),
      };
    });
  });
}

export interface KdSummaryRow {
  dataset: string;
  direction: SortDirection;
  /** Means over the dataset's models with both sides; null when none has. */
  kdMinusStudent: number | null;
  kdMinusTeacher: number | null;
  /** Models where distillation beat the student without it, of those compared. */
  helped: number;
  compared: number;
}

/** One summary per dataset of its KD impact rows: the mean differences and how many models KD helped. */
export function kdSummary(rows: KdImpactRow[]): KdSummaryRow[] {
  const mean = (values: Array<number | null>) => {
    const present = values.filter((v): v is number => v !== null);
    return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
  };
  return unique(rows.map((row) => row.dataset)).map((dataset) => {
    const mine = rows.filter((row) => row.dataset === dataset);
    const compared = mine.filter((row) => row.kdMinusStudent !== null);
    return {
      dataset,
      direction: mine[0].direction,
      kdMinusStudent: mean(mine.map((row) => row.kdMinusStudent)),
      kdMinusTeacher: mean(mine.map((row) => row.kdMinusTeacher)),
      helped: compared.filter((row) => (row.direction === "desc" ? row.kdMinusStudent! > 0 : row.kdMinusStudent! < 0)).length,
      compared: compared.length,
    };
  });
}

/**
 * The KD student's size relative to the teacher's for one model, from the configs of the runs that
 * trained them (the stage whose model_arch is the model's: gat -> curriculum, vgae -> autoencoder,
 * fusion -> fusion's dqn), not from the evaluation configs, whose size fields are defaults.
 */
function trainedSizeRatio(site: SiteData, dataset: string, model: string): number | null {
  const arch = model === "fusion" ? "dqn" : model;
  const stage = STAGE_NAMES.find((name) => STAGES[name].modelArch === arch);
  if (!stage) return null;
  const trained = runsByGroup(site, dataset, stage);
  const teacher = trained.get(GROUP_TEACHER);
  const studentKd = trained.get(GROUP_STUDENT_KD);
  return teacher && studentKd ? sizeRatio(studentKd.params, teacher.params, SIZE_FIELDS[model]) : null;
}

function difference(a: number | undefined, b: number | undefined): number | null {
  return isScore(a) && isScore(b) ? a - b : null;
}

function sizeRatio(student: Record<string, string>, teacher: Record<string, string>, fields: string[]): number | null {
  const size = (params: Record<string, string>) =>
    fields.reduce<number | null>((product, field) => {
      const total = sumOfNumbers(params[field]);
      return product === null || total === null ? null : product * total;
    }, 1);
  const s = size(student);
  const t = size(teacher);
  return s !== null && t ? s / t : null;
}

/** `48` -> 48, `(480, 240, 48)` -> 768; null when the param is absent or holds no number. */
function sumOfNumbers(param: string | undefined): number | null {
  const numbers = param?.match(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi)?.map(Number);
  return numbers && numbers.length > 0 ? numbers.reduce((a, b) => a + b, 0) : null;
}

// ---------------------------------------------------------------------------------------------
// Status

export const FAILED_STATUSES: ReadonlySet<RunStatus> = new Set(["FAILED", "KILLED"]);
export const ACTIVE_STATUSES: ReadonlySet<RunStatus> = new Set(["RUNNING", "SCHEDULED"]);

export function countByStatus(runs: RunView[]): Map<RunStatus, number> {
  const counts = new Map<RunStatus, number>();
  for (const run of runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  return counts;
}

// ---------------------------------------------------------------------------------------------
// MLflow run links

/** The 16 shards by a uuid's first hex digit: /run-index/<c>.json and the lookup pages /lookup/<c>/. */
export const UUID_SHARDS = [..."0123456789abcdef"];
export const UUID_LOOKUP_PAGES = UUID_SHARDS;

const pagesByUuid = new WeakMap<SiteData, Map<string, Record<string, string>>>();

/** Every attempt's MLflow run uuid -> its run's page, by the uuid's first character. */
export function runPagesByUuid(site: SiteData): Map<string, Record<string, string>> {
  let shards = pagesByUuid.get(site);
  if (!shards) {
    shards = new Map();
    const pages = [
      ...site.runs.flatMap((run) => run.attempts.map((attempt) => [attempt.mlflowRunId, run.href] as const)),
      ...site.experiments.flatMap((experiment) => experiment.runs.map((run) => [run.uuid, run.href] as const)),
    ];
    for (const [uuid, href] of pages) {
      const shard = uuid.slice(0, 1);
      if (!shards.has(shard)) shards.set(shard, {});
      shards.get(shard)![uuid] = href;
    }
    pagesByUuid.set(site, shards);
  }
  return shards;
}

// ---------------------------------------------------------------------------------------------
// Evaluation run pages: grids shaped like the data

export interface MetricGrid {
  /** Row names (metrics, or test scenarios) and column names (models). */
  rows: string[];
  models: string[];
  /** The metric key of a cell, or undefined when the run has none. */
  key(row: string, model: string): string | undefined;
}

/** Models x metrics of an evaluation run (`gat_f1`, `vgae_auc`, ...): core metrics first, then the rest by name. */
export function modelMetricGrid(run: RunView): MetricGrid {
  const names = Object.keys(run.latest);
  const keys = new Set(names);
  const byModel = MODELS.map((model) => {
    const prefix = metricKey(model, "");
    return { model, metrics: names.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length)) };
  }).filter(({ metrics }) => metrics.length > 0);
  const models = byModel.map(({ model }) => model);
  const metrics = unique(byModel.flatMap(({ metrics }) => metrics));
  const core = CORE_METRICS.filter((metric) => metrics.includes(metric));
  const rows = [...core, ...metrics.filter((metric) => !(core as string[]).includes(metric)).sort(compareText)];
  return { rows, models, key: (metric, model) => (keys.has(metricKey(model, metric)) ? metricKey(model, metric) : undefined) };
}

/** Test scenarios x models of an evaluation run, by the scenario metric (`test_<model>_<scenario>_f1`). */
export function scenarioGrid(run: RunView): MetricGrid {
  const byModel = MODELS.map((model) => ({ model, scenarios: scenariosOf([run], model) })).filter(({ scenarios }) => scenarios.length > 0);
  const models = byModel.map(({ model }) => model);
  const rows = unique(byModel.flatMap(({ scenarios }) => scenarios)).sort(compareText);
  const keys = new Set(Object.keys(run.latest));
  return { rows, models, key: (scenario, model) => (keys.has(metricKey("test", model, scenario, SCENARIO_METRIC)) ? metricKey("test", model, scenario, SCENARIO_METRIC) : undefined) };
}

/** Params grouped by their first word (`gat_hidden`, `gat_heads` -> `gat`); words used once go to `general`. */
export function paramGroups(params: Record<string, string>): Array<{ name: string; entries: Array<[string, string]> }> {
  const entries = Object.entries(params)
    .map(([key, value]) => ({ first: firstWord(key), entry: [key, value] as [string, string] }))
    .sort((a, b) => compareText(a.entry[0], b.entry[0]));
  const counts = new Map<string, number>();
  for (const { first } of entries) counts.set(first, (counts.get(first) ?? 0) + 1);
  const groups = new Map<string, Array<[string, string]>>();
  for (const { first, entry } of entries) {
    const name = counts.get(first)! > 1 ? first : "general";
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name)!.push(entry);
  }
  return [...groups.entries()].map(([name, entries]) => ({ name, entries })).sort((a, b) => (a.name === "general" ? -1 : b.name === "general" ? 1 : compareText(a.name, b.name)));
}

function firstWord(key: string): string {
  const end = key.indexOf(METRIC_PATH_SEPARATOR);
  return end < 0 ? key : key.slice(0, end);
}

// ---------------------------------------------------------------------------------------------
// Leaderboard history

export interface LeaderboardRecord {
  /** When the record was set: the run's end. */
  at: number;
  run: RunView;
  value: number;
}

/**
 * The best score of a dataset over time: its evaluation runs in the order they ended, each that beat
 * every earlier one (in the metric's better direction) a new record. Uses each run id's latest
 * finished attempt, as the leaderboard does.
 */
export function recordsOf(site: SiteData, dataset: string, key: string = LEADERBOARD_METRIC): LeaderboardRecord[] {
  const better = metricDirection(key) === "asc" ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const ended = evaluationRuns(site, dataset)
    .flatMap((run) => {
      const value = resultOf(run, key);
      return isScore(value) && run.endTime !== null ? [{ at: run.endTime, run, value }] : [];
    })
    .sort((a, b) => a.at - b.at || compareText(a.run.id, b.run.id));
  const records: LeaderboardRecord[] = [];
  for (const entry of ended) if (records.length === 0 || better(entry.value, records[records.length - 1].value)) records.push(entry);
  return records;
}
