// MLflow 2.17.2's own tracking server (../shared/mlflow-client/serve.sh), run beside ours so that a
// bench compares both in the same run.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./report.mjs";

/** serve.sh beside the checkout, else at the workplace's shared path; undefined when neither exists. */
export const MLFLOW_SERVE = [join(BENCH_DIR, "..", "..", "..", "shared", "mlflow-client", "serve.sh"), "/work/shared/mlflow-client/serve.sh"].find((path) => existsSync(path));

/**
 * Starts MLflow's server on `port` and waits (up to 2 minutes) for its /health. Answers its URL, the
 * process group's pid and `stop` (also run on Ctrl-C), or undefined when serve.sh is absent.
 */
export async function startMlflow(port) {
  if (!MLFLOW_SERVE) return undefined;
  const child = spawn("sh", [MLFLOW_SERVE, String(port)], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr.on("data", (chunk) => (output = (output + chunk).slice(-5_000)));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.prependOnceListener(signal, stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`MLflow's server exited:\n${output}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok) return { url, stop, pid: child.pid };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  stop();
  throw new Error(`MLflow's server did not answer on ${url}:\n${output}`);
}
