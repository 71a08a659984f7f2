/**
 * The /api/v1 response shapes (contract.ts) built from the store's rows: the store returns rows,
 * these turn them into what a v1 client reads.
 */
import { fromStoredValue } from "../domain/metric-values";
import type { Db } from "../env";
import type { ArtifactRow } from "../store/artifacts";
import { runTagsWithKeys, TEACHER_TAG } from "../store/reads";
import { getMetricHistory, getRunData, type HistoryCursor, type RunRow } from "../store/runs";
import type { SiteState } from "../store/site-state";
import type { ArtifactFile, LatestMetric, MetricPoint, RunSummary, SiteStateResponse } from "./contract";

const ERROR_TAG = "error_msg";

/** RunSummary of each row (in order), with its teacher_run_id and error_msg tags fetched in one query. */
export async function summarize(db: Db, rows: RunRow[], experiment: string): Promise<RunSummary[]> {
  if (rows.length === 0) return [];
  const tagRows = await runTagsWithKeys(
    db,
    rows.map((r) => r.runUuid),
    [TEACHER_TAG, ERROR_TAG],
  );
  const tagValues = new Map(tagRows.map((t) => [`${t.runUuid}/${t.key}`, t.value]));
  const tagOf = (uuid: string, key: string) => tagValues.get(`${uuid}/${key}`) ?? null;
  return rows.map((r) => ({
    run_id: r.name,
    mlflow_run_id: r.runUuid,
    experiment,
    dataset: r.dataset,
    model_size: r.modelSize,
    stage: r.stage,
    kd: r.kd,
    status: r.status,
    start_time: r.startTime,
    end_time: r.endTime,
    attempt: r.attempt,
    teacher_run_id: tagOf(r.runUuid, TEACHER_TAG),
    error_msg: tagOf(r.runUuid, ERROR_TAG),
  }));
}

/** Params, tags and latest metrics of one attempt, as the contract's records. */
export async function runRecords(db: Db, runUuid: string) {
  const data = await getRunData(db, runUuid);
  const latest: Record<string, LatestMetric> = {};
  for (const m of data.metrics) latest[m.key] = { value: fromStoredValue(m.value, m.isNan), step: m.step, timestamp: m.timestamp };
  return {
    params: Object.fromEntries(data.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(data.tags.map((t) => [t.key, t.value])),
    metrics: latest,
  };
}

/** One page of the history of one metric of one attempt, in step order, and where the next starts. */
export async function metricHistory(db: Db, runUuid: string, key: string, after?: HistoryCursor): Promise<{ points: MetricPoint[]; next?: HistoryCursor }> {
  const { points, next } = await getMetricHistory(db, runUuid, key, after);
  return { points: points.map((m) => ({ step: m.step, timestamp: m.timestamp, value: fromStoredValue(m.value, m.isNan) })), next };
}

/** A run's stored artifacts, by path. */
export function presentArtifacts(rows: ArtifactRow[]): ArtifactFile[] {
  return rows.map((r) => ({ path: r.path, size: r.size, sha256: r.sha256 }));
}

/** The site's stale marker as GET /site/state answers it. */
export function siteStateBody(state: SiteState | undefined): SiteStateResponse {
  return { changed_at: state?.changedAt ?? null, pending: state !== undefined && state.pendingSince !== null };
}
