// Benchmark of `kdgat backfill` against a real local tracker (wrangler dev + a fresh local D1):
// N new-layout runs (default 1,000), each with the real 80-field config.json fixture and a
// Lightning metrics.csv of 300 epochs x 4 metrics. Reports wall time, then re-runs the backfill
// (idempotent: nothing is sent). Usage: node bench/cli-backfill.mjs [--runs 1000]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_TOKEN } from "../scripts/admin-token.mjs";
import { ROOT, startLocalServer } from "../scripts/local-server.mjs";

const args = process.argv.slice(2);
const runCount = Number(args[args.indexOf("--runs") + 1] || 1000) || 1000;
const STAGES = ["autoencoder", "curriculum", "normal", "fusion", "evaluation"];
const config = readFileSync(join(ROOT, "test", "fixtures", "student_curriculum_kd_config.json"), "utf8");

function metricsCsv(epochs) {
  const rows = ["epoch,step,train_loss,val_loss,train_acc,val_acc"];
  for (let e = 0; e < epochs; e++)
    rows.push(`${e},${(e + 1) * 100},${(1 / (e + 2)).toFixed(6)},${(1.1 / (e + 2)).toFixed(6)},${(1 - 1 / (e + 2)).toFixed(6)},${(0.98 - 1 / (e + 2)).toFixed(6)}`);
  return `${rows.join("\n")}\n`;
}

function generate(root, count) {
  const csv = metricsCsv(300);
  for (let i = 0; i < count; i++) {
    const dir = join(
      root,
      `ds_${String(Math.floor(i / 15)).padStart(3, "0")}`,
      `${["teacher", "student", "student"][Math.floor(i / 5) % 3]}_${STAGES[i % 5]}${Math.floor(i / 5) % 3 === 2 ? "_kd" : ""}`,
    );
    mkdirSync(join(dir, "lightning_logs", "version_0"), { recursive: true });
    writeFileSync(join(dir, "config.json"), config);
    writeFileSync(join(dir, "lightning_logs", "version_0", "metrics.csv"), csv);
    const t = 1_767_225_600 + i * 3600;
    utimesSync(join(dir, "config.json"), t, t);
    utimesSync(join(dir, "lightning_logs", "version_0", "metrics.csv"), t + 1800, t + 1800);
  }
}

function backfill(root, url, token) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-v", process.execPath, join(ROOT, "dist", "cli", "kdgat.js"), "backfill", "--root", root, "--api", url, "--token", token], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`backfill failed (${result.status}):\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  const maxRssMb = Number(result.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1]) / 1024;
  return { seconds: Number(seconds.toFixed(1)), maxRssMb: Number(maxRssMb.toFixed(1)), summary: result.stdout.match(/Backfill: .*/)?.[0] };
}

const build = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.cli.json"], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) process.exit(1);
const base = mkdtempSync(join(tmpdir(), "kdgat-bench-backfill-"));
const root = join(base, "experimentruns");
const server = await startLocalServer({ persistTo: join(base, "d1"), vars: { ADMIN_TOKEN } });
try {
  generate(root, runCount);
  const minted = await fetch(`${server.url}/api/v1/tokens`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ name: "bench" }) });
  const { token } = await minted.json();
  const first = backfill(root, server.url, token);
  console.log(`backfill of ${runCount} runs (80 params, 300 epochs x 4 metrics): ${first.seconds} s, maxRSS ${first.maxRssMb} MB   ${first.summary}`);
  const second = backfill(root, server.url, token);
  console.log(`second backfill (nothing to send):              ${second.seconds} s   ${second.summary}`);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "cli-backfill.json"), `${JSON.stringify({ runs: runCount, first, second }, null, 2)}\n`);
} finally {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
}
