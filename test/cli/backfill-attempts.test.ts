/**
 * Which tracked attempt kdgat backfill may complete from disk (issue 14): only a RUNNING attempt
 * that started at the folder's start time (a backfill cut short; test/cli/tracker.test.ts, "completes a
 * run whose backfill was cut short"). A RUNNING attempt with another start time is a live job, and a
 * KILLED one (like a FAILED one: backfill-safety.test.ts) ended live: both are left exactly as they are.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunDetailResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { BASE_TIME_MS, configFor, type RunSpec, writeRunFolder } from "./support/trees.js";

let server: TestServer;
let env: Record<string, string>;
const base = mkdtempSync(join(tmpdir(), "kdgat-backfill-attempts-"));
const root = join(base, "experimentruns");
const killed: RunSpec = { dataset: "set_04", size: "teacher", stage: "normal", kd: false };
const live: RunSpec = { dataset: "set_04", size: "student", stage: "normal", kd: false };
// writeRunFolder's start time for run index i.
const startOf = (index: number) => BASE_TIME_MS + index * 3_600_000;

async function put(spec: RunSpec, startTime: number) {
  const runId = `${spec.dataset}/${spec.size}_${spec.stage}`;
  const answer = await server.call("PUT", `/api/v1/runs/${runId}`, { token: env.KDGAT_TOKEN, query: { start_time: String(startTime) }, body: configFor(spec) });
  expect(answer.status).toBe(201);
  return runId;
}

const detailOf = async (runId: string) => (await server.call("GET", `/api/v1/runs/${runId}`)).json as RunDetailResponse;

beforeAll(async () => {
  server = await startTestServer();
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("backfill-attempts") };
  writeRunFolder(join(root, "set_04", "teacher_normal"), killed, 20);
  writeRunFolder(join(root, "set_04", "student_normal"), live, 21);
  // A job logged the first run live from the folder's start time and was killed (scancel).
  const killedId = await put(killed, startOf(20));
  const end = await server.call("POST", `/api/v1/runs/${killedId}/end`, { token: env.KDGAT_TOKEN, body: { status: "KILLED" } });
  expect(end.status).toBe(200);
  // A job is logging the second run right now: RUNNING, started later than the folder's files.
  await put(live, startOf(21) + 60_000);
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe("kdgat backfill and attempts already tracked", () => {
  it("leaves a KILLED attempt KILLED and a RUNNING attempt of another start time RUNNING, on every backfill", async () => {
    for (let round = 0; round < 2; round++) {
      const result = await runCli(["backfill", "--root", root, "--json"], { env });
      const byId = new Map((JSON.parse(result.stdout) as { runs: Array<{ run_id: string; status: string; detail?: string }> }).runs.map((r) => [r.run_id, r]));
      expect(byId.get("set_04/teacher_normal")).toMatchObject({ status: "already-backfilled", detail: "KILLED when logged live: left as it is" });
      expect(byId.get("set_04/student_normal")?.status).toBe("already-tracked");

      const killedRun = await detailOf("set_04/teacher_normal");
      expect(killedRun.run).toMatchObject({ status: "KILLED", attempt: 1 });
      expect(killedRun.metric_keys).toEqual([]);
      const liveRun = await detailOf("set_04/student_normal");
      expect(liveRun.run).toMatchObject({ status: "RUNNING", attempt: 1, start_time: startOf(21) + 60_000, end_time: null });
      expect(liveRun.metric_keys).toEqual([]);
      expect(liveRun.attempts).toHaveLength(1);
    }
  });
});
