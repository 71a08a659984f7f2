import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDb, zeroCost } from "../../functions/store/db";
import { logBatch } from "../../functions/store/log-batch";
import { createRun, getRunData } from "../../functions/store/runs";
import { rowCounts } from "../../functions/store/sql";

const db = openDb(env.DB);

describe("store: runs and batched logging", () => {
  it("creates attempts of one run name, moving the latest flag", async () => {
    const first = await createRun(db, { experimentId: 0, name: "hcrl_sa/student_curriculum_kd", startTime: 1 });
    const second = await createRun(db, { experimentId: 0, name: "hcrl_sa/student_curriculum_kd", startTime: 2 });
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(second).toMatchObject({ dataset: "hcrl_sa", modelSize: "student", stage: "curriculum", kd: true, isLatest: true });
    const rows = await env.DB.prepare("select attempt, is_latest from runs where name = ? order by attempt").bind(second.name).all();
    expect(rows.results).toEqual([
      { attempt: 1, is_latest: 0 },
      { attempt: 2, is_latest: 1 },
    ]);
  });

  it("stores a repeated point once and keeps the greatest (step, timestamp, value) as latest", async () => {
    const run = await createRun(db, { experimentId: 0, name: "x/teacher_autoencoder", startTime: 1 });
    const metrics = [
      { key: "loss", value: 0.9, timestamp: 10, step: 0 },
      { key: "loss", value: 0.5, timestamp: 11, step: 2 },
      { key: "loss", value: 0.7, timestamp: 12, step: 1 },
      { key: "acc", value: Number.NaN, timestamp: 10, step: 0 },
    ];
    await logBatch(db, run.runUuid, { metrics });
    await logBatch(db, run.runUuid, { metrics });
    const count = await env.DB.prepare("select count(*) as n from metrics where run_uuid = ?").bind(run.runUuid).first("n");
    expect(count).toBe(4);
    const data = await getRunData(db, run.runUuid);
    expect(data.metrics.map((m) => [m.key, m.value, m.step, m.isNan])).toEqual([
      ["loss", 0.5, 2, false],
      ["acc", 0, 0, true],
    ]);
  });

  it("writes about one D1 row per point for a 1000-point batch", async () => {
    const run = await createRun(db, { experimentId: 0, name: "x/teacher_curriculum", startTime: 1 });
    const keys = ["train_loss", "val_loss", "train_acc", "val_acc"];
    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: keys[i % 4], value: i / 1000, timestamp: 1_700_000_000_000 + i, step: Math.floor(i / 4) }));
    const results = await logBatch(db, run.runUuid, { metrics });
    const { rowsWritten, rowsRead } = rowCounts(results);
    // 1000 point rows plus the latest-metric upserts of 4 keys.
    expect(rowsWritten / metrics.length).toBeLessThanOrEqual(1.02);
    // Reading is the JSON array once plus the duplicate checks, not a sort of the batch.
    expect(rowsRead / metrics.length).toBeLessThanOrEqual(1.1);
    expect(rowCounts(await logBatch(db, run.runUuid, { metrics })).rowsWritten).toBe(0);
    // The per-request counter behind the Server-Timing header sees the same rows.
    const counter = zeroCost();
    const shifted = metrics.map((m) => ({ ...m, step: m.step + 1000 }));
    const direct = rowCounts(await logBatch(openDb(env.DB, counter), run.runUuid, { metrics: shifted }));
    expect(counter.rowsWritten).toBe(direct.rowsWritten);
    expect(counter.rowsWritten).toBeGreaterThanOrEqual(1000);
  });

  it("refuses a changed param and writes nothing of that batch", async () => {
    const run = await createRun(db, { experimentId: 0, name: "x/student_fusion", startTime: 1 });
    await logBatch(db, run.runUuid, { params: [{ key: "lr", value: "0.01" }] });
    await expect(logBatch(db, run.runUuid, { params: [{ key: "lr", value: "0.02" }], metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }] })).rejects.toThrow(
      /Changing param values is not allowed/,
    );
    const data = await getRunData(db, run.runUuid);
    expect(data.metrics).toEqual([]);
    expect(data.params).toEqual([{ key: "lr", value: "0.01" }]);
  });
});
