import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call } from "./support/call";

interface Seed {
  runId: string;
  start: number;
  config?: Record<string, unknown>;
  metrics?: Array<{ step: number; metrics: Record<string, unknown> }>;
  end?: { status: string; error?: string };
}

const teacherOf = (runId: string) => ({ use_kd: true, teacher_path: `experimentruns/${runId}/best_model.pt` });
const SEEDS: Seed[] = [
  { runId: "hcrl_sa/teacher_evaluation", start: 1000, metrics: [{ step: 0, metrics: { gat_f1: 0.95, val_loss: 0.3 } }], end: { status: "FINISHED" } },
  {
    runId: "hcrl_sa/student_evaluation_kd",
    start: 2000,
    config: teacherOf("hcrl_sa/teacher_evaluation"),
    metrics: [{ step: 0, metrics: { gat_f1: 0.97, val_loss: 0.2 } }],
    end: { status: "FINISHED" },
  },
  { runId: "set_01/teacher_evaluation", start: 3000, metrics: [{ step: 0, metrics: { gat_f1: 0.9, val_loss: 0.5 } }], end: { status: "FINISHED" } },
  { runId: "set_01/student_evaluation_kd", start: 4000, metrics: [{ step: 0, metrics: { gat_f1: "NaN" } }], end: { status: "FINISHED" } },
  { runId: "set_02/teacher_evaluation", start: 5000, metrics: [{ step: 0, metrics: { gat_f1: 0.99 } }], end: { status: "FINISHED" } },
  { runId: "set_02/teacher_evaluation", start: 6000 },
  {
    runId: "hcrl_sa/student_curriculum_kd",
    start: 7000,
    config: teacherOf("hcrl_sa/teacher_curriculum"),
    metrics: [
      { step: 2, metrics: { "val/loss.x": 0.4 } },
      { step: 1, metrics: { "val/loss.x": 0.6 } },
    ],
    end: { status: "FAILED", error: 'bad, "quoted"\nline' },
  },
  { runId: "set_03/student_evaluation", start: 8000, metrics: [{ step: 0, metrics: { gat_f1: 0.8 } }], end: { status: "FINISHED" } },
];

beforeAll(async () => {
  for (const seed of SEEDS) {
    const path = `/api/v1/runs/${seed.runId}`;
    const put = await call("PUT", `${path}?start_time=${seed.start}`, { token: ADMIN_TOKEN, body: seed.config ?? {} });
    expect(put.status).toBe(201);
    if (seed.metrics) expect((await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: seed.metrics })).status).toBe(200);
    if (seed.end) expect((await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { ...seed.end, end_time: seed.start + 500 } })).status).toBe(200);
  }
});

const get = (path: string, headers: Record<string, string> = {}) => call("GET", path, { headers });

describe("GET /api/v1/runs", () => {
  it("lists the latest attempt of each run id, newest first, as RunSummary", async () => {
    const body = (await get("/api/v1/runs")).json;
    expect(body.runs.map((r: any) => [r.run_id, r.attempt])).toEqual([
      ["set_03/student_evaluation", 1],
      ["hcrl_sa/student_curriculum_kd", 1],
      ["set_02/teacher_evaluation", 2],
      ["set_01/student_evaluation_kd", 1],
      ["set_01/teacher_evaluation", 1],
      ["hcrl_sa/student_evaluation_kd", 1],
      ["hcrl_sa/teacher_evaluation", 1],
    ]);
    expect(body.next_page_token).toBeUndefined();
    const failed = body.runs[1];
    expect(failed).toEqual({
      run_id: "hcrl_sa/student_curriculum_kd",
      mlflow_run_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      experiment: "kd-gat-pipeline",
      dataset: "hcrl_sa",
      model_size: "student",
      stage: "curriculum",
      kd: true,
      status: "FAILED",
      start_time: 7000,
      end_time: 7500,
      attempt: 1,
      teacher_run_id: "hcrl_sa/teacher_curriculum",
      error_msg: 'bad, "quoted"\nline',
    });
    expect(body.runs[2]).toMatchObject({ status: "RUNNING", end_time: null, teacher_run_id: null, error_msg: null });
  });

  it("filters by dataset, stage, size, kd and status", async () => {
    const ids = async (query: string) => (await get(`/api/v1/runs?${query}`)).json.runs.map((r: any) => r.run_id);
    expect(await ids("dataset=hcrl_sa")).toEqual(["hcrl_sa/student_curriculum_kd", "hcrl_sa/student_evaluation_kd", "hcrl_sa/teacher_evaluation"]);
    expect(await ids("stage=curriculum")).toEqual(["hcrl_sa/student_curriculum_kd"]);
    expect(await ids("size=student&kd=false")).toEqual(["set_03/student_evaluation"]);
    expect(await ids("kd=true&dataset=set_01")).toEqual(["set_01/student_evaluation_kd"]);
    expect(await ids("status=RUNNING")).toEqual(["set_02/teacher_evaluation"]);
    expect(await ids("experiment=no-such-experiment")).toEqual([]);
  });

  it("pages with an opaque token until the list is complete", async () => {
    const all = (await get("/api/v1/runs")).json.runs.map((r: any) => r.run_id);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const body = (await get(`/api/v1/runs?limit=3${token ? `&page_token=${encodeURIComponent(token)}` : ""}`)).json;
      expect(body.runs.length).toBeLessThanOrEqual(3);
      seen.push(...body.runs.map((r: any) => r.run_id));
      token = body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
  });

  it("exports the list as CSV with proper quoting, at ?format=csv and /runs.csv", async () => {
    for (const path of ["/api/v1/runs?format=csv&dataset=hcrl_sa", "/api/v1/runs.csv?dataset=hcrl_sa"]) {
      const response = await get(path);
      expect(response.headers.get("Content-Type")).toMatch(/^text\/csv/);
      const text = response.text;
      const lines = text.split("\r\n");
      expect(lines[0]).toBe("run_id,mlflow_run_id,experiment,dataset,model_size,stage,kd,status,start_time,end_time,attempt,teacher_run_id,error_msg");
      expect(text).toContain(',FAILED,7000,7500,1,hcrl_sa/teacher_curriculum,"bad, ""quoted""\nline"\r\n');
      expect(lines.at(-2)).toMatch(/^hcrl_sa\/teacher_evaluation,[0-9a-f]{32},kd-gat-pipeline,hcrl_sa,teacher,evaluation,false,FINISHED,1000,1500,1,,$/);
    }
    const paged = await get("/api/v1/runs.csv?limit=2");
    expect(paged.headers.get("X-Next-Page-Token")).toBeTruthy();
  });

  const badQueries = [
    "kd=maybe",
    "status=DONE",
    "limit=0",
    "limit=1001",
    "limit=ten",
    "colour=red",
    "stage=a/b",
    "page_token=garbage",
    `page_token=${btoa(JSON.stringify([1, "not-a-uuid"]))}`,
    "format=xml",
    "dataset=a&dataset=b",
  ];
  for (const query of badQueries) {
    it(`answers ?${query} with 400 in MLflow's shape`, async () => {
      const response = await get(`/api/v1/runs?${query}`);
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.any(String) });
    });
  }
});

describe("GET /api/v1/runs/{dataset}/{name}", () => {
  it("returns the run with params, tags, latest metrics, attempts and students", async () => {
    const body = (await get("/api/v1/runs/hcrl_sa/teacher_evaluation")).json;
    expect(body.run).toMatchObject({ run_id: "hcrl_sa/teacher_evaluation", status: "FINISHED", attempt: 1 });
    expect(body.metrics.gat_f1).toEqual({ value: 0.95, step: 0, timestamp: 1000 });
    expect(body.metric_keys).toEqual(["gat_f1", "val_loss"]);
    expect(body.tags).toMatchObject({ dataset: "hcrl_sa", stage: "evaluation", status: "complete" });
    expect(body.params).toEqual({});
    expect(body.students).toEqual(["hcrl_sa/student_evaluation_kd"]);
    expect(body.attempts).toHaveLength(1);

    const student = (await get("/api/v1/runs/hcrl_sa/student_evaluation_kd")).json;
    expect(student.params).toEqual({ use_kd: "True", teacher_path: "experimentruns/hcrl_sa/teacher_evaluation/best_model.pt" });
    expect(student.run.teacher_run_id).toBe("hcrl_sa/teacher_evaluation");
  });

  it("lists every attempt oldest first, and serves an older one with ?attempt=", async () => {
    const body = (await get("/api/v1/runs/set_02/teacher_evaluation")).json;
    expect(body.attempts.map((a: any) => [a.attempt, a.status, a.start_time, a.end_time])).toEqual([
      [1, "FINISHED", 5000, 5500],
      [2, "RUNNING", 6000, null],
    ]);
    expect(body.run.attempt).toBe(2);
    expect(body.metrics).toEqual({});
    const first = (await get("/api/v1/runs/set_02/teacher_evaluation?attempt=1")).json;
    expect(first.run).toMatchObject({ attempt: 1, status: "FINISHED" });
    expect(first.metrics.gat_f1.value).toBe(0.99);
  });

  it("serves a metric history whose key holds '/' and '.'", async () => {
    const body = (await get("/api/v1/runs/hcrl_sa/student_curriculum_kd/metrics/val/loss.x")).json;
    expect(body).toMatchObject({ run_id: "hcrl_sa/student_curriculum_kd", key: "val/loss.x" });
    expect(body.points.map((p: any) => [p.step, p.value])).toEqual([
      [1, 0.6],
      [2, 0.4],
    ]);
    const nan = (await get("/api/v1/runs/set_01/student_evaluation_kd/metrics/gat_f1")).json;
    expect(nan.points).toEqual([{ step: 0, timestamp: 4000, value: "NaN" }]);
    expect((await get("/api/v1/runs/set_02/teacher_evaluation/metrics/gat_f1?attempt=2")).json.points).toEqual([]);
  });

  it("answers unknown runs and attempts with 404, bad ids and keys with 400", async () => {
    for (const [path, status] of [
      ["/api/v1/runs/hcrl_sa/nobody_evaluation", 404],
      ["/api/v1/runs/set_02/teacher_evaluation?attempt=3", 404],
      ["/api/v1/runs/hcrl_sa/teacher_evaluation?experiment=nope", 404],
      ["/api/v1/runs/hcrl_sa/nobody_evaluation/metrics/gat_f1", 404],
      ["/api/v1/runs/hcrl%20sa/teacher_evaluation", 400],
      ["/api/v1/runs/hcrl_sa/-x", 400],
      ["/api/v1/runs/hcrl_sa/teacher_evaluation/metrics/a..b", 400],
      ["/api/v1/runs/hcrl_sa/teacher_evaluation?attempt=x", 400],
    ] as const) {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, status]);
      expect(response.json.error_code).toBe(status === 404 ? "RESOURCE_DOES_NOT_EXIST" : "INVALID_PARAMETER_VALUE");
    }
  });
});

describe("caching and CORS", () => {
  it("sends a short public Cache-Control and an ETag that answers 304", async () => {
    const first = await get("/api/v1/leaderboard");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=30");
    const tag = first.headers.get("ETag");
    expect(tag).toMatch(/^"/);
    const again = await get("/api/v1/leaderboard", { "If-None-Match": tag! });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
  });

  it("opens CORS to reads only", async () => {
    const read = await get("/api/v1/runs", { Origin: "https://example.org" });
    expect(read.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const preflight = await call("OPTIONS", "/api/v1/runs/set_01/teacher_normal", {
      headers: { Origin: "https://example.org", "Access-Control-Request-Method": "PUT" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBeNull();
    const write = await call("PUT", "/api/v1/runs/set_01/teacher_normal", { headers: { Origin: "https://example.org" }, body: "{}" });
    expect(write.status).toBe(401);
    expect(write.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(write.headers.get("Cache-Control")).toBeNull();
  });
});

describe("rankings", () => {
  it("ranks the latest FINISHED evaluation runs by gat_f1, best first, leaving NaN out", async () => {
    const body = (await get("/api/v1/leaderboard")).json;
    expect(body).toMatchObject({ metric: "gat_f1", direction: "desc", stage: "evaluation", dataset: null });
    expect(body.entries.map((e: any) => [e.rank, e.run.run_id, e.value])).toEqual([
      [1, "hcrl_sa/student_evaluation_kd", 0.97],
      [2, "hcrl_sa/teacher_evaluation", 0.95],
      [3, "set_01/teacher_evaluation", 0.9],
      [4, "set_03/student_evaluation", 0.8],
    ]);
    const top = (await get("/api/v1/leaderboard?top=2&dataset=hcrl_sa")).json;
    expect(top.entries.map((e: any) => e.run.run_id)).toEqual(["hcrl_sa/student_evaluation_kd", "hcrl_sa/teacher_evaluation"]);
    expect(top.dataset).toBe("hcrl_sa");
  });

  it("gives equal values the same rank", async () => {
    for (const [runId, f1] of [
      ["a/teacher_evaluation", 0.9],
      ["b/teacher_evaluation", 0.9],
      ["c/teacher_evaluation", 0.8],
      ["d/teacher_evaluation", 0.95],
    ] as const) {
      await call("PUT", `/api/v1/runs/${runId}?experiment=ties`, { token: ADMIN_TOKEN, body: {} });
      await call("POST", `/api/v1/runs/${runId}/metrics?experiment=ties`, { token: ADMIN_TOKEN, body: { step: 0, metrics: { gat_f1: f1 } } });
      await call("POST", `/api/v1/runs/${runId}/end?experiment=ties`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } });
    }
    const body = (await get("/api/v1/leaderboard?experiment=ties")).json;
    expect(body.entries.map((e: any) => [e.rank, e.value])).toEqual([
      [1, 0.95],
      [2, 0.9],
      [2, 0.9],
      [4, 0.8],
    ]);
  });

  it("ranks loss-like metrics ascending", async () => {
    const body = (await get("/api/v1/leaderboard?metric=val_loss")).json;
    expect(body.direction).toBe("asc");
    expect(body.entries.map((e: any) => e.value)).toEqual([0.2, 0.3, 0.5]);
    expect((await get("/api/v1/leaderboard?stage=curriculum")).json.entries).toEqual([]);
  });

  it("compares two groups per dataset with b - a", async () => {
    const body = (await get("/api/v1/compare?a=teacher&b=student_kd")).json;
    expect(body).toMatchObject({ metric: "gat_f1", direction: "desc", stage: "evaluation", a: "teacher", b: "student_kd" });
    expect(body.datasets).toHaveLength(2);
    const [hcrl, set01] = body.datasets;
    expect(hcrl).toMatchObject({ dataset: "hcrl_sa", a: { run_id: "hcrl_sa/teacher_evaluation", value: 0.95 }, b: { run_id: "hcrl_sa/student_evaluation_kd", value: 0.97 } });
    expect(hcrl.delta).toBeCloseTo(0.02, 12);
    expect(set01).toEqual({ dataset: "set_01", a: { run_id: "set_01/teacher_evaluation", value: 0.9 }, b: { run_id: "set_01/student_evaluation_kd", value: "NaN" }, delta: null });
    const students = (await get("/api/v1/compare?a=student&b=student_kd")).json;
    expect(students.datasets.map((d: any) => [d.dataset, d.a?.value ?? null, d.b?.value ?? null, d.delta])).toEqual([
      ["hcrl_sa", null, 0.97, null],
      ["set_01", null, "NaN", null],
      ["set_03", 0.8, null, null],
    ]);
  });

  it("summarises the latest attempts", async () => {
    const body = (await get("/api/v1/summary")).json;
    expect(body).toMatchObject({
      total: 7,
      by_dataset: { hcrl_sa: 3, set_01: 2, set_02: 1, set_03: 1 },
      by_stage: { evaluation: 6, curriculum: 1 },
      by_status: { FINISHED: 5, RUNNING: 1, FAILED: 1 },
    });
    expect(body.generated_at).toBeGreaterThan(1_700_000_000_000);
    expect((await get("/api/v1/summary?experiment=none")).json.total).toBe(0);
  });

  for (const query of [
    "/leaderboard?top=0",
    "/leaderboard?top=1001",
    "/leaderboard?metric=a..b",
    "/leaderboard?sort=up",
    "/compare?a=teacher&b=teacher",
    "/compare?a=te/acher",
    "/summary?x=1",
  ]) {
    it(`answers ${query} with 400`, async () => {
      const response = await get(`/api/v1${query}`);
      expect(response.status).toBe(400);
      expect(response.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    });
  }
});
