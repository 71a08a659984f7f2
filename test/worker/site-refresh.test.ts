/**
 * The live site in production: writes that change what the site shows mark it stale in D1, and the
 * Cron Trigger's `scheduled` handler calls the deploy hook (here a real local HTTP endpoint,
 * test/support/deploy-hook.mjs) once per burst of changes, never without one, with at most one build
 * in flight. Ticks are the real handler called with chosen scheduled times and Worker versions.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../functions/index";
import { SITE_BUILD_POLICY } from "../../functions/site/refresh";
import { ADMIN_TOKEN, call } from "./support/call";

const SECOND = 1000;
let runCounter = 0;

/** One cron tick `afterMs` from now (or at `at`) on Worker version `version`, with the hook at `hook`. */
async function tick(hook: string | undefined, afterMs: number, version = "v1", at = Date.now() + afterMs): Promise<void> {
  const controller = createScheduledController({ scheduledTime: at, cron: "* * * * *" });
  await worker.scheduled(controller, {
    ...env,
    SITE_DEPLOY_HOOK_URL: hook === undefined ? undefined : `${env.TEST_DEPLOY_HOOK}${hook}`,
    CF_VERSION_METADATA: { id: version, tag: "", timestamp: "" },
  });
}

async function hookCalls(hook: string): Promise<number> {
  const response = await fetch(`${env.TEST_DEPLOY_HOOK}${hook}`);
  return ((await response.json()) as { calls: number }).calls;
}

async function siteState(): Promise<{ changed_at: number | null; pending: boolean }> {
  const response = await call("GET", "/api/v1/site/state");
  expect(response.status).toBe(200);
  return response.json;
}

/** A run started and ended through /api/v1: the end is what the site shows. */
async function endedRun(): Promise<string> {
  const path = `/api/v1/runs/hcrl_sa/teacher_stage${++runCounter}`;
  const started = await call("PUT", path, { token: ADMIN_TOKEN, body: { lr: 0.01 } });
  expect(started.status).toBe(201);
  const runId = started.json.run_id as string;
  expect((await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: { step: 0, metrics: { gat_f1: 0.9 } } })).status).toBe(200);
  expect((await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { status: "FINISHED" } })).status).toBe(200);
  return runId;
}

beforeEach(async () => {
  await env.DB.prepare("delete from site_state").run();
});

describe("site stale marker", () => {
  it("is set by a run's end, delete, restore and an import, and not by starting a run or logging metrics", async () => {
    expect(await siteState()).toEqual({ changed_at: null, pending: false });
    const path = "/api/v1/runs/set_01/student_autoencoder";
    const started = await call("PUT", path, { token: ADMIN_TOKEN, body: { lr: 0.02 } });
    const runId = started.json.run_id as string;
    await call("POST", `${path}/metrics`, { token: ADMIN_TOKEN, body: { step: 1, metrics: { val_loss: 0.5 } } });
    expect(await siteState()).toEqual({ changed_at: null, pending: false });

    const before = Date.now();
    await call("POST", `${path}/end`, { token: ADMIN_TOKEN, body: { status: "FAILED", error: "OOM" } });
    const ended = await siteState();
    expect(ended.pending).toBe(true);
    expect(ended.changed_at).toBeGreaterThanOrEqual(before - SECOND);

    for (const route of ["runs/delete", "runs/restore"]) {
      await env.DB.prepare("delete from site_state").run();
      const response = await call("POST", `/api/2.0/mlflow/${route}`, { token: ADMIN_TOKEN, body: { run_id: runId }, headers: { "Content-Type": "application/json" } });
      expect(response.status, route).toBe(200);
      expect((await siteState()).pending, route).toBe(true);
    }

    await env.DB.prepare("delete from site_state").run();
    const page = (await call("GET", "/api/v1/export", { token: ADMIN_TOKEN })).json;
    // An import that adds nothing (every run is already here) leaves the site as it is ...
    expect((await call("POST", "/api/v1/import", { token: ADMIN_TOKEN, body: page })).status).toBe(200);
    expect(await siteState()).toEqual({ changed_at: null, pending: false });
    // ... one that adds a run marks it stale.
    const copy = { ...page, runs: [{ ...page.runs[0], mlflow_run_id: "f".repeat(32), run_name: "set_01/teacher_imported" }] };
    expect((await call("POST", "/api/v1/import", { token: ADMIN_TOKEN, body: copy })).status).toBe(200);
    expect((await siteState()).pending).toBe(true);
  });
});

describe("cron: the deploy hook", () => {
  it("is never called without a change", async () => {
    for (let minute = 0; minute < 5; minute++) await tick("/quiet", minute * 60 * SECOND);
    expect(await hookCalls("/quiet")).toBe(0);
  });

  it("is called once per burst of changes, after the burst", async () => {
    for (let i = 0; i < 3; i++) await endedRun();
    // Still inside the burst (the last change is not quietMs old): no build yet.
    await tick("/burst", 0);
    expect(await hookCalls("/burst")).toBe(0);
    for (let minute = 1; minute <= 4; minute++) await tick("/burst", minute * 60 * SECOND);
    expect(await hookCalls("/burst")).toBe(1);
    expect((await siteState()).pending).toBe(false);
  });

  it("starts no second build while one is in flight; the next burst builds once the deploy is live (another version runs)", async () => {
    await endedRun();
    await tick("/flight", 60 * SECOND, "v1");
    expect(await hookCalls("/flight")).toBe(1);
    // A change while that build runs: pending, but the same version still runs, so the build is in flight.
    await endedRun();
    expect((await siteState()).pending).toBe(true);
    for (let minute = 2; minute <= 5; minute++) await tick("/flight", minute * 60 * SECOND, "v1");
    expect(await hookCalls("/flight")).toBe(1);
    // The build deployed: version v2 runs the next tick, and builds the change made meanwhile, once.
    await tick("/flight", 6 * 60 * SECOND, "v2");
    await tick("/flight", 7 * 60 * SECOND, "v2");
    expect(await hookCalls("/flight")).toBe(2);
    expect((await siteState()).pending).toBe(false);
  });

  it("takes a build that never went live as failed after the lease, and builds again", async () => {
    await endedRun();
    await tick("/lease", 60 * SECOND);
    await endedRun();
    await tick("/lease", SITE_BUILD_POLICY.leaseMs - 60 * SECOND);
    expect(await hookCalls("/lease")).toBe(1);
    await tick("/lease", SITE_BUILD_POLICY.leaseMs + 2 * 60 * SECOND);
    expect(await hookCalls("/lease")).toBe(2);
  });

  it("builds a steady stream of changes at least every maxWait", async () => {
    await endedRun();
    // Changes keep coming (the last one is always fresh), yet the first pending one is maxWait old.
    await tick("/stream", SITE_BUILD_POLICY.quietMs - 10 * SECOND);
    expect(await hookCalls("/stream")).toBe(0);
    await endedRun();
    const state = await env.DB.prepare("select changed_at from site_state").first<{ changed_at: number }>();
    const at = state!.changed_at + SITE_BUILD_POLICY.maxWaitMs + SECOND;
    // Move the newest change up to just before the tick: the burst is not over, the wait is.
    await env.DB.prepare("update site_state set changed_at = ?")
      .bind(at - SECOND)
      .run();
    await tick("/stream", 0, "v1", at);
    expect(await hookCalls("/stream")).toBe(1);
  });

  it("a failed hook call leaves the change pending and the next tick calls again", async () => {
    await endedRun();
    await tick("/fail-once", 60 * SECOND);
    expect(await hookCalls("/fail-once")).toBe(1);
    expect((await siteState()).pending).toBe(true);
    await tick("/fail-once", 2 * 60 * SECOND);
    expect(await hookCalls("/fail-once")).toBe(2);
    // Without a hook configured the tick does nothing and keeps the change.
    await tick(undefined, 3 * 60 * SECOND);
    expect((await siteState()).pending).toBe(true);
  });
});
