import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../functions/store/db";
import { EXPORT_RUNS_PER_PAGE } from "../../functions/store/export";
import { logBatch } from "../../functions/store/log-batch";
import { ensureExperiment } from "../../functions/store/pipeline-runs";
import { createRun } from "../../functions/store/runs";
import config from "../fixtures/student_curriculum_kd_config.json?raw";
import { ADMIN_TOKEN, call } from "./support/call";

const db = openDb(env.DB);
const TABLES = ["experiments", "experiment_tags", "runs", "params", "tags", "metrics", "latest_metrics"];

/** Every row of every exported table, in a fixed order. */
async function snapshot() {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = (await env.DB.prepare(`select * from ${t} order by 1, 2, 3`).all()).results;
  return out;
}

/** The full backup (the admin token's export), every page. */
async function exportAll(): Promise<any[]> {
  const pages: any[] = [];
  let token: string | undefined;
  do {
    const response = await call("GET", `/api/v1/export${token ? `?page_token=${token}` : ""}`, { token: ADMIN_TOKEN });
    expect(response.status).toBe(200);
    const page = response.json;
    pages.push(page);
    token = page.next_page_token;
  } while (token);
  return pages;
}

const importPage = (page: object | string, token = ADMIN_TOKEN) => call("POST", "/api/v1/import", { token, body: page });
const withoutTimes = (pages: any[]) => pages.map(({ exported_at, ...rest }) => rest);

beforeAll(async () => {
  // Curl-logged runs with a real config, attempts, an end, NaN and a tagged second experiment...
  const run = "/api/v1/runs/hcrl_sa/student_curriculum_kd";
  await call("PUT", `${run}?start_time=1000`, { token: ADMIN_TOKEN, body: config });
  await call("POST", `${run}/metrics`, {
    token: ADMIN_TOKEN,
    body: [
      { step: 0, metrics: { val_loss: 0.5, acc: "NaN" } },
      { step: 1, metrics: { val_loss: 0.25 } },
    ],
  });
  await call("POST", `${run}/end`, { token: ADMIN_TOKEN, body: { status: "FAILED", error: "OOM", end_time: 2000 } });
  await call("PUT", `${run}?start_time=3000`, { token: ADMIN_TOKEN, body: config });
  const other = await ensureExperiment(db, "ablations");
  await env.DB.prepare("insert into experiment_tags (experiment_id, key, value) values (?, 'owner', 'lab')").bind(other).run();
  await env.DB.prepare("update experiments set lifecycle_stage = 'deleted' where experiment_id = ?").bind(other).run();
  // ... and enough runs for several pages.
  for (let i = 0; i < EXPORT_RUNS_PER_PAGE + 20; i++) {
    const created = await createRun(db, { experimentId: 0, name: `set_0${i % 4}/teacher_fusion`, startTime: 10_000 + i, params: [{ key: "i", value: String(i) }] });
    await logBatch(db, created.runUuid, { metrics: [{ key: "reward", value: i, timestamp: 10_000 + i, step: i }] });
  }
  await env.DB.prepare("update runs set lifecycle_stage = 'deleted', deleted_time = 12345 where name = 'set_01/teacher_fusion' and attempt = 1").run();
  await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "never-exported" } });
}, 60_000); // some 250 writes: slower while the rest of the suite runs

describe("export and import", () => {
  it("exports every run in pages with params, tags and full histories, never tokens", async () => {
    const pages = await exportAll();
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) {
      expect(page).toMatchObject({ format: "kdgat-export", version: 1 });
      expect(page.experiments.map((e: any) => e.name)).toEqual(["Default", "kd-gat-pipeline", "ablations"]);
      expect(page.runs.length).toBeLessThanOrEqual(EXPORT_RUNS_PER_PAGE);
    }
    const runs = pages.flatMap((p) => p.runs);
    expect(runs).toHaveLength(EXPORT_RUNS_PER_PAGE + 22);
    const uuids = runs.map((r: any) => r.mlflow_run_id);
    expect(uuids).toEqual([...uuids].sort());
    const failed = runs.find((r: any) => r.run_name === "hcrl_sa/student_curriculum_kd" && r.attempt === 1);
    expect(failed).toMatchObject({ status: "FAILED", start_time: 1000, end_time: 2000, lifecycle_stage: "active" });
    expect(failed.params.kd_temperature).toBe("4.0");
    expect(failed.tags).toMatchObject({ status: "failed", error_msg: "OOM", teacher_run_id: "hcrl_sa/teacher_curriculum" });
    expect(failed.metrics).toEqual({
      val_loss: [
        [0, 1000, 0.5],
        [1, 1000, 0.25],
      ],
      acc: [[0, 1000, "NaN"]],
    });
    expect(pages[0].experiments[2]).toMatchObject({ lifecycle_stage: "deleted", tags: { owner: "lab" } });
    expect(JSON.stringify(pages)).not.toMatch(/never-exported|token_hash/);
  });

  it("imports the same pages again without changing anything", async () => {
    const before = await snapshot();
    for (const page of await exportAll()) {
      const response = await importPage(page);
      expect(response.status).toBe(200);
      expect(response.json.imported).toEqual({ experiments: 0, runs: 0 });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("round-trips: an emptied tracker gets back exactly the same rows and export", async () => {
    const pages = await exportAll();
    const before = await snapshot();
    // Per run, keys keep the order they were first logged in.
    const keyOrder = async () => (await env.DB.prepare("select run_uuid, key from latest_metrics order by run_uuid, rowid").all()).results;
    const keysBefore = await keyOrder();
    await env.DB.batch([...TABLES].reverse().map((t) => env.DB.prepare(`delete from ${t}`)));
    expect((await snapshot()).runs).toEqual([]);
    let imported = 0;
    for (const page of pages) {
      const response = await importPage(page);
      expect(response.status).toBe(200);
      imported += response.json.imported.runs;
    }
    expect(imported).toBe(EXPORT_RUNS_PER_PAGE + 22);
    expect(await snapshot()).toEqual(before);
    expect(await keyOrder()).toEqual(keysBefore);
    expect(withoutTimes(await exportAll())).toEqual(withoutTimes(pages));
    // The tracker works on as before: the next attempt of a run id counts on.
    const next = (await call("PUT", "/api/v1/runs/hcrl_sa/student_curriculum_kd", { token: ADMIN_TOKEN, body: "{}" })).json;
    expect(next.attempt).toBe(3);
  });

  it("refuses a page whose runs or experiments clash with this tracker, writing nothing", async () => {
    const [first] = await exportAll();
    const fresh = { ...first.runs[0], mlflow_run_id: "f".repeat(32), params: {}, tags: {}, metrics: {} };
    const changedRun = { ...first, runs: [fresh, { ...first.runs[1], params: { ...first.runs[1].params, extra: "1" } }] };
    const renamedExperiment = { ...first, experiments: [{ ...first.experiments[1], name: "renamed" }], runs: [fresh] };
    const unknownExperiment = { ...first, experiments: [], runs: [{ ...fresh, experiment_id: "99" }] };
    const changedPoint = { ...first, runs: [fresh, { ...first.runs[2], metrics: { other: [[0, 1, 2]] } }] };
    for (const page of [changedRun, renamedExperiment, unknownExperiment, changedPoint]) {
      const before = await snapshot();
      const response = await importPage(page);
      expect(response.status).toBe(400);
      expect(response.json.error_code).toBe("INVALID_PARAMETER_VALUE");
      expect(await snapshot()).toEqual(before);
    }
  });

  it("refuses bad documents, bad tokens and bad page tokens", async () => {
    const [first] = await exportAll();
    const before = await snapshot();
    const cases: Array<[object | string, string, number]> = [
      [first, "not-the-admin", 401],
      [{ ...first, format: "mlflow" }, ADMIN_TOKEN, 400],
      [{ ...first, runs: [{ ...first.runs[0], mlflow_run_id: "xyz" }] }, ADMIN_TOKEN, 400],
      [{ ...first, runs: [{ ...first.runs[0], status: "DONE" }] }, ADMIN_TOKEN, 400],
      [{ ...first, runs: [{ ...first.runs[0], metrics: { "a..b": [[0, 0, 1]] } }] }, ADMIN_TOKEN, 400],
      [
        {
          ...first,
          runs: [
            {
              ...first.runs[0],
              metrics: {
                ok: [
                  [0, 0, 1],
                  [1, 0, "1"],
                ],
              },
            },
          ],
        },
        ADMIN_TOKEN,
        400,
      ],
      [{ ...first, runs: [{ ...first.runs[0], metrics: { ok: [[0.5, 0, 1]] } }] }, ADMIN_TOKEN, 400],
      ["{not json", ADMIN_TOKEN, 400],
    ];
    for (const [body, token, status] of cases) {
      const response = await importPage(body, token);
      expect(response.status).toBe(status);
      expect(response.json.error_code).toMatch(/INVALID_PARAMETER_VALUE|UNAUTHENTICATED/);
    }
    expect(await snapshot()).toEqual(before);
    for (const token of ["garbage", btoa('"short"')]) {
      const response = await call("GET", `/api/v1/export?page_token=${token}`);
      expect(response.status).toBe(400);
      expect(response.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});
