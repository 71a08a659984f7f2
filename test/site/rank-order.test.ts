/**
 * The API's /leaderboard and the site's leaderboards rank with the one rule of the core
 * (functions/domain/ranking.ts rankEntries): a real tracker seeded with tied runs, logged in an
 * order that is not run-id order, answers the same order and ranks as the site builds from its export.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaderboardResponse } from "../../functions/api/contract.js";
import { buildSiteData, evaluationRuns, rankRuns } from "../../site/lib/data.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { loadWhole } from "./whole-export.js";

let server: TestServer;

/** gat_f1 of each evaluation run, logged in this order (ties: 0.9 three times, 0.8 twice). */
const SEEDED: Array<[string, number]> = [
  ["set_b/teacher_evaluation", 0.9],
  ["set_b/student_evaluation", 0.8],
  ["set_a/teacher_evaluation", 0.9],
  ["set_c/student_evaluation_kd", 0.95],
  ["set_c/teacher_evaluation", 0.9],
  ["set_a/student_evaluation", 0.8],
];

beforeAll(async () => {
  server = await startTestServer();
  const token = await server.mintToken("rank-order");
  const send = async (method: string, path: string, body: object) => {
    const answer = await server.call(method, `/api/v1/runs/${path}`, { token, body });
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
  };
  for (const [i, [runId, f1]] of SEEDED.entries()) {
    await send("PUT", `${runId}?start_time=${1_000 + i}`, { seed: i });
    await send("POST", `${runId}/metrics?format=metrics.json`, { gat: { core: { f1 } } });
    await send("POST", `${runId}/end`, { status: "FINISHED", end_time: 2_000 + i });
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const leaderboard = async (query: string) => {
  const answer = await server.call("GET", `/api/v1/leaderboard?metric=gat_f1&${query}`);
  expect(answer.status).toBe(200);
  return (answer.json as LeaderboardResponse).entries.map((e) => [e.rank, e.run.run_id, e.value]);
};

describe("rank with ties", () => {
  it("the API and the site list tied runs in the same order, with the same ranks", async () => {
    const site = buildSiteData(await loadWhole({ SITE_API_URL: server.url }));
    const siteOrder = rankRuns(evaluationRuns(site), "gat_f1").map((r) => [r.rank, r.run.id, r.value]);
    expect(siteOrder).toEqual([
      [1, "set_c/student_evaluation_kd", 0.95],
      [2, "set_a/teacher_evaluation", 0.9],
      [2, "set_b/teacher_evaluation", 0.9],
      [2, "set_c/teacher_evaluation", 0.9],
      [5, "set_a/student_evaluation", 0.8],
      [5, "set_b/student_evaluation", 0.8],
    ]);
    expect(await leaderboard("top=10")).toEqual(siteOrder);
    // A top that cuts through a tie keeps the same runs the site shows first.
    expect(await leaderboard("top=3")).toEqual(siteOrder.slice(0, 3));
    expect(await leaderboard("top=2&dataset=set_a")).toEqual([
      [1, "set_a/teacher_evaluation", 0.9],
      [2, "set_a/student_evaluation", 0.8],
    ]);
  });
});
