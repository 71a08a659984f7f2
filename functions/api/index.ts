import { Hono } from "hono";
import type { AppEnv } from "../env";
import { adminRoutes } from "./admin";
import { artifactRoutes } from "./artifacts";
import { cacheReads } from "./public-read";
import { rankingRoutes } from "./rankings";
import { runReads } from "./runs-reads";
import { runWrites } from "./runs-writes";
import { siteStateRoutes } from "./site-state";
import { tokenRoutes } from "./tokens";
import { transferRoutes } from "./transfer";

/**
 * The /api/v1 API: curl writes from SLURM jobs, public reads, tokens, export/import. Chained, so
 * that its type is the whole route table: `hc<V1Api>(url)` (functions/client) is a typed client.
 */
export const v1Api = new Hono<AppEnv>()
  .use("*", cacheReads)
  .route("/", runWrites)
  .route("/", runReads)
  .route("/", rankingRoutes)
  .route("/", tokenRoutes)
  .route("/", transferRoutes)
  .route("/", artifactRoutes)
  .route("/", adminRoutes)
  .route("/", siteStateRoutes);

export type V1Api = typeof v1Api;
