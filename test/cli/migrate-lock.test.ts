/**
 * The `kdgat migrate` lock under contention: many real processes start at the same moment on a
 * root with a stale lock (its holder dead) and each tries until it has held the lock once; every
 * holder "dies" holding it, so each hand-over is a stale-lock takeover raced by all the processes
 * still waiting. Each holder records its hold interval: no two may overlap. Repeated over many
 * trials (the same processes, one fresh root per trial).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "./support/cli.js";

const HOLDER = join(ROOT, "test", "cli", "support", "lock-holder.mjs");
const PROCESSES = 8;
const TRIALS = 30;
const HOLD_MS = 5;
const PERIOD_MS = 250;
const base = mkdtempSync(join(tmpdir(), "kdgat-lock-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function racer(config: object): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOLDER, JSON.stringify(config)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

it(`${PROCESSES} processes racing for a stale lock, ${TRIALS} times: never two holders`, async () => {
  // A pid that surely is not alive: a process that has exited (and was reaped).
  const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!;
  const roots = Array.from({ length: TRIALS }, (_, trial) => join(base, `root-${trial}`));
  for (const root of roots) {
    mkdirSync(root);
    writeFileSync(join(root, ".kdgat-migrate.lock"), JSON.stringify({ pid: deadPid, host: hostname(), started: "2026-01-01T00:00:00.000Z" }));
  }
  const names = Array.from({ length: PROCESSES }, (_, i) => `racer-${i}`);
  const config = { roots, startAtMs: Date.now() + 1_500, periodMs: PERIOD_MS, holdMs: HOLD_MS, deadPid };
  const outcomes = await Promise.all(names.map((name) => racer({ ...config, name })));
  for (const outcome of outcomes) expect(outcome, "every racer held the lock once in every trial").toEqual({ code: 0, stderr: "" });

  roots.forEach((root, trial) => {
    const intervals = names
      .map((name) => JSON.parse(readFileSync(join(root, `hold-${name}.json`), "utf8")) as { start: string; end: string })
      .map(({ start, end }) => ({ start: BigInt(start), end: BigInt(end) }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < intervals.length; i++) {
      expect(intervals[i].start > intervals[i - 1].end, `trial ${trial}: two holders at once`).toBe(true);
    }
  });
}, 60_000);
