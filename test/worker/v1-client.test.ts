/**
 * The v1 app's type is its route table: Hono's `hc<V1Api>` is a typed client (paths, methods,
 * query, JSON bodies and answers), here sending to the real Worker. Each answer is also checked
 * against the contract's zod schema, so the contract and what the Worker sends cannot drift apart.
 * A route, query or answer field renamed in the Worker fails `tsc` on this file.
 */
import { exports } from "cloudflare:workers";
import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { V1Api } from "../../functions/api";
import {
  type ExportDocument,
  exportDocument,
  leaderboardResponse,
  metricKeysResponse,
  type RunDetailResponse,
  type RunListResponse,
  runDetailResponse,
  runListResponse,
  summaryResponse,
  tokenCreatedResponse,
} from "../../functions/api/contract";
import { ADMIN_TOKEN } from "./support/call";

const EXPERIMENT = "kdgat-pipeline";
const client = (token?: string) =>
  hc<V1Api>("http://x/api/v1", {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });

describe("the typed v1 client", () => {
  it("writes and reads through hc<V1Api>, every answer as the contract's schema says", async () => {
    const admin = client(ADMIN_TOKEN);
    const minted = await admin.tokens.$post({ json: { name: "typed-client" } });
    expect(minted.status).toBe(201);
    const { token } = tokenCreatedResponse.parse(await minted.json());
    const writer = client(token);

    const route = writer.runs[":dataset"][":name"];
    const param = { dataset: "hcrl_sa", name: "teacher_evaluation" };
    const started = await route.$put({ param, query: { experiment: EXPERIMENT } }, { init: { body: '{"lr": 0.001}' } });
    expect(started.status).toBe(201);
    const metrics = await route.metrics.$post({ param, query: { experiment: EXPERIMENT, format: "metrics.json" } }, { init: { body: '{"gat": {"f1": 0.9}}' } });
    expect(metrics.status).toBe(200);
    const ended = await route.end.$post({ param, query: { experiment: EXPERIMENT }, json: { status: "FINISHED" } });
    expect((await ended.json()).status).toBe("FINISHED");

    const reader = client();
    const list = await reader.runs.$get({ query: { experiment: EXPERIMENT } });
    const listed = runListResponse.parse(await list.json());
    expect(listed.runs.map((r) => r.run_id)).toEqual(["hcrl_sa/teacher_evaluation"]);

    const detail = await reader.runs[":dataset"][":name"].$get({ param, query: { experiment: EXPERIMENT } });
    const body = await detail.json();
    expectTypeOf(body).toEqualTypeOf<RunDetailResponse>();
    expect(runDetailResponse.parse(body).metrics.gat_f1.value).toBe(0.9);

    const board = leaderboardResponse.parse(await (await reader.leaderboard.$get({ query: { experiment: EXPERIMENT, metric: "gat_f1" } })).json());
    expect(board.entries.map((e) => [e.rank, e.value])).toEqual([[1, 0.9]]);
    expect(summaryResponse.parse(await (await reader.summary.$get({ query: { experiment: EXPERIMENT } })).json()).total).toBe(1);
    expect(metricKeysResponse.parse(await (await reader["metric-keys"].$get({ query: {} })).json()).keys).toContain("gat_f1");

    const exported = await reader.export.$get({ query: {} });
    const page = await exported.json();
    expectTypeOf(page).toEqualTypeOf<ExportDocument>();
    expect(exportDocument.parse(page).runs).toHaveLength(1);
  });

  it("types the answers of the list as the contract's", () => {
    type ListAnswer = Awaited<ReturnType<Awaited<ReturnType<ReturnType<typeof client>["runs"]["$get"]>>["json"]>>;
    expectTypeOf<ListAnswer>().toEqualTypeOf<RunListResponse>();
  });
});
