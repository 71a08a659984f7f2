/**
 * The export document: the tracker's backup and public dump, a file format that the Worker writes
 * and reads (GET /api/v1/export, POST /api/v1/import), the CLI stores and the site builds from.
 * It is a format of the data, not of one route, so it lives in the core with the other shared rules.
 * `exportDocument` is its one definition: the import route and the site validate with it, and its
 * types are inferred from it.
 */
import * as z from "zod/mini";
import { artifactKey, runArtifactPath, safeArtifactPath } from "./artifacts.js";
import { keyProblem } from "./keys.js";
import { LIMITS } from "./limits.js";
import { fromStoredValue } from "./metric-values.js";
import { compareText } from "./ranking.js";
import { RUN_UUID } from "./run-id.js";

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A param, tag or metric key, checked by the core's key rule. */
const key = (kind: string) =>
  z.string().check(
    z.superRefine((value, ctx) => {
      const problem = keyProblem(kind, value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
  );
/** Integer milliseconds since the epoch. */
const millis = z.int().check(z.nonnegative());
const lifecycle = z.enum(["active", "deleted"]);
const experimentId = z.string().check(z.regex(/^\d{1,15}$/, "expected a decimal experiment id"));
/** A JSON number, or "NaN" (JSON has none). */
export const metricValue = z.union([z.number(), z.literal("NaN")]);
export type ExportedPoint = [step: number, timestamp: number, value: z.infer<typeof metricValue>];

/** What is wrong with one point of a history, if anything: the rules of `[z.int(), millis, metricValue]`. */
function pointProblem(point: unknown): string | undefined {
  if (!Array.isArray(point) || point.length !== 3) return "expected a point [step, timestamp, value]";
  const [step, timestamp, value] = point;
  if (!Number.isSafeInteger(step)) return "expected an integer step";
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) return "expected a timestamp in integer milliseconds >= 0";
  if (!(typeof value === "number" && Number.isFinite(value)) && value !== "NaN") return 'expected a number or "NaN" as the value';
  return undefined;
}

/**
 * A key's history: [step, timestamp, value] points, checked by one loop instead of a tuple schema
 * per point (a 10,000-run export holds millions of points, and parsing each as a zod tuple was most
 * of the schema's time: bench/README.md, "Static site"). The first bad point is reported, by index.
 */
const history = z
  .custom<ExportedPoint[]>((value) => Array.isArray(value), "expected an array of points")
  .check(
    z.superRefine((points, ctx) => {
      for (let i = 0; i < points.length; i++) {
        const problem = pointProblem(points[i]);
        if (problem !== undefined) return void ctx.addIssue({ code: "custom", message: problem, path: [i] });
      }
    }),
  );

export const exportedExperiment = z.object({
  experiment_id: experimentId,
  name: z.string().check(z.minLength(1), z.maxLength(LIMITS.maxRunNameLength)),
  artifact_location: z.string().check(z.maxLength(2000)),
  lifecycle_stage: lifecycle,
  creation_time: millis,
  last_update_time: millis,
  tags: z.record(key("tag"), z.string().check(z.maxLength(LIMITS.maxTagValueLength))),
});

/** One stored artifact of a run, without its bytes: path inside the run's artifact root, bytes, hex SHA-256. */
export const exportedArtifact = z.object({
  path: z.string().check(z.minLength(1), z.maxLength(1024)),
  size: z.int().check(z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex characters")),
});

/**
 * A run's artifact listing names files the artifact proxy would store for that run: each path is
 * safe and inside its artifact root (the proxy's rule, functions/domain/artifacts.ts), once.
 */
function artifactListingProblem(run: { experiment_id: string; mlflow_run_id: string; artifacts?: Array<{ path: string }> }): string | undefined {
  const seen = new Set<string>();
  for (const { path } of run.artifacts ?? []) {
    const inside = safeArtifactPath(path) === path ? runArtifactPath(artifactKey(Number(run.experiment_id), run.mlflow_run_id, path)) : undefined;
    if (inside?.path !== path) return `artifact path '${path.slice(0, 80)}' of run ${run.mlflow_run_id} is not a safe path inside the run's artifact root`;
    if (seen.has(path)) return `artifact path '${path.slice(0, 80)}' of run ${run.mlflow_run_id} is listed twice`;
    seen.add(path);
  }
  return undefined;
}

export const exportedRun = z
  .object({
    mlflow_run_id: z.string().check(z.regex(RUN_UUID, "expected 32 lowercase hex characters")),
    experiment_id: experimentId,
    run_name: z.string().check(z.maxLength(LIMITS.maxRunNameLength)),
    user_id: z.string().check(z.maxLength(LIMITS.maxRunNameLength)),
    status: z.enum(RUN_STATUSES),
    start_time: millis,
    end_time: z.nullable(millis),
    artifact_uri: z.string().check(z.maxLength(2000)),
    lifecycle_stage: lifecycle,
    /** When the run was soft-deleted (lifecycle_stage "deleted"), else null. */
    deleted_time: z.nullable(millis),
    /** 1 for the first attempt of run_name in its experiment, counting up (kept by import). */
    attempt: z.int().check(z.minimum(1)),
    params: z.record(key("param"), z.string().check(z.maxLength(LIMITS.maxParamValueLength))),
    tags: z.record(key("tag"), z.string().check(z.maxLength(LIMITS.maxTagValueLength))),
    /**
     * Set when this entry holds only part of the run's metric history (a history too large for one
     * page): part 1 lists every key, the parts follow one another in the next pages, the last one says
     * so. Without it the entry is the whole run. `RunParts` joins them back.
     */
    part: z.optional(z.object({ index: z.int().check(z.minimum(1)), last: z.boolean() })),
    /** Full history per key (or this part's points of it): [step, timestamp, value] in step order. */
    metrics: z
      .record(key("metric"), history)
      .check(z.refine((history) => Object.keys(history).length <= LIMITS.maxMetricKeysPerRun, `a run can hold at most ${LIMITS.maxMetricKeysPerRun} distinct metric keys`)),
    /**
     * The run's stored artifacts by path, without their bytes (those stay in R2; `kdgat export
     * --artifacts DIR` copies them). Left out of the public export when ARTIFACTS_PUBLIC is "false",
     * and optional on import (documents from before artifacts).
     */
    artifacts: z.optional(z.array(exportedArtifact)),
  })
  .check(
    z.superRefine((run, ctx) => {
      const problem = artifactListingProblem(run);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: ["artifacts"] });
    }),
  );

/**
 * GET /api/v1/export (public, paged with `page_token`): everything but tokens.
 * POST /api/v1/import (admin) takes the same document and recreates it in an empty tracker.
 */
export const exportDocument = z.object({
  format: z.literal("kdgat-export"),
  version: z.literal(1),
  exported_at: millis,
  experiments: z.array(exportedExperiment),
  runs: z.array(exportedRun),
  next_page_token: z.optional(z.string()),
});

export type ExportDocument = z.infer<typeof exportDocument>;
export type ExportedExperiment = z.infer<typeof exportedExperiment>;
export type ExportedRun = z.infer<typeof exportedRun>;
export type ExportedArtifact = z.infer<typeof exportedArtifact>;

/** The pages of a paged export as one document: every page's runs (parts joined), each experiment once (the last page's copy). */
export function mergeExportPages(pages: readonly ExportDocument[]): ExportDocument {
  const experiments = new Map(pages.flatMap((page) => page.experiments).map((e) => [e.experiment_id, e]));
  const parts = new RunParts();
  const runs = pages.flatMap((page) => parts.add(page.runs));
  parts.finish();
  return {
    format: "kdgat-export",
    version: 1,
    exported_at: Math.max(...pages.map((page) => page.exported_at)),
    experiments: [...experiments.values()],
    runs,
  };
}

/**
 * Joins the parts of runs split across pages, as the pages arrive in order: `add` gives back a
 * page's whole runs, a split run once its last part is in (its fields and params from the last part,
 * each key's points in order). Parts out of order, or a run left unfinished (`finish`), throw.
 */
export class RunParts {
  private pending: ExportedRun | undefined;

  add(runs: readonly ExportedRun[]): ExportedRun[] {
    const whole: ExportedRun[] = [];
    for (const run of runs) {
      const expected = this.pending ? { id: this.pending.mlflow_run_id, index: (this.pending.part?.index ?? 0) + 1 } : undefined;
      if (expected && (run.mlflow_run_id !== expected.id || run.part?.index !== expected.index)) {
        throw new Error(`Export pages out of order: run ${expected.id} stops before its part ${expected.index}.`);
      }
      if (!expected && run.part && run.part.index !== 1) throw new Error(`Export pages out of order: part ${run.part.index} of run ${run.mlflow_run_id} comes without part 1.`);
      const joined = this.pending ? appendPart(this.pending, run) : run;
      this.pending = undefined;
      if (joined.part && !joined.part.last) this.pending = joined;
      else whole.push(withoutPart(joined));
    }
    return whole;
  }

  finish(): void {
    if (this.pending) throw new Error(`Export ends inside run ${this.pending.mlflow_run_id}: its part ${(this.pending.part?.index ?? 0) + 1} is missing.`);
  }
}

function appendPart(run: ExportedRun, next: ExportedRun): ExportedRun {
  const metrics = { ...run.metrics };
  for (const [key, points] of Object.entries(next.metrics)) metrics[key] = [...(metrics[key] ?? []), ...points];
  return { ...next, params: { ...run.params, ...next.params }, tags: { ...run.tags, ...next.tags }, metrics };
}

function withoutPart({ part: _part, ...run }: ExportedRun): ExportedRun {
  return run;
}

/**
 * A run cut into entries of at most `maxPoints` points each (in key order, then step order), marked
 * as parts; a run within the bound stays one entry. The export's inverse of RunParts.
 */
export function splitRun(run: ExportedRun, maxPoints: number): ExportedRun[] {
  const total = Object.values(run.metrics).reduce((sum, history) => sum + history.length, 0);
  if (total <= maxPoints) return [run];
  const parts: Array<ExportedRun["metrics"]> = [Object.fromEntries(Object.keys(run.metrics).map((key) => [key, []]))];
  let room = maxPoints;
  for (const [key, history] of Object.entries(run.metrics)) {
    for (let at = 0; at < history.length; ) {
      if (room === 0) {
        parts.push({});
        room = maxPoints;
      }
      const taken = history.slice(at, at + room);
      const current = parts[parts.length - 1];
      current[key] = [...(current[key] ?? []), ...taken];
      at += taken.length;
      room -= taken.length;
    }
  }
  return parts.map((metrics, i) => ({ ...run, part: { index: i + 1, last: i === parts.length - 1 }, metrics }));
}

/** An experiment as the store reads it (drizzle's property names). */
export interface ExperimentRecord {
  experimentId: number;
  name: string;
  artifactLocation: string;
  lifecycleStage: "active" | "deleted";
  creationTime: number;
  lastUpdateTime: number;
}

/** A run as the store reads it (drizzle's property names). */
export interface RunRecord {
  runUuid: string;
  experimentId: number;
  name: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: "active" | "deleted";
  deletedTime: number | null;
  attempt: number;
}

export interface KeyValueRecord {
  key: string;
  value: string;
}

/** A stored metric point: NaN as is_nan (see metric-values.ts). */
export interface PointRecord {
  key: string;
  step: number;
  timestamp: number;
  value: number;
  isNan: boolean;
}

/** A stored artifact of a run (drizzle's property names). */
export interface ArtifactRecord {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Everything an export holds of one run, as rows: its keys in first-logged order, its points in step
 * order, its artifacts by path (undefined: the listing is not part of this export).
 */
export interface RunRows {
  run: RunRecord;
  params: KeyValueRecord[];
  tags: KeyValueRecord[];
  keys: string[];
  points: PointRecord[];
  artifacts?: ArtifactRecord[];
  /** Set when `points` is only part of the run's history (see exportedRun's `part`). */
  part?: { index: number; last: boolean };
}

const record = (rows: KeyValueRecord[]) => Object.fromEntries(rows.map((r) => [r.key, r.value]));

/** The document entry of an experiment. */
export function experimentEntry(e: ExperimentRecord, tags: KeyValueRecord[]): ExportedExperiment {
  return {
    experiment_id: String(e.experimentId),
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.creationTime,
    last_update_time: e.lastUpdateTime,
    tags: record(tags),
  };
}

/** The document entry of a run. */
export function runEntry({ run: r, params, tags, keys, points, part, artifacts }: RunRows): ExportedRun {
  const history: ExportedRun["metrics"] = {};
  for (const key of keys) history[key] = [];
  for (const p of points) {
    history[p.key] ??= [];
    history[p.key].push([p.step, p.timestamp, fromStoredValue(p.value, p.isNan)]);
  }
  return {
    mlflow_run_id: r.runUuid,
    experiment_id: String(r.experimentId),
    run_name: r.name,
    user_id: r.userId,
    status: r.status,
    start_time: r.startTime,
    end_time: r.endTime,
    artifact_uri: r.artifactUri,
    lifecycle_stage: r.lifecycleStage,
    deleted_time: r.deletedTime,
    attempt: r.attempt,
    params: record(params),
    tags: record(tags),
    ...(part && { part }),
    metrics: history,
    ...(artifacts && { artifacts: artifacts.map(({ path, size, sha256 }) => ({ path, size, sha256 })) }),
  };
}

/** The experiment a document entry describes, as the store keeps it (the inverse of experimentEntry, tags aside). */
export function experimentRecord(e: ExportedExperiment): ExperimentRecord {
  return {
    experimentId: Number(e.experiment_id),
    name: e.name,
    artifactLocation: e.artifact_location,
    lifecycleStage: e.lifecycle_stage,
    creationTime: e.creation_time,
    lastUpdateTime: e.last_update_time,
  };
}

/** The run a document entry describes, as the store keeps it (the inverse of runEntry, its data aside). */
export function runRecord(r: ExportedRun): RunRecord {
  return {
    runUuid: r.mlflow_run_id,
    experimentId: Number(r.experiment_id),
    name: r.run_name,
    userId: r.user_id,
    status: r.status,
    startTime: r.start_time,
    endTime: r.end_time,
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage,
    deletedTime: r.deleted_time,
    attempt: r.attempt,
  };
}

/**
 * Whether two exported runs hold the same data, whatever the order of their keys, points and
 * artifacts. An artifact listing counts only when both state one (a document from before artifacts,
 * or a public export with ARTIFACTS_PUBLIC=false, says nothing about them).
 */
export function sameExportedRun(a: ExportedRun, b: ExportedRun): boolean {
  const withListing = a.artifacts !== undefined && b.artifacts !== undefined;
  return canonical(a, withListing) === canonical(b, withListing);
}

function canonical(run: ExportedRun, withListing: boolean): string {
  const sorted = (entries: Record<string, unknown>) => Object.entries(entries).sort(([x], [y]) => compareText(x, y));
  const history = sorted(run.metrics).map(([key, points]) => [key, (points as ExportedRun["metrics"][string]).map((p) => JSON.stringify(p)).sort()]);
  const files = withListing ? [...(run.artifacts ?? [])].sort((x, y) => compareText(x.path, y.path)).map((f) => [f.path, f.size, f.sha256]) : undefined;
  return JSON.stringify({ ...run, params: sorted(run.params), tags: sorted(run.tags), metrics: history, artifacts: files });
}
