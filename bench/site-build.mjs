// Site benchmark: builds the static leaderboard from a generated 10,000-run export snapshot
// (bench/site-snapshot.mjs; the same document `kdgat export` writes) and measures the build time,
// the compressed size of the leaderboard pages, the largest pages and the script every page loads.
//   node bench/site-build.mjs [--runs 10000]
// Rewrites the "Static site" block of bench/README.md; raw figures in bench/results/site-build.json.
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { buildSite } from "../scripts/build-site.mjs";
import { BENCH_DIR, environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { fmt } from "./lib/stats.mjs";
import { generateExport } from "./site-snapshot.mjs";

const BUILD_BUDGET_MS = 60_000;
const LEADERBOARD_BUDGET_BYTES = 60 * 1024;
const SCRIPT_BUDGET_BYTES = 15 * 1024;

const runsArg = process.argv.indexOf("--runs");
const runCount = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10_000;
const snapshot = join(BENCH_DIR, "results", `site-snapshot-${runCount}.json`);
const outDir = join(BENCH_DIR, "results", `site-${runCount}`);

writeFileSync(snapshot, JSON.stringify(generateExport(runCount)));
rmSync(outDir, { recursive: true, force: true });
/** CPU seconds of this process's finished children (Linux /proc: cutime + cstime, 100 ticks/s). */
const childCpuSeconds = () => {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
const cpuBefore = childCpuSeconds();
const { durationMs } = await buildSite({ snapshot, outDir, timeoutMs: 10 * 60_000 });
const buildCpuSeconds = childCpuSeconds() - cpuBefore;

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
const all = files(outDir);
const pages = all.filter((file) => file.endsWith(".html"));
const sizeOf = (file) => {
  const bytes = readFileSync(file);
  return { page: `/${relative(outDir, file).replace(/index\.html$/, "")}`, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length };
};
/** Script bytes a page loads: every same-origin <script src> it references. */
const scriptBytes = (file) =>
  [...readFileSync(file, "utf8").matchAll(/<script[^>]*\ssrc="\/([^"]+)"/g)].reduce((sum, m) => sum + statSync(join(outDir, m[1])).size, 0);

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
  snapshotBytes: statSync(snapshot).size,
  pages: pages.length,
  outputBytes: all.reduce((sum, file) => sum + statSync(file).size, 0),
  buildMs: durationMs,
  buildCpuSeconds,
  leaderboards,
  largest,
  maxScriptBytesPerPage: maxScript,
  budgets: {
    build: durationMs < BUILD_BUDGET_MS,
    leaderboard: leaderboards.every((page) => page.gzip <= LEADERBOARD_BUDGET_BYTES),
    script: maxScript <= SCRIPT_BUDGET_BYTES,
  },
};
saveJson("site-build", result);

const kb = (bytes) => `${fmt(bytes / 1024)} KB`;
const markdown = `Measured ${result.environment.at} on ${result.environment.cpus} (load ${result.environment.loadavg}; busiest: ${result.environment.topProcesses}).

- **Build**: ${fmt(runCount)} runs from a generated snapshot (${kb(result.snapshotBytes)} of JSON), ${fmt(result.pages)} pages (${kb(result.outputBytes)}) in **${fmt(durationMs / 1000)} s** wall, ${fmt(buildCpuSeconds)} s CPU (budget 60 s: ${result.budgets.build ? "met" : "MISSED"}).
- **Script**: at most **${fmt(maxScript)} bytes** per page (budget 15 KB: ${result.budgets.script ? "met" : "MISSED"}).

${table(
  ["page", "raw", "gzip -9", "brotli"],
  [...leaderboards, ...largest].map((p) => [`\`${p.page}\``, kb(p.raw), kb(p.gzip), kb(p.brotli)]),
)}

Leaderboard pages are the first three rows (overall by gat_f1, overall by another metric, one dataset) (budget 60 KB compressed: ${result.budgets.leaderboard ? "met" : "MISSED"}); the others are the largest pages of the build.`;
writeReadmeBlock("site", "Static site", markdown);
console.log(markdown);
if (!Object.values(result.budgets).every(Boolean)) process.exitCode = 1;
