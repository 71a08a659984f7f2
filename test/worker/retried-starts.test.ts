import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import config from "../fixtures/teacher_autoencoder_config.json?raw";
import { ADMIN_TOKEN, call, post } from "./support/call";

async function attemptsOf(name: string) {
  const { results } = await env.DB.prepare("select run_uuid, attempt, is_latest from runs where name = ? order by attempt").bind(name).all();
  return results;
}

describe("concurrent copies of one start", () => {
  it("create one attempt when they carry the same Idempotency-Key", async () => {
    const name = "hcrl_sa/teacher_autoencoder";
    const copies = await Promise.all(
      Array.from({ length: 6 }, () => call("PUT", `/api/v1/runs/${name}`, { body: config, token: ADMIN_TOKEN, headers: { "Idempotency-Key": "slurm-4711" } })),
    );
    const ids = new Set(await Promise.all(copies.map((r) => (r.json as { run_id: string }).run_id)));
    expect(copies.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(ids.size).toBe(1);
    expect(await attemptsOf(name)).toEqual([{ run_uuid: [...ids][0], attempt: 1, is_latest: 1 }]);
    const params = await env.DB.prepare("select count(*) as n from params where run_uuid = ?")
      .bind([...ids][0])
      .first("n");
    expect(params).toBe(Object.keys(JSON.parse(config)).length);
  });

  it("create one attempt when they are the same backfill (start_time and config)", async () => {
    const name = "set_01/teacher_autoencoder";
    const copies = await Promise.all(Array.from({ length: 4 }, () => call("PUT", `/api/v1/runs/${name}?start_time=1700000000000`, { body: config, token: ADMIN_TOKEN })));
    expect(copies.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(await attemptsOf(name)).toHaveLength(1);
  });

  it("still start a new attempt for a new key, which becomes the latest", async () => {
    const name = "hcrl_sa/teacher_autoencoder";
    const rerun = await call("PUT", `/api/v1/runs/${name}`, { body: config, token: ADMIN_TOKEN, headers: { "Idempotency-Key": "slurm-4712" } });
    expect(rerun.status).toBe(201);
    expect((await attemptsOf(name)).map((r) => [r.attempt, r.is_latest])).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });
});

describe("MLflow runs/create sent again (its answer lost)", () => {
  it("creates one run for copies with the same name and client start_time, and a new one for a new start", async () => {
    const request = { experiment_id: "0", run_name: "set_02/student_fusion", start_time: 1700000000123, tags: [{ key: "stage", value: "fusion" }] };
    const copies = await Promise.all([post("runs/create", request), post("runs/create", request), post("runs/create", request)]);
    expect(copies.map((c) => c.status)).toEqual([200, 200, 200]);
    expect(new Set(copies.map((c) => c.json.run.info.run_id)).size).toBe(1);
    expect(await attemptsOf("set_02/student_fusion")).toHaveLength(1);
    const later = await post("runs/create", { ...request, start_time: 1700000999000 });
    expect(later.json.run.info.run_id).not.toBe(copies[0].json.run.info.run_id);
    expect(await attemptsOf("set_02/student_fusion")).toHaveLength(2);
  });

  it("still creates distinct runs when no name identifies the request", async () => {
    const request = { experiment_id: "0", start_time: 1700000000456 };
    const [a, b] = [await post("runs/create", request), await post("runs/create", request)];
    expect(a.json.run.info.run_id).not.toBe(b.json.run.info.run_id);
  });
});
