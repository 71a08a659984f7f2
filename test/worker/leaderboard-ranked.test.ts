/**
 * latest_metrics' copies of a run's rank columns (experiment_id, dataset, stage, ranked), kept by
 * migration 0002's triggers: every write path that changes which attempt is ranked (start of a
 * new attempt, end, delete, restore, rename, a metric first logged after the end, an import) moves
 * the leaderboard, and the migration's backfill fills rows that existed before it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call } from "./support/call";

const leaderboard = async (dataset: string) => {
  const response = await call("GET", `/api/v1/leaderboard?metric=gat_f1&dataset=${dataset}`);
  expect(response.status).toBe(200);
  const rowsRead = Number(response.headers.get("Server-Timing")?.match(/rows_read=(\d+)/)?.[1]);
  const body = response.json;
  return { entries: body.entries.map((e: any) => [e.run.run_id, e.value, e.run.attempt]), rowsRead };
};

async function finishedRun(name: string, f1: number): Promise<string> {
  const started = (await call("PUT", `/api/v1/runs/${name}`, { token: ADMIN_TOKEN, body: "{}" })).json;
  expect((await call("POST", `/api/v1/runs/${name}/metrics`, { token: ADMIN_TOKEN, body: { step: 1, metrics: { gat_f1: f1 } } })).status).toBe(200);
  expect((await call("POST", `/api/v1/runs/${name}/end`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } })).status).toBe(200);
  return started.run_id;
}

const mlflow = (path: string, body: object) => call("POST", `/api/2.0/mlflow/${path}`, { token: ADMIN_TOKEN, body, headers: { "Content-Type": "application/json" } });

describe("the ranked copies on latest_metrics follow every write path", () => {
  it("ranks an attempt when it ends FINISHED, and only the latest attempt of a name", async () => {
    await finishedRun("rk_a/teacher_evaluation", 0.7);
    const student = await finishedRun("rk_a/student_evaluation", 0.8);
    expect((await leaderboard("rk_a")).entries).toEqual([
      ["rk_a/student_evaluation", 0.8, 1],
      ["rk_a/teacher_evaluation", 0.7, 1],
    ]);
    // A re-run: attempt 2 starts (RUNNING, not ranked) and attempt 1 is no longer the latest.
    await call("PUT", "/api/v1/runs/rk_a/student_evaluation", { token: ADMIN_TOKEN, body: "{}" });
    expect((await leaderboard("rk_a")).entries).toEqual([["rk_a/teacher_evaluation", 0.7, 1]]);
    const ranked = await env.DB.prepare("select ranked from latest_metrics where run_uuid = ?").bind(student).first("ranked");
    expect(ranked).toBe(0);
    // Attempt 2 logs, then ends: it is ranked with its own value.
    await call("POST", "/api/v1/runs/rk_a/student_evaluation/metrics", { token: ADMIN_TOKEN, body: { step: 1, metrics: { gat_f1: 0.6 } } });
    await call("POST", "/api/v1/runs/rk_a/student_evaluation/end", { token: ADMIN_TOKEN, body: { status: "FINISHED" } });
    expect((await leaderboard("rk_a")).entries).toEqual([
      ["rk_a/teacher_evaluation", 0.7, 1],
      ["rk_a/student_evaluation", 0.6, 2],
    ]);
  });

  it("drops a deleted run and brings it back on restore; a FAILED end is not ranked", async () => {
    const run = await finishedRun("rk_b/teacher_evaluation", 0.5);
    expect((await mlflow("runs/delete", { run_id: run })).status).toBe(200);
    expect((await leaderboard("rk_b")).entries).toEqual([]);
    expect((await mlflow("runs/restore", { run_id: run })).status).toBe(200);
    expect((await leaderboard("rk_b")).entries).toEqual([["rk_b/teacher_evaluation", 0.5, 1]]);
    await call("PUT", "/api/v1/runs/rk_b/student_evaluation", { token: ADMIN_TOKEN, body: "{}" });
    await call("POST", "/api/v1/runs/rk_b/student_evaluation/metrics", { token: ADMIN_TOKEN, body: { step: 1, metrics: { gat_f1: 0.9 } } });
    await call("POST", "/api/v1/runs/rk_b/student_evaluation/end", { token: ADMIN_TOKEN, body: { status: "FAILED" } });
    expect((await leaderboard("rk_b")).entries).toEqual([["rk_b/teacher_evaluation", 0.5, 1]]);
  });

  it("ranks a metric first logged after the end, and follows a rename to another dataset", async () => {
    const run = await finishedRun("rk_c/teacher_evaluation", 0.4);
    // MLflow lets a finished run log: the new key's latest row is inserted with the run's rank.
    expect((await mlflow("runs/log-metric", { run_id: run, key: "val_f1", value: 0.3, timestamp: 1, step: 0 })).status).toBe(200);
    const late = (await call("GET", "/api/v1/leaderboard?metric=val_f1&dataset=rk_c")).json;
    expect(late.entries.map((e: any) => e.value)).toEqual([0.3]);
    expect((await mlflow("runs/update", { run_id: run, run_name: "rk_d/teacher_evaluation" })).status).toBe(200);
    expect((await leaderboard("rk_c")).entries).toEqual([]);
    expect((await leaderboard("rk_d")).entries).toEqual([["rk_d/teacher_evaluation", 0.4, 1]]);
  });

  it("reads about two rows per entry for a dataset leaderboard (Server-Timing)", async () => {
    for (let i = 0; i < 30; i++) await finishedRun(`rk_e/size${String(i).padStart(2, "0")}_evaluation`, i / 100);
    const { entries, rowsRead } = await leaderboard("rk_e");
    expect(entries).toHaveLength(10);
    expect(entries[0]).toEqual(["rk_e/size29_evaluation", 0.29, 1]);
    // The experiment lookup, then 10 index entries and 10 runs: not the dataset's 30 runs.
    expect(rowsRead).toBeGreaterThan(0);
    expect(rowsRead).toBeLessThanOrEqual(25);
  }, 60_000);

  it("a tie across the top-10 cut keeps the runs first by run id, all sharing the rank", async () => {
    // Started in an order that neither insertion order nor time-ordered uuids turn into the run-id order.
    for (const i of [3, 10, 0, 7, 11, 5, 1, 9, 2, 8, 4, 6]) await finishedRun(`rk_t/s${String(i).padStart(2, "0")}_evaluation`, i === 11 ? 0.9 : 0.5);
    const { entries } = await leaderboard("rk_t");
    expect(entries).toEqual([["rk_t/s11_evaluation", 0.9, 1], ...Array.from({ length: 9 }, (_, i) => [`rk_t/s${String(i).padStart(2, "0")}_evaluation`, 0.5, 1])]);
    const ranks = (await call("GET", "/api/v1/leaderboard?metric=gat_f1&dataset=rk_t")).json.entries.map((e: any) => e.rank);
    expect(ranks).toEqual([1, ...Array(9).fill(2)]);
  }, 60_000);

  it("the migration's backfill fills the copies of rows written before it", async () => {
    await finishedRun("rk_f/teacher_evaluation", 0.55);
    await env.DB.prepare("update latest_metrics set experiment_id = null, dataset = null, stage = null, ranked = 0").run();
    expect((await leaderboard("rk_f")).entries).toEqual([]);
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0002_"))!;
    const backfill = migration.queries.find((q) => q.trimStart().startsWith("UPDATE `latest_metrics`"))!;
    await env.DB.prepare(backfill).run();
    expect((await leaderboard("rk_f")).entries).toEqual([["rk_f/teacher_evaluation", 0.55, 1]]);
    expect((await leaderboard("rk_a")).entries.map((e: unknown[]) => e[0])).toEqual(["rk_a/teacher_evaluation", "rk_a/student_evaluation"]);
  });
});
