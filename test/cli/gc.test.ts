/**
 * kdgat gc against a real local tracker: the artifacts of runs deleted longer ago than
 * --older-than-days go (R2 objects and listing), a dry run only counts, live runs keep theirs,
 * and only the admin token may ask.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactListResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";

let server: TestServer;
const cwd = mkdtempSync(join(tmpdir(), "kdgat-gc-"));
const runs: Record<string, string> = {};

async function mlflow(path: string, body: object) {
  const answer = await server.post(path, body);
  expect(answer.status).toBe(200);
  return answer.json;
}
const put = (uuid: string, path: string, body: string) => server.call("PUT", `/api/2.0/mlflow-artifacts/artifacts/0/${uuid}/artifacts/${path}`, { token: server.adminToken, body });
const listing = async (uuid: string) => ((await server.call("GET", `/api/v1/artifacts/${uuid}`)).json as ArtifactListResponse).files.map((f) => f.path);
const download = async (uuid: string, path: string) => (await server.call("GET", `/api/2.0/mlflow-artifacts/artifacts/0/${uuid}/artifacts/${path}`)).status;
const gc = (...args: string[]) => runCli(["gc", "--api", server.url, "--admin-token", server.adminToken, ...args], { cwd });

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ["deleted", "live"]) {
    runs[name] = (await mlflow("runs/create", { experiment_id: "0", run_name: `hcrl_sa/teacher_${name}`, start_time: 1 })).run.info.run_id;
  }
  expect((await put(runs.deleted, "best_model.pt", "weights")).status).toBe(200);
  expect((await put(runs.deleted, "lightning_logs/version_0/metrics.csv", "epoch\n0\n")).status).toBe(200);
  expect((await put(runs.live, "best_model.pt", "live weights")).status).toBe(200);
  await mlflow("runs/delete", { run_id: runs.deleted });
});

afterAll(async () => {
  await server?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe("kdgat gc", () => {
  it("keeps the artifacts of a run deleted less than --older-than-days ago, and a dry run removes nothing", async () => {
    const recent = await gc("--older-than-days", "1");
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toContain("removed 0 artifact file(s), 0 bytes, of 0 run(s) deleted more than 1 day(s) ago");
    const dry = await gc("--older-than-days", "0", "--dry-run", "--json");
    expect(JSON.parse(dry.stdout)).toEqual({ runs: 1, files: 2, bytes: 15, more: false, dry_run: true, older_than_days: 0 });
    expect(await listing(runs.deleted)).toEqual(["best_model.pt", "lightning_logs/version_0/metrics.csv"]);
    expect(await download(runs.deleted, "best_model.pt")).toBe(200);
  });

  it("removes the deleted run's artifacts (bytes and listing), never a live run's", async () => {
    const removed = await gc("--older-than-days", "0");
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("removed 2 artifact file(s), 15 bytes, of 1 run(s) deleted more than 0 day(s) ago");
    expect(await listing(runs.deleted)).toEqual([]);
    expect(await download(runs.deleted, "best_model.pt")).toBe(404);
    expect(await listing(runs.live)).toEqual(["best_model.pt"]);
    expect(await download(runs.live, "best_model.pt")).toBe(200);
  });

  it("needs the admin token: none is a usage error, a write token is refused", async () => {
    const none = await runCli(["gc", "--api", server.url], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no admin token");
    const writer = await runCli(["gc", "--api", server.url, "--admin-token", await server.mintToken("not-admin")], { cwd });
    expect(writer.code).toBe(1);
    expect(writer.stderr).toContain("401");
    expect((await runCli(["gc", "--api", server.url, "--admin-token", server.adminToken, "--older-than-days", "soon"], { cwd })).code).toBe(2);
  });
});
