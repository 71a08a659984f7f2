import { Hono } from "hono";
import type { AppEnv } from "../env";

/** The /api/v1 API: curl writes from SLURM jobs, public reads, tokens, export/import. */
export const v1Api = new Hono<AppEnv>();
