/**
 * Artifact paths: MLflow's rule for a safe path (mlflow.utils.uri.validate_path_is_safe), where a
 * run's artifacts live (`<experiment_id>/<run_uuid>/artifacts/<path>`, as `artifact_uri`
 * `mlflow-artifacts:/<experiment_id>/<run_uuid>/artifacts` says), and the type a download is sent as.
 * Shared by the Worker and the CLI (which uploads run folders).
 */
import { RUN_UUID } from "./run-id.js";

export const ARTIFACT_LIMITS = {
  /** One PUT body or one multipart part: Workers refuse request bodies over 100 MB (Free and Pro plans). */
  maxPutBytes: 100 * 1024 * 1024,
  /** R2's limit on an object key, in UTF-8 bytes. */
  maxKeyBytes: 1024,
  /** R2's (and S3's) number of parts of a multipart upload. */
  maxParts: 10_000,
} as const;

/** Where a run's artifacts live, and the artifact_uri MLflow gives the run. */
export const runArtifactRoot = (experimentId: number | string, runUuid: string) => `${experimentId}/${runUuid}/artifacts`;
export const runArtifactUri = (experimentId: number | string, runUuid: string) => `mlflow-artifacts:/${runArtifactRoot(experimentId, runUuid)}`;

/** MLflow's _decode: percent-decodes until nothing changes (at most 10 rounds); undefined when it never settles. */
function decodeRepeatedly(path: string): string | undefined {
  let current = path;
  for (let round = 0; round < 10; round++) {
    const decoded = current.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (decoded === current) return current;
    current = decoded;
  }
  return undefined;
}

/**
 * A path MLflow's proxy accepts, decoded (MLflow's "Invalid path" otherwise): no "#", no ".." segment,
 * not absolute. Stricter than MLflow on Linux, which stores them or fails with a 500: no NUL or other
 * control character and no backslash (a separator on Windows, where MLflow refuses it too).
 */
export function safeArtifactPath(path: string): string | undefined {
  const decoded = decodeRepeatedly(path);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a path with a control character is refused
  if (decoded === undefined || /[#\\\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  if (decoded.startsWith("/") || /^[A-Za-z]:/.test(decoded) || decoded.split("/").includes("..")) return undefined;
  return decoded;
}

export interface RunArtifactPath {
  experimentId: number;
  runUuid: string;
  /** Relative to the run's artifact root ("" for the root itself), without a trailing "/". */
  path: string;
}

/**
 * Splits a safe path into the run it belongs to and the path inside the run's artifact root;
 * undefined when it is outside every run's artifact root. A trailing "/" (a directory) is dropped;
 * an empty or "." segment inside is refused (it would name the same file twice).
 */
export function runArtifactPath(safePath: string): RunArtifactPath | undefined {
  const match = /^(0|[1-9][0-9]{0,18})\/([^/]+)\/artifacts(?:\/(.*))?$/.exec(safePath);
  if (!match || !RUN_UUID.test(match[2])) return undefined;
  const path = (match[3] ?? "").replace(/\/$/, "");
  if (path !== "" && path.split("/").some((segment) => segment === "" || segment === ".")) return undefined;
  if (new TextEncoder().encode(safePath).length > ARTIFACT_LIMITS.maxKeyBytes) return undefined;
  return { experimentId: Number(match[1]), runUuid: match[2], path };
}

/** The R2 key of a run's artifact. */
export const artifactKey = (experimentId: number, runUuid: string, path: string) => `${runArtifactRoot(experimentId, runUuid)}/${path}`;

/** Where the Worker serves MLflow's artifact proxy (MLflow's own URL for `mlflow-artifacts:` URIs). */
export const ARTIFACT_PROXY = "/api/2.0/mlflow-artifacts";

/** A "/"-separated path with each segment percent-encoded, for a URL. */
export const encodeArtifactPath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** The URL path that downloads a run's artifact (the proxy's GET): what the site links to. */
export const artifactDownloadPath = (experimentId: number, runUuid: string, path: string) => `${ARTIFACT_PROXY}/artifacts/${encodeArtifactPath(artifactKey(experimentId, runUuid, path))}`;

/** Extensions MLflow sends as text/plain (mlflow.utils.mime_type_utils.get_text_extensions). */
const TEXT_EXTENSIONS = new Set([
  "txt",
  "log",
  "err",
  "cfg",
  "conf",
  "cnf",
  "cf",
  "ini",
  "properties",
  "prop",
  "hocon",
  "toml",
  "yaml",
  "yml",
  "xml",
  "json",
  "js",
  "py",
  "py3",
  "csv",
  "tsv",
  "md",
  "rst",
  "MLmodel",
  "MLproject",
]);

/** The rest of MLflow's guess (Python's mimetypes table) for the files a run commonly holds. */
const KNOWN_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  webp: "image/webp",
  json: "application/json",
  pdf: "application/pdf",
  html: "text/html",
  htm: "text/html",
  zip: "application/zip",
  tar: "application/x-tar",
};

/** MLflow's _guess_mime_type of a file name: the Content-Type its proxy sends a download with. */
export function artifactMimeType(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  const extension = dot > 0 ? fileName.slice(dot + 1) : fileName;
  if (TEXT_EXTENSIONS.has(extension)) return "text/plain";
  return KNOWN_TYPES[extension.toLowerCase()] ?? "application/octet-stream";
}

/** The last segment of a "/"-separated path. */
export const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);
