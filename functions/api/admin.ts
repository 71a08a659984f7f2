/**
 * POST /admin/gc {older_than_days, dry_run} (admin): removes the artifacts (R2 objects and their D1
 * rows) of runs deleted more than older_than_days ago. A deleted run keeps its artifacts until
 * then, so that restoring it brings them back. At most GC_FILES_PER_CALL files per call (a
 * Worker's subrequest budget); `more: true` says to call again (`kdgat gc` does).
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../env";
import { admin } from "../http/access";
import { jsonBody } from "../http/validate";
import { gcDeletedRunArtifacts } from "../store/artifacts";

export const GC_FILES_PER_CALL = 500;
const DAY_MS = 86_400_000;

const gcRequest = z.object({
  older_than_days: z._default(z.int().check(z.minimum(0), z.maximum(36_500)), 30),
  dry_run: z._default(z.boolean(), false),
});

export const adminRoutes = new Hono<AppEnv>().post("/admin/gc", admin(), jsonBody(gcRequest), async (c) => {
  const { older_than_days, dry_run } = c.req.valid("json");
  const deletedBefore = Date.now() - older_than_days * DAY_MS;
  const result = await gcDeletedRunArtifacts(c.get("db"), c.env.ARTIFACTS, deletedBefore, dry_run, GC_FILES_PER_CALL);
  return c.json({ ...result, dry_run, deleted_before: deletedBefore });
});
