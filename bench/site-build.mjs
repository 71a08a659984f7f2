// Site benchmark: builds the static leaderboard from a generated 10,000-run export, written as the
// pages GET /api/v1/export answers (bench/site-snapshot.mjs; SITE_SNAPSHOT=<folder>, read one page at
// a time as a build from the API is), and measures the build time, its peak memory, the compressed
// size of the leaderboard pages, the largest pages and the script every page loads.
//   node bench/site-build.mjs [--runs 10000]
// Rewrites the "Static site" block of bench/README.md; raw figures in bench/results/site-build.json.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { buildSite } from "../scripts/build-site.mjs";
import { BENCH_DIR, environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { fmt } from "./lib/stats.mjs";
import { generateExport } from "./site-snapshot.mjs";

const BUILD_BUDGET_MS = 30_000;
const MEMORY_BUDGET_BYTES = 500 * 1024 * 1024;
/** Runs per page, as GET /api/v1/export pages them (functions/store/export.ts EXPORT_RUNS_PER_PAGE). */
const RUNS_PER_PAGE = 100;
const LEADERBOARD_BUDGET_BYTES = 60 * 1024;
const SCRIPT_BUDGET_BYTES = 15 * 1024;

const runsArg = process.argv.indexOf("--runs");
const runCount = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10_000;
const snapshot = join(BENCH_DIR, "results", `site-snapshot-${runCount}`);
const outDir = join(BENCH_DIR, "results", `site-${runCount}`);

const doc = generateExport(runCount);
rmSync(snapshot, { recursive: true, force: true });
mkdirSync(snapshot, { recursive: true });
let snapshotBytes = 0;
for (let i = 0; i * RUNS_PER_PAGE < doc.runs.length; i++) {
  const page = { ...doc, runs: doc.runs.slice(i * RUNS_PER_PAGE, (i + 1) * RUNS_PER_PAGE) };
  const text = JSON.stringify(page);
  snapshotBytes += Buffer.byteLength(text);
  writeFileSync(join(snapshot, `page-${String(i).padStart(5, "0")}.json`), text);
}
rmSync(outDir, { recursive: true, force: true });
/** Peak resident memory (VmHWM) of the build process, read until it exits. */
let peakRssBytes = 0;
const watchMemory = (child) => {
  const read = () => {
    const kb = Number(readFileSync(`/proc/${child.pid}/status`, "utf8").match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? 0);
    peakRssBytes = Math.max(peakRssBytes, kb * 1024);
  };
  const timer = setInterval(() => {
    try {
      read();
    } catch {}
  }, 100);
  child.once("exit", () => clearInterval(timer));
};
/** CPU seconds of this process's finished children (Linux /proc: cutime + cstime, 100 ticks/s). */
const childCpuSeconds = () => {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
const cpuBefore = childCpuSeconds();
const { durationMs } = await buildSite({ snapshot, outDir, timeoutMs: 10 * 60_000, onSpawn: watchMemory });
const buildCpuSeconds = childCpuSeconds() - cpuBefore;

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
const all = files(outDir);
const pages = all.filter((file) => file.endsWith(".html"));
const sizeOf = (file) => {
  const bytes = readFileSync(file);
  return { page: `/${relative(outDir, file).replace(/index\.html$/, "")}`, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length };
};
/** Script bytes a page loads: every same-origin <script src> it references. */
const scriptBytes = (file) => [...readFileSync(file, "utf8").matchAll(/<script[^>]*\ssrc="\/([^"]+)"/g)].reduce((sum, m) => sum + statSync(join(outDir, m[1])).size, 0);

const leaderboardFiles = ["leaderboard", "ranking/vgae_auc", "leaderboard/set_0001"].map((page) => join(outDir, page, "index.html"));
const leaderboards = leaderboardFiles.map(sizeOf);
const largest = pages
  .filter((file) => !leaderboardFiles.includes(file))
  .map((file) => ({ file, size: statSync(file).size }))
  .sort((a, b) => b.size - a.size)
  .slice(0, 3)
  .map(({ file }) => sizeOf(file));
const maxScript = Math.max(...pages.map(scriptBytes));
const result = {
  environment: environmentNote(),
  runs: runCount,
  snapshotBytes,
  exportPages: Math.ceil(runCount / RUNS_PER_PAGE),
  peakRssBytes,
  pages: pages.length,
  outputBytes: all.reduce((sum, file) => sum + statSync(file).size, 0),
  buildMs: durationMs,
  buildCpuSeconds,
  leaderboards,
  largest,
  maxScriptBytesPerPage: maxScript,
  budgets: {
    build: durationMs <= BUILD_BUDGET_MS,
    memory: peakRssBytes > 0 && peakRssBytes <= MEMORY_BUDGET_BYTES,
    leaderboard: leaderboards.every((page) => page.gzip <= LEADERBOARD_BUDGET_BYTES),
    script: maxScript <= SCRIPT_BUDGET_BYTES,
  },
};
saveJson("site-build", result);

const kb = (bytes) => `${fmt(bytes / 1024)} KB`;
const markdown = `Measured ${result.environment.at} on ${result.environment.cpus} (load ${result.environment.loadavg}; busiest: ${result.environment.topProcesses}).

- **Build**: ${fmt(runCount)} runs from a generated export of ${fmt(result.exportPages)} pages (${kb(result.snapshotBytes)} of JSON, read one page at a time), ${fmt(result.pages)} pages (${kb(result.outputBytes)}) in **${fmt(durationMs / 1000)} s** wall, ${fmt(buildCpuSeconds)} s CPU (budget 30 s: ${result.budgets.build ? "met" : "MISSED"}).
- **Memory**: peak resident memory of the build **${fmt(peakRssBytes / 1024 / 1024)} MB** (budget 500 MB: ${result.budgets.memory ? "met" : "MISSED"}).
- **Script**: at most **${fmt(maxScript)} bytes** per page (budget 15 KB: ${result.budgets.script ? "met" : "MISSED"}).

${table(
  ["page", "raw", "gzip -9", "brotli"],
  [...leaderboards, ...largest].map((p) => [`\`${p.page}\``, kb(p.raw), kb(p.gzip), kb(p.brotli)]),
)}

Leaderboard pages are the first three rows (overall by gat_f1, overall by another metric, one dataset) (budget 60 KB compressed: ${result.budgets.leaderboard ? "met" : "MISSED"}); the others are the largest pages of the build.`;
writeReadmeBlock("site", "Static site", markdown);
console.log(markdown);
if (!Object.values(result.budgets).every(Boolean)) process.exitCode = 1;
