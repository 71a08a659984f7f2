// Starting and stopping the Worker for a benchmark: a throw-away local D1 under a temp directory,
// the admin token set, and the server always stopped (also on errors and on Ctrl-C).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_TOKEN } from "../../scripts/admin-token.mjs";
import { startLocalServer } from "../../scripts/local-server.mjs";

/** Vars for every benchmark server (the write rate limit stays as wrangler.toml sets it). */
export const BENCH_VARS = { ADMIN_TOKEN };
/** The admin token the benchmark servers hold (scripts/admin-token.mjs). */
export { ADMIN_TOKEN };

/** A fresh temp directory for a local D1 (removed by the caller with removeDir). */
export function tempStateDir(label) {
  return mkdtempSync(join(tmpdir(), `kdgat-bench-${label}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

const running = new Set();
let handlersInstalled = false;
function installSignalHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, async () => {
      await Promise.allSettled([...running].map((server) => server.stop()));
      process.exit(130);
    });
  }
}

/**
 * Runs fn(server) against a started `wrangler dev` ({url, stop, ...}) and stops the server afterwards,
 * whatever happens. options: persistTo (default a fresh temp dir, removed afterwards), vars, port
 * (default a free one), inspectorPort, config (another Worker's wrangler.toml; default the tracker's).
 * @template T
 * @param {{persistTo?: string, vars?: Record<string,string>, label?: string, port?: number, inspectorPort?: number, config?: string}} options
 * @param {(server: {url: string, persistTo: string, reloads: () => number}) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withServer(options, fn) {
  installSignalHandlers();
  const ownDir = !options.persistTo;
  const persistTo = options.persistTo ?? tempStateDir(options.label ?? "db");
  let server;
  // wrangler's debug log goes next to the database, so that reloads during a run can be counted.
  const previousLogPath = process.env.WRANGLER_LOG_PATH;
  const logDir = join(persistTo, "wrangler-logs");
  process.env.WRANGLER_LOG_PATH = logDir;
  try {
    // The benchmarks read far more than one address's public budget in a minute; they measure speed.
    server = await startLocalServer({
      persistTo,
      port: options.port,
      vars: { ...BENCH_VARS, ...options.vars },
      publicReadLimit: 10_000_000,
      inspectorPort: options.inspectorPort,
      config: options.config,
    });
    running.add(server);
    return await fn({ ...server, reloads: () => countReloads(logDir) });
  } finally {
    if (previousLogPath === undefined) delete process.env.WRANGLER_LOG_PATH;
    else process.env.WRANGLER_LOG_PATH = previousLogPath;
    if (server) {
      await server.stop();
      running.delete(server);
    }
    if (ownDir) removeDir(persistTo);
  }
}

/**
 * How many times wrangler reloaded the Worker so far (it watches the sources and the assets directory
 * dist/site, so another engineer's build can restart it mid-run; requests with a body in flight then
 * get a 503 TEMPORARILY_UNAVAILABLE from scripts/worker-front.mjs).
 */
function countReloads(logDir) {
  let count = 0;
  try {
    for (const file of readdirSync(logDir)) count += readFileSync(join(logDir, file), "utf8").split("Reloading local server").length - 1;
  } catch {}
  return count;
}

/**
 * CPU seconds used so far by the processes of the server whose local D1 is under persistTo (the
 * wrangler Node process and the workerd it runs), by command name, read from /proc (Linux only).
 * Sampled before and after a load phase, it shows where the server's CPU goes.
 * @returns {Record<string, number>}
 */
export function serverCpuSeconds(persistTo) {
  const byName = {};
  for (const p of serverProcesses(persistTo)) byName[p.comm] = (byName[p.comm] ?? 0) + p.cpu;
  return byName;
}

/**
 * A /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) file read: the command name, the process
 * group and the user + system CPU seconds. The name is in parentheses and may hold spaces, so the
 * fields are counted from the last ")".
 */
export function readProcStat(path) {
  const stat = readFileSync(path, "utf8");
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" "); // fields[0] is state (field 3)
  return { comm: stat.slice(stat.indexOf("(") + 1, close), pgid: fields[2], cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** The processes of the server whose local D1 is under persistTo: pid, command name, CPU seconds (Linux /proc). */
export function serverProcesses(persistTo) {
  const stats = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      stats.push({ pid, ...readProcStat(`/proc/${pid}/stat`) });
    } catch {}
  }
  const leader = stats.find((p) => {
    try {
      return p.pid === p.pgid && readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(persistTo);
    } catch {
      return false;
    }
  });
  return stats.filter((p) => leader && p.pgid === leader.pgid);
}

/** The difference of two serverCpuSeconds samples. */
export function cpuDelta(before, after) {
  return Object.fromEntries(Object.keys(after).map((name) => [name, Number((after[name] - (before[name] ?? 0)).toFixed(2))]));
}
