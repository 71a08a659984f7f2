/**
 * The artifact proxy (functions/mlflow/artifacts.ts) over the real local R2 and D1: answers as
 * MLflow 2.17.2's proxy gives them (recorded with curl against serve.sh, quoted in the expectations),
 * bytes and SHA-256 as stored, refused paths and runs that write nothing, access, multipart uploads.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../functions/domain/hex";
import { ADMIN_TOKEN, type CallOptions, call, post } from "./support/call";

const ART = "/api/2.0/mlflow-artifacts";

interface Sent extends CallOptions {
  method?: string;
}

/** With the admin token unless `token` is given (`null` sends none). */
const send = (url: string, { method = "GET", token = ADMIN_TOKEN, ...options }: Sent = {}) => call(method, url, { token, ...options });

async function newRun(name: string) {
  const res = await post("runs/create", { experiment_id: "0", run_name: name, start_time: 1 });
  return res.json.run.info as { run_id: string; experiment_id: string; artifact_uri: string };
}

const put = (path: string, body: BodyInit, options: Sent = {}) => send(`${ART}/artifacts/${path}`, { method: "PUT", body, ...options });
const list = (path?: string, options: Sent = {}) => send(`${ART}/artifacts${path === undefined ? "" : `?path=${encodeURIComponent(path)}`}`, options);

const sha256 = async (bytes: Uint8Array | string) => toHex(await crypto.subtle.digest("SHA-256", typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes));

async function storedRows(runId: string) {
  return (await env.DB.prepare("select path, size, sha256 from artifacts where run_uuid = ? order by path").bind(runId).all()).results;
}

async function storedKeys(runId: string) {
  const listed = await env.ARTIFACTS.list({ prefix: `0/${runId}/` });
  return listed.objects.map((o) => o.key);
}

describe("artifact upload, download, listing and delete, as MLflow's proxy answers them", () => {
  let root: string;
  let runId: string;
  beforeAll(async () => {
    const run = await newRun("artifacts-basic");
    runId = run.run_id;
    root = `0/${runId}/artifacts`;
    expect(run.artifact_uri).toBe(`mlflow-artifacts:/${root}`);
  });

  it("answers a PUT with {} and stores the bytes in R2 and their size and SHA-256 in D1", async () => {
    const res = await put(`${root}/a.txt`, "hello world", { headers: { "Content-Type": "text/plain" } });
    expect([res.status, res.headers.get("Content-Type"), res.text]).toEqual([200, "application/json", "{}"]);
    expect(await put(`${root}/sub/d.json`, '{"a":1}')).toMatchObject({ status: 200, text: "{}" });
    expect(await put(`${root}/empty.bin`, "")).toMatchObject({ status: 200, text: "{}" });
    expect(await storedRows(runId)).toEqual([
      { path: "a.txt", size: 11, sha256: await sha256("hello world") },
      { path: "empty.bin", size: 0, sha256: await sha256("") },
      { path: "sub/d.json", size: 7, sha256: await sha256('{"a":1}') },
    ]);
    expect(await storedKeys(runId)).toEqual([`${root}/a.txt`, `${root}/empty.bin`, `${root}/sub/d.json`]);
  });

  it("lists a directory as MLflow does: names, is_dir, file_size omitted when 0; {} for nothing", async () => {
    const res = await list(root);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    // MLflow: {"files":[{"path":"a.txt","is_dir":false,"file_size":11},{"path":"empty.bin","is_dir":false},{"path":"sub","is_dir":true}]}
    expect(res.json).toEqual({
      files: [
        { path: "a.txt", is_dir: false, file_size: 11 },
        { path: "empty.bin", is_dir: false },
        { path: "sub", is_dir: true },
      ],
    });
    expect((await list(`${root}/sub`)).json).toEqual({ files: [{ path: "d.json", is_dir: false, file_size: 7 }] });
    expect((await list(`${root}/sub/`)).json).toEqual({ files: [{ path: "d.json", is_dir: false, file_size: 7 }] });
    // MLflow answers {} for a path with nothing under it, for a file, and for a run that has no artifacts.
    expect((await list(`${root}/nonexist`)).text).toBe("{}");
    expect((await list(`${root}/a.txt`)).text).toBe("{}");
    expect((await list(`0/${"f".repeat(32)}/artifacts`)).text).toBe("{}");
  });

  it("downloads with MLflow's Content-Type guess and Content-Disposition, streamed with its length", async () => {
    const res = await send(`${ART}/artifacts/${root}/a.txt`, { token: null });
    expect(res.status).toBe(200);
    expect(res.text).toBe("hello world");
    expect(res.headers.get("Content-Type")).toBe("text/plain");
    expect(res.headers.get("Content-Disposition")).toBe("attachment; filename=a.txt");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Content-Length")).toBe("11");
    // MLflow sends .json as text/plain and an unknown type as application/octet-stream.
    expect((await send(`${ART}/artifacts/${root}/sub/d.json`)).headers.get("Content-Type")).toBe("text/plain");
    const empty = await send(`${ART}/artifacts/${root}/empty.bin`);
    expect([empty.status, empty.headers.get("Content-Type"), empty.bytes.length]).toEqual([200, "application/octet-stream", 0]);
  });

  it("answers a missing file 404 RESOURCE_DOES_NOT_EXIST (MLflow: a 500)", async () => {
    const res = await send(`${ART}/artifacts/${root}/missing.txt`);
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("replaces a file on a second PUT, and names a non-ASCII file for the browser", async () => {
    await put(`${root}/a.txt`, "hello again");
    expect((await send(`${ART}/artifacts/${root}/a.txt`)).text).toBe("hello again");
    expect((await storedRows(runId)).find((r) => r.path === "a.txt")).toEqual({ path: "a.txt", size: 11, sha256: await sha256("hello again") });
    await put(`${root}/${encodeURIComponent("résumé v2.txt")}`, "x");
    const res = await send(`${ART}/artifacts/${root}/${encodeURIComponent("résumé v2.txt")}`);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="r_sum_ v2.txt"; filename*=UTF-8''${encodeURIComponent("résumé v2.txt")}`);
  });

  it("refuses a file where a directory is and a directory under a file", async () => {
    const asDir = await put(`${root}/sub`, "x");
    expect([asDir.status, asDir.json.message]).toEqual([400, "Cannot store an artifact at 'sub': 'sub' is a directory of this run."]);
    const underFile = await put(`${root}/a.txt/inner`, "x");
    expect([underFile.status, underFile.json.message]).toEqual([400, "Cannot store an artifact at 'a.txt/inner': 'a.txt' is a file of this run."]);
  });

  it("deletes a file or a whole directory, and answers {} for nothing there (as MLflow)", async () => {
    await put(`${root}/sub/e.json`, "{}");
    expect(await send(`${ART}/artifacts/${root}/sub`, { method: "DELETE" })).toMatchObject({ status: 200, text: "{}" });
    expect(await send(`${ART}/artifacts/${root}/nothing`, { method: "DELETE" })).toMatchObject({ status: 200, text: "{}" });
    expect((await storedRows(runId)).map((r) => r.path)).toEqual(["a.txt", "empty.bin", "résumé v2.txt"]);
    expect(await storedKeys(runId)).toEqual([`${root}/a.txt`, `${root}/empty.bin`, `${root}/résumé v2.txt`]);
    expect((await list(root)).json.files.map((f: { path: string }) => f.path)).toEqual(["a.txt", "empty.bin", "résumé v2.txt"]);
  });
});

describe("refused paths and runs write nothing", () => {
  let runId: string;
  let root: string;
  beforeAll(async () => {
    runId = (await newRun("artifacts-refused")).run_id;
    root = `0/${runId}/artifacts`;
  });

  it.each([
    ["a '..' segment", "../../evil.txt"],
    ["an encoded '..'", "%2E%2E/%2e%2E/evil.txt"],
  ])("refuses %s (the URL resolves it to a path outside the run, or no route)", async (_, tail) => {
    const res = await send(`${ART}/artifacts/${root}/${tail}`, { method: "PUT", body: "x" });
    expect(root).toMatch(/^0\/[0-9a-f]{32}\/artifacts$/);
    expect([400, 404]).toContain(res.status);
    expect(Object.keys(res.json)).toEqual(["error_code", "message"]);
    expect(await storedKeys(runId)).toEqual([]);
  });

  it.each([
    ["a doubly encoded '..'", "%252E%252E/evil.txt"],
    ["a '#'", "a%23b.txt"],
    ["a NUL", "a%00b.txt"],
    ["a backslash", "a%5Cb.txt"],
    ["a control character", "a%0Ab.txt"],
  ])("refuses %s with MLflow's 400 Invalid path", async (_, tail) => {
    const res = await send(`${ART}/artifacts/${root}/${tail}`, { method: "PUT", body: "x" });
    expect([res.status, res.json]).toEqual([400, { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" }]);
  });

  it.each([
    ["an absolute path", "/etc/passwd", 400],
    ["a path outside every run", "0/evil.txt", 400],
    ["the run's root itself", "0/RUN/artifacts", 400],
    ["a run id that is not one", `0/${"x".repeat(32)}/artifacts/a.txt`, 400],
    ["an empty segment", "0/RUN/artifacts/a//b.txt", 400],
    ["the wrong experiment", "7/RUN/artifacts/a.txt", 400],
    ["a run that does not exist", `0/${"e".repeat(32)}/artifacts/a.txt`, 404],
  ])("refuses %s", async (_, template, status) => {
    const path = template.replace("RUN", runId);
    const res = await send(`${ART}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`, { method: "PUT", body: "x" });
    expect(res.status).toBe(status);
    expect(Object.keys(res.json)).toEqual(["error_code", "message"]);
    expect(await storedKeys(runId)).toEqual([]);
  });

  it("refuses listing outside a run, or an unsafe path, in MLflow's shape", async () => {
    expect((await list("../x")).json).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    expect((await list("/etc")).json).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    const rootListing = await list();
    expect([rootListing.status, rootListing.json.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
  });

  it("refuses a body that ends before its Content-Length, and one without a length", async () => {
    const short = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("only ten b"));
        controller.close();
      },
    });
    const res = await put(`${root}/short.bin`, short, { headers: { "Content-Length": "100" } });
    expect([res.status, res.json.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
  });

  it("refuses an upload over Workers' 100 MB request limit before reading it", async () => {
    const res = await put(`${root}/huge.bin`, "x", { headers: { "Content-Length": String(100 * 1024 * 1024 + 1) } });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true");
  });

  it("refuses writes to a deleted run, keeps its artifacts, and serves them again once restored", async () => {
    await put(`${root}/kept.txt`, "kept");
    await post("runs/delete", { run_id: runId });
    const res = await put(`${root}/late.txt`, "late");
    expect([res.status, res.json.message]).toEqual([400, `The run ${runId} must be in the 'active' state. Current state is deleted.`]);
    expect((await send(`${ART}/artifacts/${root}/kept.txt`, { method: "DELETE" })).status).toBe(400);
    expect((await send(`${ART}/artifacts/${root}/kept.txt`)).text).toBe("kept");
    await post("runs/restore", { run_id: runId });
    expect((await list(root)).json).toEqual({ files: [{ path: "kept.txt", is_dir: false, file_size: 4 }] });
    // Nothing of the refused writes was stored.
    expect(await storedKeys(runId)).toEqual([`${root}/kept.txt`]);
    expect((await storedRows(runId)).map((r) => r.path)).toEqual(["kept.txt"]);
  });
});

describe("access", () => {
  let root: string;
  beforeAll(async () => {
    root = `0/${(await newRun("artifacts-access")).run_id}/artifacts`;
    await put(`${root}/a.txt`, "a");
  });

  it("needs a write token for PUT and DELETE", async () => {
    expect((await put(`${root}/b.txt`, "b", { token: null })).status).toBe(401);
    expect((await put(`${root}/b.txt`, "b", { token: "wrong-token-wrong-token" })).status).toBe(401);
    expect((await send(`${ART}/artifacts/${root}/a.txt`, { method: "DELETE", token: null })).status).toBe(401);
    expect((await send(`${ART}/artifacts/${root}/a.txt`, { token: null })).text).toBe("a");
  });

  it("keeps downloads and listings public unless ARTIFACTS_PUBLIC is false", async () => {
    expect((await list(root, { token: null })).status).toBe(200);
    const closed = { ARTIFACTS_PUBLIC: "false" } as unknown as Partial<Env>;
    expect((await send(`${ART}/artifacts/${root}/a.txt`, { token: null, env: closed })).status).toBe(401);
    expect((await list(root, { token: null, env: closed })).status).toBe(401);
    expect((await send(`${ART}/artifacts/${root}/a.txt`, { env: closed })).text).toBe("a");
  });
});

const MiB = 1024 * 1024;

function bytesOf(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe("proxied multipart upload (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true)", () => {
  let runId: string;
  let root: string;
  beforeAll(async () => {
    runId = (await newRun("artifacts-multipart")).run_id;
    root = `0/${runId}/artifacts`;
  });

  const mpu = (route: string, dir: string, payload: object, options: Sent = {}) => send(`${ART}/mpu/${route}/${dir}`, { method: "POST", body: payload, ...options });

  /** What the client's _upload_part does: a bare PUT to the credential's URL, no token. */
  const putPart = (url: string, body: Uint8Array) => send(url, { method: "PUT", body, token: null });

  it("assembles parts sent in any order to the signed URLs, then records the file's size and SHA-256", async () => {
    const file = bytesOf(11 * MiB + 123, 7);
    const chunk = 5 * MiB;
    const create = await mpu("create", `${root}/checkpoints`, { path: "/home/me/run/best_model.pt", num_parts: 3 });
    expect(create.status).toBe(200);
    expect(Object.keys(create.json)).toEqual(["upload_id", "credentials"]);
    expect(create.json.credentials.map((c: { part_number: number }) => c.part_number)).toEqual([1, 2, 3]);
    const parts = [];
    for (const credential of [...create.json.credentials].reverse()) {
      const i = credential.part_number - 1;
      const res = await putPart(credential.url, file.subarray(i * chunk, Math.min(file.length, (i + 1) * chunk)));
      expect(res.status).toBe(200);
      parts.push({ part_number: credential.part_number, etag: res.headers.get("ETag"), url: credential.url });
    }
    // Nothing is visible before the upload completes.
    expect((await list(`${root}/checkpoints`)).text).toBe("{}");
    parts.sort((a, b) => a.part_number - b.part_number);
    const done = await mpu("complete", `${root}/checkpoints`, { path: "/home/me/run/best_model.pt", upload_id: create.json.upload_id, parts });
    expect([done.status, done.text]).toEqual([200, "{}"]);
    const download = await send(`${ART}/artifacts/${root}/checkpoints/best_model.pt`);
    expect(download.bytes.length).toBe(file.length);
    expect(await sha256(download.bytes)).toBe(await sha256(file));
    expect(await storedRows(runId)).toEqual([{ path: "checkpoints/best_model.pt", size: file.length, sha256: await sha256(file) }]);
  });

  it("keeps nothing of an upload never completed, refuses its parts once aborted", async () => {
    const create = await mpu("create", root, { path: "killed.ckpt", num_parts: 2 });
    const [first] = create.json.credentials;
    expect((await putPart(first.url, bytesOf(5 * MiB, 1))).status).toBe(200);
    // The client was killed here: no complete. Nothing is listed or served.
    expect((await list(root)).json.files.map((f: { path: string }) => f.path)).toEqual(["checkpoints"]);
    expect((await send(`${ART}/artifacts/${root}/killed.ckpt`)).status).toBe(404);
    expect((await storedRows(runId)).map((r) => r.path)).toEqual(["checkpoints/best_model.pt"]);
    // Aborted (what the client does when a part fails): later parts and a completion are refused.
    expect(await mpu("abort", root, { path: "killed.ckpt", upload_id: create.json.upload_id })).toMatchObject({ status: 200, text: "{}" });
    const late = await putPart(create.json.credentials[1].url, bytesOf(10, 2));
    expect([late.status, late.json.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    const complete = await mpu("complete", root, { path: "killed.ckpt", upload_id: create.json.upload_id, parts: [{ part_number: 1, etag: "x" }] });
    expect(complete.status).toBe(404);
    expect(await storedKeys(runId)).toEqual([`${root}/checkpoints/best_model.pt`]);
  });

  it("refuses a part URL that was tampered with or a create without a token", async () => {
    const create = await mpu("create", root, { path: "tamper.bin", num_parts: 2 });
    const url = new URL(create.json.credentials[0].url);
    url.searchParams.set("part_number", "2");
    const res = await putPart(url.toString(), bytesOf(10, 3));
    expect([res.status, res.json.error_code]).toEqual([403, "PERMISSION_DENIED"]);
    const other = new URL(create.json.credentials[0].url.replace("tamper.bin", "other.bin"));
    expect((await putPart(other.toString(), bytesOf(10, 3))).status).toBe(403);
    const expired = new URL(create.json.credentials[0].url);
    expired.searchParams.set("expires", "1");
    expect((await putPart(expired.toString(), bytesOf(10, 3))).status).toBe(403);
    expect((await mpu("create", root, { path: "x.bin", num_parts: 1 }, { token: null })).status).toBe(401);
    await mpu("abort", root, { path: "tamper.bin", upload_id: create.json.upload_id });
  });

  it("refuses a local file name that is not safe", async () => {
    const res = await mpu("create", root, { path: "..", num_parts: 1 });
    expect([res.status, res.json.message]).toEqual([400, "Invalid path"]);
  });
});
