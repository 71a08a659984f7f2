/**
 * `npm start`'s live site: the local server (liveSite, as npm start runs it) builds the site by
 * itself, and rebuilds it within seconds of a run ending, with no command run by hand; while it
 * swaps the new build in, every page request gets a complete page.
 */
import { lstatSync, mkdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SITE_DIR } from "../../scripts/live-site.mjs";
import { startTestServer, type TestServer } from "../support/server.js";

/** The first build (a cold builder process) may take this long on this shared 2-core machine. */
const FRESH_WITHIN_MS = 45_000;
/** The issue asks for about 15 s from a run ending to its page; later builds reuse the warm builder. */
const WARM_FRESH_WITHIN_MS = 15_000;

let server: TestServer;
let token: string;

beforeAll(async () => {
  rmSync(SITE_DIR, { recursive: true, force: true });
  server = await startTestServer({ liveSite: true });
  token = await server.mintToken("live-site");
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(SITE_DIR, { recursive: true, force: true });
  mkdirSync(SITE_DIR, { recursive: true });
});

async function status(path: string): Promise<number> {
  return (await server.call("GET", path)).status;
}

async function waitFor(path: string, withinMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < withinMs) {
    if ((await status(path)) === 200) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${path} did not appear within ${withinMs} ms`);
}

async function logRun(runId: string): Promise<void> {
  const base = `/api/v1/runs/${runId}`;
  expect((await server.call("PUT", base, { token, body: { lr: 0.1 } })).status).toBe(201);
  const points = [0, 1, 2].map((step) => ({ step, metrics: { val_loss: 1 / (step + 1) } }));
  expect((await server.call("POST", `${base}/metrics`, { token, body: points })).status).toBe(200);
  expect((await server.call("POST", `${base}/end`, { token, body: { status: "FINISHED" } })).status).toBe(200);
}

describe("live local site", () => {
  test("builds by itself at start, then shows a run that ended within seconds, swapping whole builds in", async () => {
    await waitFor("/", FRESH_WITHIN_MS);
    expect(lstatSync(SITE_DIR).isSymbolicLink()).toBe(true);

    await logRun("hcrl_sa/teacher_autoencoder");
    // Meanwhile, the overview is requested over and over: each answer is a whole page.
    let polling = true;
    const answers: Array<{ status: number; complete: boolean }> = [];
    const poller = (async () => {
      while (polling) {
        const answer = await server.call("GET", "/");
        answers.push({ status: answer.status, complete: answer.text.trimEnd().endsWith("</html>") });
      }
    })();
    const tookMs = await waitFor("/runs/hcrl_sa/teacher_autoencoder/", FRESH_WITHIN_MS);
    polling = false;
    await poller;
    console.log(`live site: a run that ended was on the site after ${(tookMs / 1000).toFixed(1)} s`);
    expect(answers.length).toBeGreaterThan(3);
    expect(answers.filter((a) => a.status !== 200 || !a.complete)).toEqual([]);
    // The page says when its data was taken: after the run ended.
    const page = (await server.call("GET", "/runs/hcrl_sa/teacher_autoencoder/")).text;
    expect(page).toMatch(/Data exported <time datetime="[^"]+"/);

    // The next change is built by the warm builder: on the site within about 15 s.
    await logRun("hcrl_sa/student_autoencoder");
    const warmMs = await waitFor("/runs/hcrl_sa/student_autoencoder/", FRESH_WITHIN_MS);
    console.log(`live site: the next run was on the site after ${(warmMs / 1000).toFixed(1)} s`);
    expect(warmMs).toBeLessThanOrEqual(WARM_FRESH_WITHIN_MS);
  });
});
