// Races for the `kdgat migrate` lock through the built CLI's lock module, over several trials (one
// root each, started at fixed moments so all racers start together). In each trial it tries until
// it holds the lock (retrying while another process holds it), holds it for a while, writes its
// hold interval (CLOCK_MONOTONIC, shared by all processes) and then "dies holding it": its lock is
// atomically replaced by one of a dead pid, so every hand-over is a stale-lock takeover, contended
// by all the processes still waiting.
//   node lock-holder.mjs '{"roots":[...],"startAtMs":N,"periodMs":N,"holdMs":N,"deadPid":N,"name":"..."}'
// Writes ROOT/hold-NAME.json in each root.
import { renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ConfinedRoot } from "../../../dist/cli/migrate/confine.js";
import { acquireLock, LOCK_FILE } from "../../../dist/cli/migrate/lock.js";

const { roots, startAtMs, periodMs, holdMs, deadPid, name } = JSON.parse(process.argv[2]);
const GIVE_UP_MS = 20_000;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));

roots.forEach((root, trial) => {
  const startAt = startAtMs + trial * periodMs;
  sleep(startAt - Date.now());
  for (;;) {
    try {
      acquireLock(new ConfinedRoot(root));
      break;
    } catch (error) {
      if (!error.message.includes("another kdgat migrate") || Date.now() > startAt + GIVE_UP_MS) throw error;
      sleep(1);
    }
  }
  const start = process.hrtime.bigint();
  sleep(holdMs);
  const end = process.hrtime.bigint();
  writeFileSync(join(root, `hold-${name}.json`), JSON.stringify({ start: String(start), end: String(end) }));
  const stale = join(root, `stale-${name}`);
  writeFileSync(stale, JSON.stringify({ pid: deadPid, host: hostname(), started: new Date().toISOString() }));
  renameSync(stale, join(root, LOCK_FILE));
});
