/** Progress on stderr: a bar on a terminal, a quiet line every 10% otherwise (logs, SLURM). */
import { createRequire } from "node:module";
import type cliProgressModule from "cli-progress";

// Loaded only for a terminal: logs and the many short non-interactive runs skip its start-up cost.
const loadCliProgress = () => createRequire(import.meta.url)("cli-progress") as typeof cliProgressModule;

export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

export function startProgress(label: string, total: number): Progress {
  if (total === 0) return { increment() {}, stop() {} };
  if (process.stderr.isTTY) {
    const cliProgress = loadCliProgress();
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { increment: (by = 1) => bar.increment(by), stop: () => bar.stop() };
  }
  let done = 0;
  let reported = 0;
  return {
    increment(by = 1) {
      done += by;
      const tenth = Math.floor((done * 10) / total);
      if (tenth > reported) {
        reported = tenth;
        process.stderr.write(`${label}: ${done}/${total}\n`);
      }
    },
    stop() {},
  };
}
