/**
 * Rules that live in the store's SQL (issue 14), each checked by what was stored and what is read
 * back. test/worker/MUTATIONS.md lists the mutants of that SQL each test here kills.
 */

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_EXPERIMENT } from "../../functions/domain/index";
import { LIMITS } from "../../functions/domain/limits";
import { openDb } from "../../functions/store/db";
import { ensureExperiment } from "../../functions/store/pipeline-runs";
import { createRun } from "../../functions/store/runs";
import { ADMIN_TOKEN, call, get, post } from "./support/call";
import { dumpDatabase, unknownLengthBody } from "./support/hostile";

const db = openDb(env.DB);

async function newRun(experimentName: string, runName: string, startTime = 1000) {
  const experimentId = (await post("experiments/create", { name: experimentName })).json.experiment_id;
  const run = (await post("runs/create", { experiment_id: experimentId, run_name: runName, start_time: startTime })).json.run;
  return { experimentId, runId: run.info.run_id as string };
}

const logMetrics = (runId: string, metrics: Array<{ value: number | string; step: number; timestamp: number }>, key = "loss") =>
  post("runs/log-batch", { run_id: runId, metrics: metrics.map((m) => ({ key, ...m })) });

/** The latest point of a key as runs/get reads it back, and as latest_metrics stores it. */
async function latest(runId: string, key = "loss") {
  const read = await getRun(runId);
  const stored = await env.DB.prepare("select step, timestamp, value, is_nan from latest_metrics where run_uuid = ? and key = ?").bind(runId, key).first();
  return { read: read.data.metrics.find((m: { key: string }) => m.key === key), stored };
}
const getRun = async (runId: string) => (await callGet(`runs/get?run_id=${runId}`)).run;
const callGet = async (path: string) => (await get(path)).json;

describe("the latest metric", () => {
  it("at equal step and timestamp the greater value wins, in one batch and across batches", async () => {
    const { runId } = await newRun("latest-ties", "r");
    // Within one batch, whichever comes first.
    await logMetrics(runId, [
      { value: 0.6, step: 1, timestamp: 10 },
      { value: 0.5, step: 1, timestamp: 10 },
    ]);
    await logMetrics(
      runId,
      [
        { value: 0.5, step: 1, timestamp: 10 },
        { value: 0.6, step: 1, timestamp: 10 },
      ],
      "acc",
    );
    expect((await latest(runId)).stored).toEqual({ step: 1, timestamp: 10, value: 0.6, is_nan: 0 });
    expect((await latest(runId, "acc")).stored).toEqual({ step: 1, timestamp: 10, value: 0.6, is_nan: 0 });
    await logMetrics(runId, [{ value: 0.7, step: 1, timestamp: 10 }]);
    const after = await latest(runId);
    expect(after.stored).toEqual({ step: 1, timestamp: 10, value: 0.7, is_nan: 0 });
    expect(after.read).toEqual({ key: "loss", value: 0.7, step: 1, timestamp: 10 });
  });

  it("a point earlier in (step, timestamp, value) order never overwrites the latest", async () => {
    const { runId } = await newRun("latest-earlier", "r");
    await logMetrics(runId, [{ value: 0.5, step: 2, timestamp: 10 }]);
    await logMetrics(runId, [{ value: 0.4, step: 2, timestamp: 10 }]);
    await logMetrics(runId, [{ value: 9, step: 2, timestamp: 9 }]);
    await logMetrics(runId, [{ value: 9, step: 1, timestamp: 99 }]);
    await logMetrics(runId, [{ value: "NaN", step: 1, timestamp: 99 }]);
    const now = await latest(runId);
    expect(now.stored).toEqual({ step: 2, timestamp: 10, value: 0.5, is_nan: 0 });
    expect(now.read).toEqual({ key: "loss", value: 0.5, step: 2, timestamp: 10 });
    // Every point is in the history all the same.
    const history = await callGet(`metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(history.metrics).toHaveLength(5);
    // A later step wins whatever its timestamp and value.
    await logMetrics(runId, [{ value: 0, step: 3, timestamp: 1 }]);
    expect((await latest(runId)).stored).toEqual({ step: 3, timestamp: 1, value: 0, is_nan: 0 });
  });
});

describe("a batch with the same param key twice", () => {
  it("is refused when the values differ, and nothing of it is stored; the same value twice is one param", async () => {
    const { runId } = await newRun("dup-params", "r");
    const before = await dumpDatabase();
    const refused = await post("runs/log-batch", {
      run_id: runId,
      params: [
        { key: "lr", value: "0.1" },
        { key: "lr", value: "0.2" },
      ],
      metrics: [{ key: "loss", value: 1, step: 0, timestamp: 1 }],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(await dumpDatabase()).toEqual(before);
    expect(
      (
        await post("runs/log-batch", {
          run_id: runId,
          params: [
            { key: "lr", value: "0.1" },
            { key: "lr", value: "0.1" },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await getRun(runId)).data.params).toEqual([{ key: "lr", value: "0.1" }]);
  });
});

describe("attempt numbers", () => {
  it("count the attempts of a run id within its own experiment only", async () => {
    const put = (experiment: string) => call("PUT", `/api/v1/runs/hcrl_sa/teacher_normal?experiment=${experiment}`, { token: ADMIN_TOKEN, body: "{}" }).then((answer) => answer.json);
    // Each PUT is a new attempt because the previous one has ended.
    const end = (experiment: string) => call("POST", `/api/v1/runs/hcrl_sa/teacher_normal/end?experiment=${experiment}`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } });
    expect((await put("attempts-a")).attempt).toBe(1);
    await end("attempts-a");
    expect((await put("attempts-a")).attempt).toBe(2);
    expect((await put("attempts-b")).attempt).toBe(1);
    const detail = (await call("GET", "/api/v1/runs/hcrl_sa/teacher_normal?experiment=attempts-b")).json;
    expect(detail.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1]);
    const rows = await env.DB.prepare(
      "select e.name as experiment, r.attempt, r.is_latest from runs r join experiments e using (experiment_id) where r.name = 'hcrl_sa/teacher_normal' and e.name like 'attempts-%' order by 1, 2",
    ).all();
    expect(rows.results).toEqual([
      { experiment: "attempts-a", attempt: 1, is_latest: 0 },
      { experiment: "attempts-a", attempt: 2, is_latest: 1 },
      { experiment: "attempts-b", attempt: 1, is_latest: 1 },
    ]);
  });
});

describe("a backfill start", () => {
  it("is the same attempt only for the same start time and the same config", async () => {
    const put = (startTime: number, config: string) =>
      call("PUT", `/api/v1/runs/set_02/teacher_fusion?experiment=backfill-identity&start_time=${startTime}`, { token: ADMIN_TOKEN, body: config }).then((answer) => answer.json);
    const first = await put(1_600_000_000_000, '{"lr": 0.1}');
    expect(first.attempt).toBe(1);
    expect(first.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect((await put(1_600_000_000_000, '{"lr": 0.1}')).run_id).toBe(first.run_id);
    const otherConfig = await put(1_600_000_000_000, '{"lr": 0.2}');
    expect(otherConfig.attempt).toBe(2);
    const otherStart = await put(1_600_000_000_001, '{"lr": 0.1}');
    expect(otherStart.attempt).toBe(3);
    const stored = await env.DB.prepare(
      "select r.start_time, p.value from runs r join params p using (run_uuid) where r.name = 'set_02/teacher_fusion' and p.key = 'lr' order by r.attempt",
    ).all();
    expect(stored.results).toEqual([
      { start_time: 1_600_000_000_000, value: "0.1" },
      { start_time: 1_600_000_000_000, value: "0.2" },
      { start_time: 1_600_000_000_001, value: "0.1" },
    ]);
  });
});

describe("the key-less retry window of PUT", () => {
  /** Ten minutes, as documented: written out here, so that a changed constant fails this test. */
  const RETRY_WINDOW_MS = 10 * 60_000;
  /** A RUNNING attempt with config {"lr": 0.001}, started this long ago, as a first PUT would have left it. */
  async function attemptStartedAgo(name: string, ageMs: number) {
    const experimentId = await ensureExperiment(db, PIPELINE_EXPERIMENT);
    return createRun(db, { experimentId, name, startTime: Date.now() - ageMs, params: [{ key: "lr", value: "0.001" }] });
  }
  const put = (name: string) => call("PUT", `/api/v1/runs/${name}`, { token: ADMIN_TOKEN, body: '{"lr": 0.001}' });

  it("still holds a minute before it ends: the same attempt", async () => {
    const started = await attemptStartedAgo("win_a/teacher_curriculum", RETRY_WINDOW_MS - 60_000);
    const answer = await put("win_a/teacher_curriculum");
    expect(answer.status).toBe(200);
    expect(answer.json.run_id).toBe(started.runUuid);
  });

  it("has ended a minute after: a new attempt, now the latest", async () => {
    const started = await attemptStartedAgo("win_b/teacher_curriculum", RETRY_WINDOW_MS + 60_000);
    const answer = await put("win_b/teacher_curriculum");
    expect(answer.status).toBe(201);
    const body = answer.json;
    expect(body.run_id).not.toBe(started.runUuid);
    expect(body.attempt).toBe(2);
    const rows = await env.DB.prepare("select attempt, is_latest from runs where name = 'win_b/teacher_curriculum' order by attempt").all();
    expect(rows.results).toEqual([
      { attempt: 1, is_latest: 0 },
      { attempt: 2, is_latest: 1 },
    ]);
  });
});

describe("the admin token", () => {
  async function listTokensWith(adminToken: string) {
    return (await call("GET", "/api/v1/tokens", { token: adminToken, env: { ADMIN_TOKEN: adminToken } })).status;
  }

  it("is refused when configured shorter than 16 characters, even when sent exactly", async () => {
    expect(await listTokensWith("a".repeat(15))).toBe(401);
    expect(await listTokensWith("a".repeat(16))).toBe(200);
  });
});

describe("body caps", () => {
  let runId: string;
  beforeAll(async () => {
    runId = (await newRun("body-caps", "r")).runId;
  });
  /** A valid log-batch body padded with spaces to exactly `size` bytes. */
  const bodyOf = (size: number, value: string) => {
    const text = JSON.stringify({ run_id: runId, tags: [{ key: "cap", value }] });
    return text + " ".repeat(size - text.length);
  };
  const send = (body: string, streamed: boolean) =>
    post("runs/log-batch", undefined, streamed ? { rawBody: unknownLengthBody(body) } : { rawBody: body, headers: { "Content-Length": String(body.length) } });

  for (const streamed of [false, true]) {
    const how = streamed ? "a streamed body" : "a declared Content-Length";
    it(`accept exactly the cap and refuse one byte more, for ${how}`, async () => {
      const atCap = await send(bodyOf(LIMITS.maxBodyBytes, `${how} at cap`), streamed);
      expect(atCap.status).toBe(200);
      expect((await getRun(runId)).data.tags).toContainEqual({ key: "cap", value: `${how} at cap` });
      const before = await dumpDatabase();
      const over = await send(bodyOf(LIMITS.maxBodyBytes + 1, `${how} over cap`), streamed);
      expect(over.status).toBe(400);
      expect((over.json as { message: string }).message).toMatch(/exceeds the limit of 1048576 bytes/);
      expect(await dumpDatabase()).toEqual(before);
    });
  }
});

describe("search", () => {
  let experimentId: string;
  const ids: Record<string, string> = {};
  const search = async (body: object) => ((await post("runs/search", { experiment_ids: [experimentId], ...body })).json.runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id);
  const names = async (body: object) => (await search(body)).map((id: string) => Object.keys(ids).find((name) => ids[name] === id));

  beforeAll(async () => {
    experimentId = (await post("experiments/create", { name: "search-rules" })).json.experiment_id;
    // All start at the same time, so that only the run id can break ties.
    const runs: Array<[string, number | string, string]> = [
      ["m07", 0.7, "a?c"],
      ["m05", 0.5, "abc"],
      ["nan", "NaN", "[ab]c"],
      ["m07b", 0.7, "bc"],
      ["m07c", 0.7, "ac"],
    ];
    for (const [name, value, note] of runs) {
      const run = (await post("runs/create", { experiment_id: experimentId, run_name: name, start_time: 5000 })).json.run;
      ids[name] = run.info.run_id;
      await post("runs/log-batch", {
        run_id: run.info.run_id,
        metrics: [{ key: "f1", value, step: 0, timestamp: 1 }],
        tags: [{ key: "note", value: note }],
        params: [{ key: "same", value: "x" }],
      });
    }
    const bare = (await post("runs/create", { experiment_id: experimentId, run_name: "bare", start_time: 5000 })).json.run;
    ids.bare = bare.info.run_id;
  });

  it("'<=' includes the bound and '<' does not, for metrics and attributes", async () => {
    expect((await names({ filter: "metrics.f1 <= 0.7" })).sort()).toEqual(["m05", "m07", "m07b", "m07c"]);
    expect(await names({ filter: "metrics.f1 < 0.7" })).toEqual(["m05"]);
    expect((await names({ filter: "metrics.f1 >= 0.7" })).sort()).toEqual(["m07", "m07b", "m07c"]);
    expect(await names({ filter: "metrics.f1 > 0.5 and metrics.f1 < 0.7" })).toEqual([]);
    expect(await search({ filter: "attributes.start_time <= 5000" })).toHaveLength(6);
    expect(await search({ filter: "attributes.start_time < 5000" })).toEqual([]);
  });

  it("'*', '?' and '[' in a LIKE pattern are literal characters; only % and _ are wildcards", async () => {
    expect(await names({ filter: "tags.note LIKE 'a?c'" })).toEqual(["m07"]);
    expect(await names({ filter: "tags.note LIKE '[ab]%'" })).toEqual(["nan"]);
    expect(await names({ filter: "tags.note LIKE '%*%'" })).toEqual([]);
    expect((await names({ filter: "tags.note LIKE 'a_c'" })).sort()).toEqual(["m05", "m07"]);
    expect(await names({ filter: "tags.note ILIKE '[AB]%'" })).toEqual(["nan"]);
  });

  it("a NaN point never matches a metric clause, whatever the comparison", async () => {
    for (const clause of ["= 0", "!= 0.5", ">= -1e308", "<= 1e308", "> -1", "< 1"]) {
      expect(await names({ filter: `metrics.f1 ${clause}` }), clause).not.toContain("nan");
    }
  });

  it("ties in order_by break by run id, the same way on every path", async () => {
    const sorted = (names: string[]) => names.map((n) => ids[n]).sort();
    const tied = sorted(["m07", "m07b", "m07c"]);
    const pages = async (body: object, size: number) => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = (await post("runs/search", { experiment_ids: [experimentId], max_results: size, ...(token && { page_token: token }), ...body })).json;
        out.push(...(page.runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id));
        token = page.next_page_token;
      } while (token);
      return out;
    };
    // Best first, the tie among the 0.7s by run id, then NaN, then the run without the metric.
    const expected = [...tied, ids.m05, ids.nan, ids.bare];
    expect(await search({ order_by: ["metrics.f1 DESC"] })).toEqual(expected);
    // Pages that cut through the tie take the exact query instead of the index walk.
    for (const size of [1, 2, 4]) expect(await pages({ order_by: ["metrics.f1 DESC"] }, size), `pages of ${size}`).toEqual(expected);
    // A second key makes it the exact query throughout.
    expect(await search({ order_by: ["metrics.f1 DESC", "params.same"] })).toEqual(expected);
    expect(await search({ order_by: ["metrics.f1 ASC"] })).toEqual([ids.m05, ...tied, ids.nan, ids.bare]);
    // Orders that are not by a metric: every run tied (the bare run has no param: last).
    const byRunId = Object.values(ids)
      .filter((id) => id !== ids.bare)
      .sort();
    expect(await search({ order_by: ["params.same DESC"] })).toEqual([...byRunId, ids.bare]);
    expect(await search({ order_by: ["attributes.start_time"] })).toEqual(Object.values(ids).sort());
    expect(await search({})).toEqual(Object.values(ids).sort());
    expect(await pages({}, 2)).toEqual(Object.values(ids).sort());
  });
});
