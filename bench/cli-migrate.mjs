// Benchmark of `kdgat migrate` on a generated tree of old-layout runs (default 10,000, a few small
// files each): wall time and peak memory (maxRSS from /usr/bin/time -v) of --dry-run, --execute
// (journal included) and --rollback; with --cycles N, N rounds of --execute + --rollback, each
// rollback's time and the bytes migrate leaves in the root (journal, lock) after each round, which
// must stay flat. Builds the CLI first. Usage:
//   node bench/cli-migrate.mjs [--runs 10000] [--cycles 1] [--keep]
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback);
const runCount = option("--runs", 10_000);
const cycles = option("--cycles", 1);
const STAGES = [
  ["unsupervised", "vgae", "autoencoder"],
  ["supervised", "gat", "curriculum"],
  ["supervised", "gat", "normal"],
  ["rl_fusion", "dqn", "fusion"],
  ["evaluation", "eval", "evaluation"],
];
const KINDS = [
  ["teacher", "no_distillation"],
  ["student", "no_distillation"],
  ["student", "distilled"],
];

function generate(root, count) {
  const config = JSON.stringify({ dataset: "x", model_size: "teacher", seed: 42, lr: 0.001, max_epochs: 300, vgae_hidden_dims: [1024, 512, 96] }, null, 2);
  const csv = "epoch,step,train_loss,val_loss\n0,10,0.5,0.6\n1,20,0.4,0.5\n";
  const perDataset = STAGES.length * KINDS.length;
  for (let i = 0; i < count; i++) {
    const dataset = `ds_${String(Math.floor(i / perDataset)).padStart(4, "0")}`;
    const [learningType, arch, mode] = STAGES[i % STAGES.length];
    const [size, distill] = KINDS[Math.floor(i / STAGES.length) % KINDS.length];
    const dir = join(root, "automotive", dataset, size, learningType, arch, distill, mode);
    mkdirSync(join(dir, "lightning_logs", "version_0"), { recursive: true });
    writeFileSync(join(dir, "config.json"), config);
    writeFileSync(join(dir, "slurm.out"), `run ${i}\n`);
    writeFileSync(join(dir, "best_model.pt"), Buffer.alloc(1024, i % 251));
    writeFileSync(join(dir, "lightning_logs", "version_0", "metrics.csv"), csv);
    utimesSync(join(dir, "config.json"), 1_767_225_600 + i, 1_767_225_600 + i);
  }
}

function timed(label, cliArgs) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-v", process.execPath, join(ROOT, "dist", "cli", "kdgat.js"), ...cliArgs], { encoding: "utf8", maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const maxRssKb = Number(result.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1]);
  const summary = result.stdout.match(/Summary: .*/)?.[0] ?? result.stdout.slice(-300);
  if (result.status !== 0) throw new Error(`${label} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
  return { label, seconds: Number(seconds.toFixed(2)), maxRssMb: Number((maxRssKb / 1024).toFixed(1)), summary };
}

const build = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.cli.json"], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) process.exit(1);
const base = mkdtempSync(join(tmpdir(), "kdgat-bench-migrate-"));
const root = join(base, "experimentruns");
try {
  const generating = Date.now();
  generate(root, runCount);
  console.log(`generated ${runCount} old-layout runs (4 files each) in ${((Date.now() - generating) / 1000).toFixed(1)} s under ${root}`);
  const leftBytes = () =>
    readdirSync(root)
      .filter((name) => name.startsWith(".kdgat-migrate"))
      .reduce((sum, name) => sum + lstatSync(join(root, name)).size, 0);
  const results = [timed("migrate --dry-run", ["migrate", "--root", root, "--dry-run"])];
  const rounds = [];
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const suffix = cycles > 1 ? ` #${cycle}` : "";
    const executed = timed(`migrate --execute${suffix}`, ["migrate", "--root", root, "--execute"]);
    const journalBytes = leftBytes();
    const rolledBack = timed(`migrate --rollback${suffix}`, ["migrate", "--root", root, "--rollback"]);
    results.push(executed, rolledBack);
    rounds.push({ cycle, execute_s: executed.seconds, journal_bytes: journalBytes, rollback_s: rolledBack.seconds, left_after_rollback_bytes: leftBytes() });
  }
  for (const r of results) console.log(`${r.label.padEnd(24)} ${String(r.seconds).padStart(6)} s   maxRSS ${String(r.maxRssMb).padStart(6)} MB   ${r.summary}`);
  if (cycles > 1)
    for (const r of rounds) console.log(`cycle ${r.cycle}: journal ${r.journal_bytes} bytes, rollback ${r.rollback_s} s, left in the root after it: ${r.left_after_rollback_bytes} bytes`);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench", "results", "cli-migrate.json"),
    `${JSON.stringify({ runs: runCount, cycles, node: process.version, results, ...(cycles > 1 ? { rounds } : {}) }, null, 2)}\n`,
  );
} finally {
  if (!args.includes("--keep")) rmSync(base, { recursive: true, force: true });
}
