import { Hono } from "hono";
import type { AppEnv } from "../env";
import { publicRead } from "./public-read";
import { rankingRoutes } from "./rankings";
import { runReads } from "./runs-reads";
import { runWrites } from "./runs-writes";
import { siteStateRoutes } from "./site-state";
import { tokenRoutes } from "./tokens";
import { transferRoutes } from "./transfer";

/** The /api/v1 API: curl writes from SLURM jobs, public reads, tokens, export/import. */
export const v1Api = new Hono<AppEnv>();

v1Api.use("*", publicRead);
v1Api.route("/", runWrites);
v1Api.route("/", runReads);
v1Api.route("/", rankingRoutes);
v1Api.route("/", tokenRoutes);
v1Api.route("/", transferRoutes);
v1Api.route("/", siteStateRoutes);
