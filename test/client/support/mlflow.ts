/**
 * The real MLflow 2.17.2 Python client (and server) for the `client` test project.
 *
 * Python: `$KDGAT_PYTHON`, default Debian's `/usr/bin/python3`. Its `PYTHONPATH`:
 * `$KDGAT_MLFLOW_PYTHONPATH`, else `../shared/mlflow-client/site` beside the repository (what
 * `../shared/mlflow-client/setup.sh` prints), else none (a `pip install mlflow==2.17.2`).
 * When `import mlflow` fails or is not 2.17.2, `clientMissing` says why and the tests skip.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { callServer } from "../../support/call.js";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const PY_DIR = join(ROOT, "test", "client", "py");
export const MLFLOW_VERSION = "2.17.2";

const python = process.env.KDGAT_PYTHON || "/usr/bin/python3";
const pythonPath = (() => {
  if (process.env.KDGAT_MLFLOW_PYTHONPATH !== undefined) return process.env.KDGAT_MLFLOW_PYTHONPATH;
  const beside = resolve(ROOT, "..", "shared", "mlflow-client", "site");
  return existsSync(beside) ? beside : "";
})();

/**
 * Compiled modules go here, never beside the sources (../shared is read-only and shared): without a
 * bytecode cache each Python start compiles mlflow's sources again, ~0.5 s CPU per script.
 */
const BYTECODE_CACHE = join(ROOT, "node_modules", ".cache", "kdgat-pycache");

function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: pythonPath, PYTHONPYCACHEPREFIX: BYTECODE_CACHE, ...extra };
  delete env.PYTHONDONTWRITEBYTECODE;
  // Whatever the shell that runs the tests points MLflow at, the scripts get only what a test gives them.
  for (const name of Object.keys(env)) if (name.startsWith("MLFLOW_") && !(name in extra)) delete env[name];
  return env;
}

/** Why the real client cannot run here (a skip reason), or "" when it can. */
export const clientMissing: string = (() => {
  const probe = spawnSync(python, ["-c", "import mlflow, sys; sys.stdout.write(mlflow.__version__)"], {
    env: pythonEnv(),
    encoding: "utf8",
    timeout: 60_000,
  });
  if (probe.error) return `the MLflow client cannot run: ${python} (${probe.error.message}); set KDGAT_PYTHON`;
  if (probe.status !== 0) {
    return `the MLflow ${MLFLOW_VERSION} client is not importable by ${python} with PYTHONPATH=${pythonPath || "(none)"}: run ../shared/mlflow-client/setup.sh or set KDGAT_MLFLOW_PYTHONPATH / KDGAT_PYTHON to a pip install mlflow==${MLFLOW_VERSION}`;
  }
  if (probe.stdout.trim() !== MLFLOW_VERSION) return `found MLflow ${probe.stdout.trim()}, these tests need ${MLFLOW_VERSION}`;
  return "";
})();

/** Whether a Python module is importable next to mlflow (matplotlib, PIL are optional). */
export function hasPythonModule(name: string): boolean {
  if (clientMissing) return false;
  return spawnSync(python, ["-c", `import ${name}`], { env: pythonEnv(), timeout: 60_000 }).status === 0;
}

export interface Target {
  /** "kdgat" or "mlflow", for messages. */
  name: string;
  url: string;
  /** A write token (ours); MLflow's server takes any. */
  token: string;
}

export interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON object the script printed as its last line. */
  json: unknown;
}

/** Runs test/client/py/<script> against a target; the script prints one JSON document. */
export function runPython(script: string, target: Target, options: { args?: string[]; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<PyResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(python, [join(PY_DIR, script), ...(options.args ?? [])], {
      cwd: options.cwd ?? PY_DIR,
      env: pythonEnv({
        MLFLOW_TRACKING_URI: target.url,
        MLFLOW_TRACKING_TOKEN: target.token,
        // A failing call fails the script at once rather than after minutes of retries.
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0",
        ...options.env,
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").at(-1) ?? "";
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        return reject(new Error(`${script} against ${target.name} printed no JSON (exit ${code}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      }
      if (code !== 0) return reject(new Error(`${script} against ${target.name} exited ${code}:\n${stderr.slice(-4000)}`));
      resolveRun({ code, stdout, stderr, json });
    });
  });
}

export interface MlflowServer {
  url: string;
  /** Its SQLite database, for seeding through MLflow's own SQL store. */
  backendUri: string;
  stop(): Promise<void>;
}

/**
 * MLflow's own tracking server (as ../shared/mlflow-client/serve.sh runs it: SQLite in a fresh
 * temp folder, artifacts proxied to a folder beside it) on 127.0.0.1:port, with the same Python.
 */
export async function startMlflowServer(port: number): Promise<MlflowServer> {
  // In memory where there is a tmpfs: SQLite's syncs on a busy disk made the server several times slower.
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kdgat-mlflow-"));
  const backendUri = `sqlite:///${dir}/mlflow.db`;
  const child = spawn(
    python,
    ["-m", "mlflow", "server", "--backend-store-uri", backendUri, "--artifacts-destination", join(dir, "mlartifacts"), "--host", "127.0.0.1", "--port", String(port), "--workers", "1"],
    { cwd: dir, env: pythonEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output = (output + chunk).slice(-10_000)));
  child.stderr.on("data", (chunk) => (output = (output + chunk).slice(-10_000)));
  let exited = false;
  child.once("exit", () => (exited = true));
  const stop = () =>
    new Promise<void>((resolveStop) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolveStop();
      };
      if (exited) return done();
      child.once("exit", done);
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        return done();
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      }, 5_000).unref();
    });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`MLflow's server exited before it was ready:\n${output}`);
    try {
      if ((await callServer(url, "GET", "/health", { signal: AbortSignal.timeout(1_000) })).status === 200) return { url, backendUri, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`MLflow's server did not answer on ${url} in time:\n${output}`);
}

/**
 * Makes two servers' answers comparable: run uuids, experiment ids, times and hosts become
 * placeholders numbered in order of appearance (so equal structure still compares equal ids).
 */
export function normalise(value: unknown): unknown {
  const uuids = new Map<string, string>();
  const experiments = new Map<string, string>();
  const uuid = (id: string) => {
    if (!uuids.has(id)) uuids.set(id, `<run${uuids.size}>`);
    return uuids.get(id)!;
  };
  const experiment = (id: string) => {
    if (!experiments.has(id)) experiments.set(id, `<exp${experiments.size}>`);
    return experiments.get(id)!;
  };
  const text = (s: string, key: string) => {
    if (/^(experiment_id|experimentId)$/.test(key) && /^\d+$/.test(s)) return experiment(s);
    return s
      .replace(/mlflow-artifacts:\/(\d+)\//g, (_, id: string) => `mlflow-artifacts:/${experiment(id)}/`)
      .replace(/\b[0-9a-f]{32}\b/g, uuid)
      .replace(/https?:\/\/(127\.0\.0\.1|localhost):\d+/g, "<host>");
  };
  const TIME_KEYS = /(^|_)(time|timestamp|start_time|end_time|creation_time|last_update_time)$/;
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === "string") {
      if (TIME_KEYS.test(key) && /^\d{12,}$/.test(v)) return "<time>";
      return text(v, key);
    }
    if (typeof v === "number") return TIME_KEYS.test(key) && v > 1e11 ? "<time>" : v;
    if (Array.isArray(v)) return v.map((item) => walk(item, key));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, item]) => [text(k, ""), walk(item, k)]));
    }
    return v;
  };
  return walk(value, "");
}

/** The title of a describe block: with the skip reason in it when the client is absent. */
export function clientSuite(title: string): string {
  return clientMissing ? `${title} (skipped: ${clientMissing})` : title;
}
if (clientMissing) console.warn(`test/client: skipped: ${clientMissing}`);
