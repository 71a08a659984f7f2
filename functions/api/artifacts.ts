/**
 * GET /artifacts/{mlflow_run_id}: a run's stored artifacts with sizes and SHA-256, so that an
 * uploader (kdgat backfill --artifacts) can skip what is already there and resume where it stopped.
 * MLflow's own listing (mlflow-artifacts) has no digests and one directory per call. Readable like
 * artifact downloads: public unless ARTIFACTS_PUBLIC is "false".
 */
import { Hono } from "hono";
import { RUN_UUID } from "../domain/run-id";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { artifactRead } from "../http/access";
import { artifactsOfRuns } from "../store/artifacts";
import { getRun } from "../store/runs";
import type { ArtifactListResponse } from "./contract";
import { presentArtifacts } from "./presenters";

export const artifactRoutes = new Hono<AppEnv>().get("/artifacts/:runUuid", artifactRead(), async (c) => {
  const runUuid = c.req.param("runUuid");
  if (!RUN_UUID.test(runUuid)) throw invalidParameter("Expected an MLflow run id (32 hex digits).");
  const db = c.get("db");
  const run = await getRun(db, runUuid);
  const body: ArtifactListResponse = { run_id: run.runUuid, artifact_uri: run.artifactUri, files: presentArtifacts(await artifactsOfRuns(db, [run.runUuid])) };
  return c.json(body);
});
