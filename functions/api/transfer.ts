/**
 * GET /export?page_token=  one ExportDocument page: the experiments, then a bounded page of runs in
 *                          uuid order with params, tags, full metric histories and artifact listings
 *                          (path, size, sha256). Public: what anyone may read (no deleted runs or
 *                          experiments, no idempotency keys, no artifact listings when ARTIFACTS_PUBLIC
 *                          is "false"); with the admin token: the full backup.
 * POST /import             (admin) one such page; idempotent (see store/export.ts).
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { experimentEntry, exportDocument, runEntry } from "../domain/export-document";
import { LIMITS } from "../domain/limits";
import type { AppEnv } from "../env";
import { admin, artifactsPrivate, publicRead } from "../http/access";
import { jsonBody, queryParams } from "../http/validate";
import { decodePageToken, encodePageToken, exportCursor } from "../search/cursor-token";
import { type ExportCursor, exportExperiments, exportRunsPage, importPage } from "../store/export";
import type { ExportDocument, ImportResponse } from "./contract";

/** An import page is an export page; when it was exported does not matter. */
const importDocument = z.omit(exportDocument, { exported_at: true });

type ExportToken = z.output<typeof exportCursor>;
const toToken = (at: ExportCursor): ExportToken => (typeof at === "string" ? at : [at.runUuid, ...at.point, at.part]);
const fromToken = (token: ExportToken): ExportCursor =>
  typeof token === "string" ? token : { runUuid: token[0], point: [token[1], token[2], token[3], token[4], token[5]], part: token[6] };

export const transferRoutes = new Hono<AppEnv>()
  .get("/export", publicRead({ adminMayAskMore: true }), queryParams(z.strictObject({ page_token: z.optional(z.string().check(z.maxLength(LIMITS.maxPageTokenLength))) })), async (c) => {
    const token = c.req.valid("query").page_token;
    const after = token === undefined ? undefined : fromToken(decodePageToken(token, exportCursor));
    const db = c.get("db");
    const scope = c.get("tokenName") === "admin" ? "backup" : "public";
    if (scope === "backup") c.header("Cache-Control", "private, no-store");
    // Each run's artifact listing, but not to the public when artifacts are private.
    const page = await exportRunsPage(db, scope, after, scope === "backup" || !artifactsPrivate(c.env));
    const body: ExportDocument = {
      format: "kdgat-export",
      version: 1,
      exported_at: Date.now(),
      experiments: (await exportExperiments(db, scope)).map((e) => experimentEntry(e.experiment, e.tags)),
      runs: page.runs.map(runEntry),
      ...(page.next && { next_page_token: encodePageToken(toToken(page.next)) }),
    };
    return c.json(body);
  })
  .post("/import", admin(LIMITS.maxUploadBytes), jsonBody(importDocument), async (c) => {
    const imported = await importPage(c.get("db"), c.req.valid("json"));
    return c.json({ imported } satisfies ImportResponse);
  });
