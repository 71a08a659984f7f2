/**
 * Public rankings over the latest FINISHED attempt of each run id:
 *   GET /leaderboard?metric=&dataset=&stage=&top=   best first (direction from metricDirection); NaN left out
 *   GET /compare?a=teacher&b=student_kd&metric=&stage=  per dataset: a, b and b - a
 *   GET /summary                                    counts of latest attempts
 *   GET /metric-keys?limit=                         the metric names there are to rank by
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import { DEFAULT_LEADERBOARD_METRIC, metricDirection } from "../domain/metrics";
import { rankEntries } from "../domain/ranking";
import { groupOf, parseGroup } from "../domain/run-id";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { publicRead } from "../http/access";
import { queryParams } from "../http/validate";
import { validateKey } from "../store/key-values";
import { findExperimentId } from "../store/pipeline-runs";
import { countLatestRuns, listMetricKeys, rankRuns, stageRunsWithMetric } from "../store/reads";
import type { CompareResponse, LeaderboardResponse, MetricKeysResponse, SummaryResponse } from "./contract";
import { summarize } from "./presenters";
import { experimentName, queryInt } from "./run-path";
import { segmentQuery } from "./runs-reads";

export const DEFAULT_RANKED_STAGE = "evaluation";
export const DEFAULT_TOP = 10;
export const MAX_TOP = 1000;
export const MAX_METRIC_KEYS = 1000;

const metricQuery = z.pipe(
  z._default(z.string(), DEFAULT_LEADERBOARD_METRIC),
  z.transform((key: string) => {
    validateKey("metric", key);
    return key;
  }),
);

const groupQuery = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.-]*(_kd)?$/, "expected a model size, optionally with '_kd' (e.g. teacher, student_kd)"));

export const rankingRoutes = new Hono<AppEnv>()
  .get(
    "/leaderboard",
    publicRead(),
    queryParams(
      z.strictObject({
        experiment: experimentName,
        metric: metricQuery,
        dataset: z.optional(segmentQuery),
        stage: z._default(segmentQuery, DEFAULT_RANKED_STAGE),
        top: z._default(z.pipe(queryInt, z.number().check(z.minimum(1), z.maximum(MAX_TOP))), DEFAULT_TOP),
      }),
    ),
    async (c) => {
      const db = c.get("db");
      const q = c.req.valid("query");
      const direction = metricDirection(q.metric);
      const experimentId = await findExperimentId(db, q.experiment);
      const rows = experimentId === undefined ? [] : await rankRuns(db, { experimentId, metric: q.metric, direction, stage: q.stage, dataset: q.dataset, top: q.top });
      const ranked = rankEntries(
        rows.map((r) => ({ runId: r.run.name, value: r.value, run: r.run })),
        direction,
      ).slice(0, q.top);
      const summaries = await summarize(
        db,
        ranked.map((r) => r.run),
        q.experiment,
      );
      const body: LeaderboardResponse = {
        metric: q.metric,
        direction,
        stage: q.stage,
        dataset: q.dataset ?? null,
        entries: ranked.map((r, i) => ({ rank: r.rank, value: r.value, run: summaries[i] })),
      };
      return c.json(body);
    },
  )
  .get(
    "/compare",
    publicRead(),
    queryParams(
      z.strictObject({
        experiment: experimentName,
        a: z._default(groupQuery, "teacher"),
        b: z._default(groupQuery, "student_kd"),
        metric: metricQuery,
        stage: z._default(segmentQuery, DEFAULT_RANKED_STAGE),
      }),
    ),
    async (c) => {
      const db = c.get("db");
      const q = c.req.valid("query");
      const [a, b] = [parseGroup(q.a), parseGroup(q.b)];
      if (groupOf(a) === groupOf(b)) throw invalidParameter(`Compare two different groups; got a=${excerpt(q.a)} and b=${excerpt(q.b)}.`);
      const experimentId = await findExperimentId(db, q.experiment);
      const rows = experimentId === undefined ? [] : await stageRunsWithMetric(db, experimentId, q.stage, [...new Set([a.modelSize, b.modelSize])], q.metric);
      const side = (dataset: string, group: string) => {
        const row = rows.find((r) => r.run.dataset === dataset && r.run.modelSize !== null && groupOf({ modelSize: r.run.modelSize, kd: !!r.run.kd }) === group);
        return row ? { run_id: row.run.name, value: row.value } : null;
      };
      const datasets = [...new Set(rows.map((r) => r.run.dataset!))].map((dataset) => {
        const [left, right] = [side(dataset, groupOf(a)), side(dataset, groupOf(b))];
        const delta = typeof left?.value === "number" && typeof right?.value === "number" ? right.value - left.value : null;
        return { dataset, a: left, b: right, delta };
      });
      const body: CompareResponse = {
        metric: q.metric,
        direction: metricDirection(q.metric),
        stage: q.stage,
        a: q.a,
        b: q.b,
        datasets: datasets.filter((d) => d.a !== null || d.b !== null),
      };
      return c.json(body);
    },
  )
  .get("/summary", publicRead(), queryParams(z.strictObject({ experiment: experimentName })), async (c) => {
    const db = c.get("db");
    const q = c.req.valid("query");
    const experimentId = await findExperimentId(db, q.experiment);
    const counts = experimentId === undefined ? [] : await countLatestRuns(db, experimentId);
    const body: SummaryResponse = { total: 0, by_dataset: {}, by_stage: {}, by_status: {}, generated_at: Date.now() };
    // Runs whose name is not a KD-GAT run id count in total and by_status only.
    for (const row of counts) {
      body.total += row.count;
      body.by_status[row.status] = (body.by_status[row.status] ?? 0) + row.count;
      if (row.dataset !== null) body.by_dataset[row.dataset] = (body.by_dataset[row.dataset] ?? 0) + row.count;
      if (row.stage !== null) body.by_stage[row.stage] = (body.by_stage[row.stage] ?? 0) + row.count;
    }
    return c.json(body);
  })
  .get(
    "/metric-keys",
    publicRead(),
    queryParams(z.strictObject({ limit: z._default(z.pipe(queryInt, z.number().check(z.minimum(1), z.maximum(MAX_METRIC_KEYS))), MAX_METRIC_KEYS) })),
    async (c) => {
      const { limit } = c.req.valid("query");
      // One more than asked says whether there are more.
      const keys = await listMetricKeys(c.get("db"), limit + 1);
      const body: MetricKeysResponse = { keys: keys.slice(0, limit), truncated: keys.length > limit };
      return c.json(body);
    },
  );
