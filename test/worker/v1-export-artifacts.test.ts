/**
 * Each run's artifact listing (path, size, sha256) in GET /api/v1/export and POST /api/v1/import,
 * validated by the export document's zod schema (functions/domain/export-document.ts), over the
 * real local R2 and D1. The bytes never travel in the document.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../functions/domain/hex";
import { ADMIN_TOKEN as ADMIN, call, post } from "./support/call";

const sha256 = async (text: string) => toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
const CLOSED = { ARTIFACTS_PUBLIC: "false" };

/** The export's first page, with the Worker's variables overridden when `vars` is given. */
async function exported(token: string | undefined, vars?: typeof CLOSED) {
  const response = await call("GET", "/api/v1/export", { token, env: vars });
  expect(response.status).toBe(200);
  return response.json;
}

const importPage = (page: object) => call("POST", "/api/v1/import", { token: ADMIN, body: page });
const listing = async (runUuid: string) => (await env.DB.prepare("select path, size, sha256 from artifacts where run_uuid = ? order by path").bind(runUuid).all()).results;
const runOf = (doc: any, runUuid: string) => doc.runs.find((r: any) => r.mlflow_run_id === runUuid);

let withFiles: string;
let without: string;
let deleted: string;

beforeAll(async () => {
  const create = async (name: string) => (await post("runs/create", { experiment_id: "0", run_name: name, start_time: 1 })).json.run.info.run_id as string;
  [withFiles, without, deleted] = [await create("with-files"), await create("without-files"), await create("deleted-with-files")];
  for (const [run, path, text] of [
    [withFiles, "slurm.out", "epoch 1\n"],
    [withFiles, "ckpt/best_model.pt", "weights"],
    [deleted, "slurm.err", "oom"],
  ]) {
    const put = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/0/${run}/artifacts/${path}`, { token: ADMIN, body: text, headers: { "Content-Type": "application/octet-stream" } });
    expect(put.status).toBe(200);
  }
  expect((await post("runs/delete", { run_id: deleted })).status).toBe(200);
});

describe("the artifact listing in export and import", () => {
  it("exports each run's files by path with size and SHA-256, [] for a run without any, deleted runs' in the backup only", async () => {
    const doc = await exported(undefined);
    expect(runOf(doc, withFiles).artifacts).toEqual([
      { path: "ckpt/best_model.pt", size: 7, sha256: await sha256("weights") },
      { path: "slurm.out", size: 8, sha256: await sha256("epoch 1\n") },
    ]);
    expect(runOf(doc, without).artifacts).toEqual([]);
    expect(runOf(doc, deleted)).toBeUndefined();
    expect(runOf(await exported(ADMIN), deleted).artifacts).toEqual([{ path: "slurm.err", size: 3, sha256: await sha256("oom") }]);
  });

  it("leaves the listing out of the public export when ARTIFACTS_PUBLIC is false, not out of the backup", async () => {
    const closed = await exported(undefined, CLOSED);
    expect(closed.runs.length).toBeGreaterThan(0);
    expect(closed.runs.filter((r: object) => "artifacts" in r)).toEqual([]);
    expect(JSON.stringify(closed)).not.toContain("best_model.pt");
    expect(runOf(await exported(ADMIN, CLOSED), withFiles).artifacts).toHaveLength(2);
  });

  it("imports the same listing again as no change, a changed one as a conflict, and stores a new run's listing as stated", async () => {
    const doc = await exported(ADMIN);
    const same = await importPage(doc);
    expect([same.status, same.json.imported]).toEqual([200, { experiments: 0, runs: 0 }]);
    // A document from before artifacts (or a closed public export) says nothing about them: no conflict.
    const silent = { ...doc, runs: doc.runs.map(({ artifacts: _, ...run }: any) => run) };
    expect((await importPage(silent)).status).toBe(200);
    const mine = runOf(doc, withFiles);
    const changed = await importPage({ ...doc, runs: [{ ...mine, artifacts: [{ path: "other.bin", size: 1, sha256: "0".repeat(64) }] }] });
    expect([changed.status, changed.json.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    expect(await listing(withFiles)).toHaveLength(2);

    const fresh = { ...mine, mlflow_run_id: "a".repeat(32), run_name: "imported-with-files" };
    const imported = await importPage({ ...doc, runs: [fresh] });
    expect([imported.status, imported.json.imported]).toEqual([200, { experiments: 0, runs: 1 }]);
    expect(await listing("a".repeat(32))).toEqual(mine.artifacts);
    expect(runOf(await exported(ADMIN), "a".repeat(32)).artifacts).toEqual(mine.artifacts);
  });

  it("refuses a listing the artifact proxy would refuse, writing nothing", async () => {
    const doc = await exported(ADMIN);
    const base = { ...runOf(doc, withFiles), mlflow_run_id: "b".repeat(32), run_name: "refused" };
    const file = { path: "ok.txt", size: 1, sha256: "0".repeat(64) };
    const bad = [
      [{ ...file, path: "../escape" }],
      [{ ...file, path: "/etc/passwd" }],
      [{ ...file, path: "a//b" }],
      [{ ...file, path: "dir/" }],
      [{ ...file, path: "nul\u0000" }],
      [file, file],
      [{ ...file, sha256: "A".repeat(64) }],
      [{ ...file, size: -1 }],
      [{ path: "ok.txt", size: 1 }],
    ];
    for (const artifacts of bad) {
      const response = await importPage({ ...doc, runs: [{ ...base, artifacts }] });
      expect([response.status, response.json.error_code], JSON.stringify(artifacts)).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    }
    expect(await env.DB.prepare("select count(*) as n from runs where run_uuid = ?").bind("b".repeat(32)).first("n")).toBe(0);
    expect(await listing("b".repeat(32))).toEqual([]);
  });
});
