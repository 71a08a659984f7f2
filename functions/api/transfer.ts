/**
 * GET /export?page_token=  one ExportDocument page: the experiments, then a bounded page of runs in
 *                          uuid order with params, tags and full metric histories. Public: what anyone
 *                          may read (no deleted runs or experiments, no idempotency keys); with the
 *                          admin token: the full backup.
 * POST /import             (admin) one such page; idempotent (see store/export.ts).
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { RUN_STATUSES } from "../db/schema";
import { exportedExperiment, exportedRun } from "../domain/export-document";
import { LIMITS } from "../domain/limits";
import { RUN_UUID } from "../domain/run-id";
import type { AppEnv } from "../env";
import { optionalAdminToken, requireAdminToken } from "../http/auth";
import { capBody } from "../http/limits";
import { jsonBody, queryParams } from "../http/validate";
import { exportExperiments, exportRunsPage, importPage } from "../store/export";
import { validateKey } from "../store/key-values";
import type { ExportDocument } from "./contract";
import { decodePageToken, encodePageToken } from "./page-token";

export const transferRoutes = new Hono<AppEnv>();

const runUuid = z.string().check(z.regex(RUN_UUID, "expected 32 lowercase hex characters"));

transferRoutes.get("/export", optionalAdminToken, queryParams(z.strictObject({ page_token: z.optional(z.string().check(z.maxLength(200))) })), async (c) => {
  const token = c.req.valid("query").page_token;
  const after = token === undefined ? undefined : decodePageToken(token, runUuid);
  const db = c.get("db");
  const scope = c.get("tokenName") === "admin" ? "backup" : "public";
  if (scope === "backup") c.header("Cache-Control", "private, no-store");
  const page = await exportRunsPage(db, scope, after);
  const body: ExportDocument = {
    format: "kdgat-export",
    version: 1,
    exported_at: Date.now(),
    experiments: (await exportExperiments(db, scope)).map((e) => exportedExperiment(e.experiment, e.tags)),
    runs: page.runs.map(exportedRun),
    ...(page.nextAfter && { next_page_token: encodePageToken(page.nextAfter) }),
  };
  return c.json(body);
});

const key = (kind: string) =>
  z.string().check(
    z.superRefine((value, ctx) => {
      try {
        validateKey(kind, value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
  );
const millis = z.int().check(z.nonnegative());
const lifecycle = z.enum(["active", "deleted"]);
const metricValue = z.union([z.number(), z.literal("NaN")]);

const importDocument = z.object({
  format: z.literal("kdgat-export"),
  version: z.literal(1),
  experiments: z.array(
    z.object({
      experiment_id: z.string().check(z.regex(/^\d{1,15}$/)),
      name: z.string().check(z.minLength(1), z.maxLength(LIMITS.maxRunNameLength)),
      artifact_location: z.string().check(z.maxLength(2000)),
      lifecycle_stage: lifecycle,
      creation_time: millis,
      last_update_time: millis,
      tags: z.record(key("tag"), z.string().check(z.maxLength(LIMITS.maxTagValueLength))),
    }),
  ),
  runs: z.array(
    z.object({
      mlflow_run_id: runUuid,
      experiment_id: z.string().check(z.regex(/^\d{1,15}$/)),
      run_name: z.string().check(z.maxLength(LIMITS.maxRunNameLength)),
      user_id: z.string().check(z.maxLength(LIMITS.maxRunNameLength)),
      status: z.enum(RUN_STATUSES),
      start_time: millis,
      end_time: z.nullable(millis),
      artifact_uri: z.string().check(z.maxLength(2000)),
      lifecycle_stage: lifecycle,
      deleted_time: z.nullable(millis),
      attempt: z.int().check(z.minimum(1)),
      params: z.record(key("param"), z.string().check(z.maxLength(LIMITS.maxParamValueLength))),
      tags: z.record(key("tag"), z.string().check(z.maxLength(LIMITS.maxTagValueLength))),
      metrics: z
        .record(key("metric"), z.array(z.tuple([z.int(), millis, metricValue])))
        .check(z.refine((history) => Object.keys(history).length <= LIMITS.maxMetricKeysPerRun, `a run can hold at most ${LIMITS.maxMetricKeysPerRun} distinct metric keys`)),
    }),
  ),
});

transferRoutes.post("/import", requireAdminToken, capBody(LIMITS.maxUploadBytes), jsonBody(importDocument), async (c) => {
  const imported = await importPage(c.get("db"), c.req.valid("json"));
  return c.json({ imported });
});
