/**
 * Access rules of the MLflow API. The convention: every POST route is a write and needs a write
 * token, except the searches in PUBLIC_POST_ROUTES, which are reads sent as POST. Every POST body
 * is capped before it is read. GET routes are public.
 */
import { every } from "hono/combine";
import { LIMITS } from "../domain/limits";
import { requireWriteToken } from "../http/auth";
import { capBody } from "../http/limits";

export const PUBLIC_POST_ROUTES: readonly string[] = ["/experiments/search", "/runs/search"];

export const writeAccess = every(requireWriteToken, capBody(LIMITS.maxBodyBytes));
export const publicPost = capBody(LIMITS.maxBodyBytes);
