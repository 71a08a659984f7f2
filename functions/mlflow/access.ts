/**
 * Access rules of the MLflow API. The convention: every POST route is a write and needs a write
 * token, except the searches in PUBLIC_POST_ROUTES, which are reads sent as POST. Every POST body
 * is capped before it is read. GET routes are public.
 */
import { every } from "hono/combine";
import { createMiddleware } from "hono/factory";
import { LIMITS } from "../domain/limits";
import type { AppEnv } from "../env";
import { requireWriteToken } from "../http/auth";
import { capBody } from "../http/limits";

export const PUBLIC_POST_ROUTES: readonly string[] = ["/experiments/search", "/runs/search"];

export const writeAccess = every(requireWriteToken, capBody(LIMITS.maxBodyBytes));
export const publicPost = capBody(LIMITS.maxBodyBytes);

/**
 * Artifacts: writes (PUT, DELETE, mpu/*) need a write token; PUT bodies are streamed, not held to
 * the JSON cap (see ARTIFACT_LIMITS.maxPutBytes). Downloads and listings are public unless the
 * variable ARTIFACTS_PUBLIC is "false", then they need a token too.
 */
export const artifactWrite = requireWriteToken;
export const artifactRead = createMiddleware<AppEnv>(async (c, next) =>
  (c.env.ARTIFACTS_PUBLIC as string) === "false" ? requireWriteToken(c, next) : next(),
);
