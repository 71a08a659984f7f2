/**
 * A job requeued while its old copy still runs: each copy's metrics and end land on the attempt its
 * PUT answered (`?run_id=` or X-Run-Id), never on the other one.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import config from "../fixtures/student_curriculum_kd_config.json?raw";
import { ADMIN_TOKEN, call } from "./support/call";
import { dumpDatabase } from "./support/hostile";

const NAME = "hcrl_sa/student_curriculum_kd";
const RUN = `/api/v1/runs/${NAME}`;

const start = async (path: string, job: string) => (await call("PUT", path, { token: ADMIN_TOKEN, body: config, headers: { "Idempotency-Key": job } })).json.run_id as string;

/** An attempt as stored: its row, its tags and its metric points. */
async function attemptState(runUuid: string) {
  const row = await env.DB.prepare("select attempt, status, end_time, is_latest from runs where run_uuid = ?").bind(runUuid).first();
  const tags = await env.DB.prepare("select key, value from tags where run_uuid = ? order by key").bind(runUuid).all<{ key: string; value: string }>();
  const points = await env.DB.prepare("select key, step, value from metrics where run_uuid = ? order by key, step").bind(runUuid).all();
  return { ...row, tags: Object.fromEntries(tags.results.map((t) => [t.key, t.value])), points: points.results };
}

describe("writes naming their attempt", () => {
  it("log and end a superseded attempt, leaving the new one untouched and latest", async () => {
    const old = await start(RUN, "slurm-100");
    const requeued = await start(RUN, "slurm-101");
    expect(requeued).not.toBe(old);
    const requeuedBefore = await attemptState(requeued);
    expect(requeuedBefore).toMatchObject({ attempt: 2, status: "RUNNING", is_latest: 1 });

    // The old copy, still running, logs and then fails, naming its attempt both ways.
    const logged = await call("POST", `${RUN}/metrics?run_id=${old}`, { token: ADMIN_TOKEN, body: { step: 5, metrics: { val_loss: 0.4 } } });
    expect(logged.status).toBe(200);
    expect(logged.json).toMatchObject({ run_id: old, attempt: 1, points: 1 });
    const csv = await call("POST", `${RUN}/metrics`, { token: ADMIN_TOKEN, body: "epoch,step,train_loss\n0,9,0.9\n", headers: { "Content-Type": "text/csv", "X-Run-Id": old } });
    expect(csv.status).toBe(200);
    const ended = await call("POST", `${RUN}/end`, { token: ADMIN_TOKEN, body: { status: "FAILED", error: "node lost", end_time: 1800000000000 }, headers: { "X-Run-Id": old } });
    expect(ended.status).toBe(200);
    expect(ended.json).toMatchObject({ run_id: old, attempt: 1, status: "FAILED" });

    expect(await attemptState(old)).toMatchObject({
      attempt: 1,
      status: "FAILED",
      end_time: 1800000000000,
      is_latest: 0,
      tags: { status: "failed", error_msg: "node lost" },
      points: [
        { key: "epoch", step: 9, value: 0 },
        { key: "train_loss", step: 9, value: 0.9 },
        { key: "val_loss", step: 5, value: 0.4 },
      ],
    });
    expect(await attemptState(requeued)).toEqual(requeuedBefore);
    const detail = (await call("GET", RUN)).json;
    expect(detail.run).toMatchObject({ mlflow_run_id: requeued, attempt: 2, status: "RUNNING" });

    // The requeued copy's writes, by run_id or (as before) without one, reach its own attempt.
    expect((await call("POST", `${RUN}/metrics`, { token: ADMIN_TOKEN, body: { step: 1, metrics: { val_loss: 0.7 } } })).status).toBe(200);
    expect((await call("POST", `${RUN}/end?run_id=${requeued}`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } })).status).toBe(200);
    expect(await attemptState(requeued)).toMatchObject({ status: "FINISHED", is_latest: 1, points: [{ key: "val_loss", step: 1, value: 0.7 }] });
    expect(await attemptState(old)).toMatchObject({ status: "FAILED", points: [{ key: "epoch" }, { key: "train_loss" }, { key: "val_loss", step: 5 }] });
  });

  describe("refuse a run_id that is not an attempt of this run id, writing nothing", () => {
    interface Ids {
      own: string;
      ofOtherRunId: string;
      ofOtherExperiment: string;
    }
    let ids: Ids | undefined;
    const startAll = async (): Promise<Ids> => ({
      own: await start(RUN, "slurm-200"),
      ofOtherRunId: await start("/api/v1/runs/hcrl_sa/teacher_curriculum", "slurm-201"),
      ofOtherExperiment: await start(`${RUN}?experiment=sweeps`, "slurm-202"),
    });
    const metrics = { step: 0, metrics: { a: 1 } };
    const end = { status: "FAILED" };
    type Request = { path: string; body: object | string; headers?: Record<string, string> };
    const cases: Array<[string, (ids: Ids) => Request, number, string]> = [
      ["metrics with another run id's run_id", (i) => ({ path: `${RUN}/metrics?run_id=${i.ofOtherRunId}`, body: metrics }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["an end with another run id's run_id", (i) => ({ path: `${RUN}/end?run_id=${i.ofOtherRunId}`, body: end }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["an end with another run id's run_id in X-Run-Id", (i) => ({ path: `${RUN}/end`, body: end, headers: { "X-Run-Id": i.ofOtherRunId } }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["metrics with the run_id of this name in another experiment", (i) => ({ path: `${RUN}/metrics?run_id=${i.ofOtherExperiment}`, body: metrics }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["an end with its own run_id but another experiment", (i) => ({ path: `${RUN}/end?experiment=sweeps&run_id=${i.own}`, body: end }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["an end with an unknown run_id", () => ({ path: `${RUN}/end?run_id=${"0".repeat(32)}`, body: end }), 404, "RESOURCE_DOES_NOT_EXIST"],
      ["metrics with a malformed run_id", () => ({ path: `${RUN}/metrics?run_id=attempt-1`, body: metrics }), 400, "INVALID_PARAMETER_VALUE"],
      ["an end with a malformed X-Run-Id", () => ({ path: `${RUN}/end`, body: end, headers: { "X-Run-Id": "ABC".repeat(1000) } }), 400, "INVALID_PARAMETER_VALUE"],
      [
        "?run_id= and X-Run-Id naming different attempts",
        (i) => ({ path: `${RUN}/end?run_id=${i.own}`, body: end, headers: { "X-Run-Id": i.ofOtherRunId } }),
        400,
        "INVALID_PARAMETER_VALUE",
      ],
    ];
    for (const [label, request, status, code] of cases) {
      it(`${label}: ${status} ${code}`, async () => {
        ids ??= await startAll();
        const { path, body, headers } = request(ids);
        const before = await dumpDatabase();
        const response = await call("POST", path, { token: ADMIN_TOKEN, body, headers });
        expect(response.status).toBe(status);
        const answer = response.json;
        expect(answer.error_code).toBe(code);
        expect(answer.message.length).toBeLessThan(300);
        expect(await dumpDatabase()).toEqual(before);
      });
    }
  });

  it("refuse a deleted attempt, as for the latest", async () => {
    const path = "/api/v1/runs/set_01/teacher_normal";
    const first = await start(path, "slurm-300");
    await start(path, "slurm-301");
    await env.DB.prepare("update runs set lifecycle_stage = 'deleted' where run_uuid = ?").bind(first).run();
    const before = await dumpDatabase();
    const response = await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { status: "FAILED" }, headers: { "X-Run-Id": first } });
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(await dumpDatabase()).toEqual(before);
  });
});
