/**
 * MLflow 2.17.2's artifact proxy (`mlflow-artifacts`), over R2: upload, download, list, delete, and
 * the proxied multipart upload (mpu/create, the part PUTs to the URLs it hands out, mpu/complete,
 * mpu/abort). Paths are `<experiment_id>/<run_uuid>/artifacts/<path>`: only a run's artifact root.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod/mini";
import { ARTIFACT_LIMITS, ARTIFACT_PROXY, artifactKey, artifactMimeType, baseName, encodeArtifactPath, type RunArtifactPath, runArtifactPath, safeArtifactPath } from "../domain/artifacts";
import { excerpt } from "../domain/excerpt";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { artifactRead, signedWrite, write } from "../http/access";
import { PART_URL_LIFETIME_MS, sign, verify } from "../http/signed-url";
import { jsonBody, queryParams } from "../http/validate";
import { abortArtifactUpload, completeArtifactUpload, createArtifactUpload, deleteArtifacts, getArtifactBody, listArtifactDir, putArtifact, uploadArtifactPart } from "../store/artifacts";
import { getActiveRun, getRun } from "../store/runs";
import { refuseOtherMethods } from "./unsupported";
import { artifactFilesJson, multipartCreateJson } from "./wire";

/** MLflow's answer to an unsafe path, word for word. */
const invalidPath = () => invalidParameter("Invalid path");

/** The decoded path after `marker` in the request's URL. */
function pathAfter(c: Context<AppEnv>, marker: string): string {
  const pathname = new URL(c.req.url).pathname;
  const at = pathname.indexOf(marker);
  return at < 0 ? "" : pathname.slice(at + marker.length);
}

/** A safe path inside a run's artifact root, or MLflow's error. */
function runPath(raw: string): RunArtifactPath {
  const safe = safeArtifactPath(raw);
  if (safe === undefined) throw invalidPath();
  const parsed = runArtifactPath(safe);
  if (!parsed) {
    throw invalidParameter(
      `Artifacts are kept per run: the path must be '<experiment_id>/<run_id>/artifacts[/<path>]' (at most ${ARTIFACT_LIMITS.maxKeyBytes} bytes), got '${excerpt(safe)}'.`,
    );
  }
  return parsed;
}

/** A file path (not the root) inside the artifact root of an active run of that experiment. */
async function writableRun(c: Context<AppEnv>, target: RunArtifactPath, { file }: { file: boolean }) {
  if (file && target.path === "") throw invalidParameter("An artifact needs a file name after the run's artifact root.");
  const run = await getActiveRun(c.get("db"), target.runUuid);
  if (run.experimentId !== target.experimentId) {
    throw invalidParameter(`Run ${run.runUuid} belongs to experiment ${run.experimentId}, not ${target.experimentId}: its artifact root is '${run.experimentId}/${run.runUuid}/artifacts'.`);
  }
  return run;
}

/** The length of a streamed body, from Content-Length (R2 needs it up front), at most one PUT's worth. */
function bodyLength(c: Context<AppEnv>): number {
  const declared = c.req.header("Content-Length");
  if (declared === undefined || !/^\d{1,12}$/.test(declared)) {
    throw invalidParameter("An artifact upload needs a Content-Length header (the body is streamed to storage, which needs its length).");
  }
  const length = Number(declared);
  if (length > ARTIFACT_LIMITS.maxPutBytes) {
    throw invalidParameter(
      `An artifact upload is at most ${ARTIFACT_LIMITS.maxPutBytes} bytes (Workers' request limit), got ${length}; set MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true to send larger files in parts.`,
    );
  }
  return length;
}

const requestBody = (c: Context<AppEnv>) => c.req.raw.body ?? new Blob([]).stream();

/** MLflow's Content-Disposition (`attachment; filename=<name>`), RFC 6266-encoded when the name is not plain ASCII. */
function contentDisposition(name: string): string {
  if (/^[\x21-\x7e ]+$/.test(name) && !/["\\;]/.test(name)) return `attachment; filename=${name}`;
  const fallback = name.replace(/[^\x21-\x7e ]|["\\;]/g, "_");
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const listRequest = z.object({ path: z.optional(z.string()) });

/** The signed fields of a part URL: what it may write. */
const partFields = (target: RunArtifactPath, uploadId: string, partNumber: number) => [artifactKey(target.experimentId, target.runUuid, target.path), uploadId, partNumber];

/** mpu/*: the file is `<artifact_path in the URL>/<base name of the client's local file>`. */
function uploadTarget(c: Context<AppEnv>, route: string, localFile: string): RunArtifactPath {
  const dir = runPath(pathAfter(c, `/mlflow-artifacts/mpu/${route}/`));
  // The client sends its local path; on Windows its separator is "\".
  const name = localFile.slice(Math.max(localFile.lastIndexOf("/"), localFile.lastIndexOf("\\")) + 1);
  const file = name === "" ? undefined : safeArtifactPath(name);
  if (file === undefined || file.includes("/")) throw invalidPath();
  return runPath(`${dir.experimentId}/${dir.runUuid}/artifacts/${dir.path === "" ? "" : `${dir.path}/`}${file}`);
}

const uploadId = z.string().check(z.minLength(1), z.maxLength(1024));
const partNumber = z.int().check(z.minimum(1), z.maximum(ARTIFACT_LIMITS.maxParts));

const createRequest = z.object({ path: z.string(), num_parts: z._default(partNumber, 1) });
const completeRequest = z.object({
  path: z.string(),
  upload_id: uploadId,
  parts: z
    .array(z.object({ part_number: partNumber, etag: z.string().check(z.maxLength(1024)), url: z.optional(z.nullable(z.string())) }))
    .check(z.minLength(1), z.maxLength(ARTIFACT_LIMITS.maxParts)),
});
const abortRequest = z.object({ path: z.string(), upload_id: uploadId });
const partQuery = z.object({ upload_id: uploadId, part_number: z.string(), expires: z.string(), signature: z.string() });

/** Mounted at /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts. */
export const artifactsApi = new Hono<AppEnv>()
  .get("/artifacts", artifactRead(), queryParams(listRequest), async (c) => {
    const target = runPath(c.req.valid("query").path ?? "");
    return c.json(artifactFilesJson(await listArtifactDir(c.get("db"), target.runUuid, target.path)));
  })
  .get("/artifacts/*", artifactRead(), async (c) => {
    const target = runPath(pathAfter(c, "/mlflow-artifacts/artifacts/"));
    const object = await getArtifactBody(c.env.ARTIFACTS, target.experimentId, target.runUuid, target.path);
    const name = baseName(target.path);
    return c.body(object.body, 200, {
      "Content-Type": artifactMimeType(name),
      "Content-Disposition": contentDisposition(name),
      "Content-Length": String(object.size),
      "X-Content-Type-Options": "nosniff",
    });
  })
  .put("/artifacts/*", write("streamed"), async (c) => {
    const target = runPath(pathAfter(c, "/mlflow-artifacts/artifacts/"));
    const run = await writableRun(c, target, { file: true });
    await putArtifact(c.get("db"), c.env.ARTIFACTS, run, target.path, requestBody(c), bodyLength(c));
    return c.json({});
  })
  .delete("/artifacts/*", write(), async (c) => {
    const target = runPath(pathAfter(c, "/mlflow-artifacts/artifacts/"));
    const run = await writableRun(c, target, { file: false });
    await deleteArtifacts(c.get("db"), c.env.ARTIFACTS, run, target.path);
    return c.json({});
  })
  .post("/mpu/create/*", write(), jsonBody(createRequest), async (c) => {
    const body = c.req.valid("json");
    const target = uploadTarget(c, "create", body.path);
    const run = await writableRun(c, target, { file: true });
    const id = await createArtifactUpload(c.get("db"), c.env.ARTIFACTS, run, target.path);
    const expires = Date.now() + PART_URL_LIFETIME_MS;
    const base = `${new URL(c.req.url).origin}${ARTIFACT_PROXY}/mpu/part/${encodeArtifactPath(artifactKey(target.experimentId, target.runUuid, target.path))}`;
    const urls: string[] = [];
    for (let part = 1; part <= body.num_parts; part++) {
      const signature = await sign(c.env.ADMIN_TOKEN, [...partFields(target, id, part), expires]);
      urls.push(`${base}?${new URLSearchParams({ upload_id: id, part_number: String(part), expires: String(expires), signature })}`);
    }
    return c.json(multipartCreateJson(id, urls));
  })
  // A part, sent by the client without its token: the signed URL is the permission (http/signed-url.ts).
  .put("/mpu/part/*", signedWrite(), queryParams(partQuery), async (c) => {
    const query = c.req.valid("query");
    const target = runPath(pathAfter(c, "/mlflow-artifacts/mpu/part/"));
    const part = /^\d{1,5}$/.test(query.part_number) ? Number(query.part_number) : NaN;
    await verify(c.env.ADMIN_TOKEN, partFields(target, query.upload_id, part), Number(query.expires), query.signature);
    const run = await writableRun(c, target, { file: true });
    const etag = await uploadArtifactPart(c.env.ARTIFACTS, run, target.path, query.upload_id, part, requestBody(c), bodyLength(c));
    return c.body(null, 200, { ETag: etag });
  })
  .post("/mpu/complete/*", write(), jsonBody(completeRequest), async (c) => {
    const body = c.req.valid("json");
    const target = uploadTarget(c, "complete", body.path);
    const run = await writableRun(c, target, { file: true });
    const parts = body.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag }));
    await completeArtifactUpload(c.get("db"), c.env.ARTIFACTS, run, target.path, body.upload_id, parts);
    return c.json({});
  })
  .post("/mpu/abort/*", write(), jsonBody(abortRequest), async (c) => {
    const body = c.req.valid("json");
    const target = uploadTarget(c, "abort", body.path);
    const run = await writableRun(c, target, { file: true });
    await abortArtifactUpload(c.env.ARTIFACTS, run, target.path, body.upload_id);
    return c.json({});
  });

const runListRequest = z.object({ run_id: z.optional(z.string()), run_uuid: z.optional(z.string()), path: z.optional(z.string()), page_token: z.optional(z.string()) });

/** The tracking API's artifacts/list (the MLflow UI's): paths relative to the run's root, with root_uri. */
export const runArtifactsApi = new Hono<AppEnv>().get("/list", artifactRead(), queryParams(runListRequest), async (c) => {
  const query = c.req.valid("query");
  const run = await getRun(c.get("db"), query.run_id ?? query.run_uuid ?? "");
  const dir = query.path === undefined ? "" : safeArtifactPath(query.path);
  if (dir === undefined) throw invalidPath();
  const parent = dir.replace(/\/+$/, "");
  return c.json({ root_uri: run.artifactUri, ...artifactFilesJson(await listArtifactDir(c.get("db"), run.runUuid, parent), parent) });
});

refuseOtherMethods(artifactsApi);
