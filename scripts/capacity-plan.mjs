// The capacity plan's numbers (docs/scaling.md) from the measured inputs of bench/capacity.mjs
// (bench/results/capacity.json), and a simulation of the plan past one database: one D1 per
// experiment group behind a routing table, and finished runs' metric history moved to R2 as Parquet
// once a group's database nears its cap. The simulation checks its own invariants and exits 1 when
// one fails: every experiment routes to exactly one database, a route never changes once given,
// no database passes its cap in any month, and the month's bill matches the sum of its parts.
//
// `node scripts/capacity-plan.mjs [--months 60] [--json]`
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({ options: { months: { type: "string", default: "60" }, json: { type: "boolean", default: false } } });

/** D1 on Workers Paid (https://developers.cloudflare.com/d1/platform/pricing/, limits/): per month. */
export const D1 = {
  maxDatabaseBytes: 10e9,
  includedRowsRead: 25e9,
  rowReadUsdPerMillion: 0.001,
  includedRowsWritten: 50e6,
  rowWrittenUsdPerMillion: 1.0,
  includedStorageBytes: 5e9,
  storageUsdPerGbMonth: 0.75,
};
/** R2 (https://developers.cloudflare.com/r2/pricing/): storage and class A (write) operations. */
export const R2 = { storageUsdPerGbMonth: 0.015, includedStorageBytes: 10e9, classAUsdPerMillion: 4.5 };
/** Parquet of (step, timestamp, value) per key, delta/dictionary-encoded and compressed: bytes per point (assumed; measure before relying on it). */
export const PARQUET_BYTES_PER_POINT = 6;
/** A group's database moves its finished runs' histories to R2 past this share of the cap. */
export const ARCHIVE_AT = 0.8;

/**
 * The group's work in a month (assumed; change it here): the KD-GAT pipeline's 6 datasets x
 * teacher, student, student_kd x 5 stages is one sweep of 90 stages; `sweepsPerMonth` of them; and
 * `readsPerStage` public reads (leaderboards, run pages) per stage written.
 */
export const WORK = { datasets: 6, groups: 3, stages: 5, sweepsPerMonth: 20, readsPerStage: 200 };

function inputs() {
  const file = join(ROOT, "bench", "results", "capacity.json");
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`node bench/capacity.mjs\` first.`);
  const measured = JSON.parse(readFileSync(file, "utf8"));
  const stagePoints = measured.stage.epochs * measured.stage.keysPerEpoch;
  const stageBytes = measured.bytes.perRun + stagePoints * measured.bytes.perPoint + measured.stage.keysPerEpoch * measured.bytes.perLatestRow;
  const readRows = Object.values(measured.reads);
  return {
    measured,
    stagePoints,
    stageBytes,
    stageRowsWritten: measured.perEpochPosts.rowsWritten,
    // Reads: the stage's own writes' reads, plus readsPerStage public reads at the mean measured read.
    stageRowsRead: measured.perEpochPosts.rowsRead + WORK.readsPerStage * (readRows.reduce((a, b) => a + b, 0) / readRows.length),
  };
}

/** The bill of one month: D1 rows over the included, D1 storage over the included, R2 storage. */
export function monthBill({ rowsRead, rowsWritten, d1Bytes, r2Bytes }) {
  const parts = {
    rowsRead: (Math.max(0, rowsRead - D1.includedRowsRead) / 1e6) * D1.rowReadUsdPerMillion,
    rowsWritten: (Math.max(0, rowsWritten - D1.includedRowsWritten) / 1e6) * D1.rowWrittenUsdPerMillion,
    d1Storage: (Math.max(0, d1Bytes - D1.includedStorageBytes) / 1e9) * D1.storageUsdPerGbMonth,
    r2Storage: (Math.max(0, r2Bytes - R2.includedStorageBytes) / 1e9) * R2.storageUsdPerGbMonth,
  };
  return { ...parts, total: parts.rowsRead + parts.rowsWritten + parts.d1Storage + parts.r2Storage };
}

/**
 * Routing: experiment groups (one per research line; an experiment belongs to one) are given a
 * database when first seen, the first whose projected size a year on stays under the archive
 * threshold, else a new database; routes are never moved. Each month every group writes its share
 * of the work (groups grow at different rates); a database past ARCHIVE_AT of the cap moves its
 * finished runs' metric history to R2 (the runs, params, tags and latest metrics stay in D1).
 */
export function simulate(plan, months) {
  const routes = new Map();
  const databases = [];
  const history = [];
  const failures = [];
  const groupRate = (g) => 1 + (g % 4); // sweeps a month per group: 1..4
  for (let month = 1; month <= months; month++) {
    // A new research group every 6 months, from 2 at the start.
    const groups = 2 + Math.floor((month - 1) / 6);
    for (let g = 0; g < groups; g++) {
      const name = `group-${g}`;
      if (!routes.has(name)) {
        const yearly = 12 * groupRate(g) * WORK.datasets * WORK.groups * WORK.stages * plan.stageBytes;
        let db = databases.find((d) => d.bytes + d.projectedYearly + yearly < ARCHIVE_AT * D1.maxDatabaseBytes);
        if (!db) {
          db = { id: databases.length, bytes: 0, historyBytes: 0, r2Bytes: 0, projectedYearly: 0, archived: 0 };
          databases.push(db);
        }
        db.projectedYearly += yearly;
        routes.set(name, db.id);
      }
    }
    let rowsRead = 0;
    let rowsWritten = 0;
    for (const [name, id] of routes) {
      const stages = groupRate(Number(name.split("-")[1])) * WORK.datasets * WORK.groups * WORK.stages;
      const db = databases[id];
      const historyBytes = stages * plan.stagePoints * plan.measured.bytes.perPoint;
      db.bytes += stages * plan.stageBytes;
      db.historyBytes += historyBytes;
      rowsWritten += stages * plan.stageRowsWritten;
      rowsRead += stages * plan.stageRowsRead;
    }
    for (const db of databases) {
      if (db.bytes > ARCHIVE_AT * D1.maxDatabaseBytes) {
        // Archive every finished run's history (all of it: the month's runs are finished by then).
        const points = db.historyBytes / plan.measured.bytes.perPoint;
        db.r2Bytes += points * PARQUET_BYTES_PER_POINT;
        db.bytes -= db.historyBytes;
        db.historyBytes = 0;
        db.archived++;
        // Reading the history to archive it: one row per point.
        rowsRead += points;
      }
      if (db.bytes > D1.maxDatabaseBytes) failures.push(`month ${month}: database ${db.id} at ${(db.bytes / 1e9).toFixed(2)} GB passes the 10 GB cap`);
    }
    const d1Bytes = databases.reduce((s, d) => s + d.bytes, 0);
    const r2Bytes = databases.reduce((s, d) => s + d.r2Bytes, 0);
    const bill = monthBill({ rowsRead, rowsWritten, d1Bytes, r2Bytes });
    const parts = bill.rowsRead + bill.rowsWritten + bill.d1Storage + bill.r2Storage;
    if (Math.abs(parts - bill.total) > 1e-9) failures.push(`month ${month}: bill parts do not add up`);
    history.push({ month, groups: routes.size, databases: databases.length, d1Gb: d1Bytes / 1e9, r2Gb: r2Bytes / 1e9, rowsRead, rowsWritten, bill });
  }
  // Every group has exactly one route, to a database that exists; routes were only ever added.
  for (const [name, id] of routes) if (!databases[id]) failures.push(`${name} routes to a missing database ${id}`);
  if (new Set(routes.keys()).size !== routes.size) failures.push("a group has two routes");
  return { routes: Object.fromEntries(routes), databases, history, failures };
}

function main() {
  const plan = inputs();
  const months = Number(args.months);
  const stagesPerMonth = WORK.datasets * WORK.groups * WORK.stages * WORK.sweepsPerMonth;
  const oneDatabase = {
    bytesPerPoint: plan.measured.bytes.perPoint,
    bytesPerRun: plan.measured.bytes.perRun,
    bytesPerStage: plan.stageBytes,
    pointsIn10Gb: D1.maxDatabaseBytes / plan.measured.bytes.perPoint,
    runsIn10GbWithoutHistory: D1.maxDatabaseBytes / plan.measured.bytes.perRun,
    stagesIn10Gb: D1.maxDatabaseBytes / plan.stageBytes,
    stagesPerMonth,
    monthsToFill: D1.maxDatabaseBytes / (plan.stageBytes * stagesPerMonth),
    rowsWrittenPerStage: plan.stageRowsWritten,
    rowsReadPerStage: plan.stageRowsRead,
    month: monthBill({
      rowsRead: stagesPerMonth * plan.stageRowsRead,
      rowsWritten: stagesPerMonth * plan.stageRowsWritten,
      d1Bytes: stagesPerMonth * plan.stageBytes * 12,
      r2Bytes: 0,
    }),
  };
  const sim = simulate(plan, months);
  if (args.json) console.log(JSON.stringify({ oneDatabase, simulation: { ...sim, history: sim.history.filter((h) => h.month % 12 === 0) } }, null, 2));
  else {
    const f = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d });
    console.log(`bytes: ${f(oneDatabase.bytesPerPoint, 1)} per point, ${f(oneDatabase.bytesPerRun)} per run, ${f(oneDatabase.bytesPerStage)} per ${plan.measured.stage.epochs}-epoch stage`);
    console.log(`10 GB holds ${f(oneDatabase.pointsIn10Gb)} points, or ${f(oneDatabase.runsIn10GbWithoutHistory)} runs without history, or ${f(oneDatabase.stagesIn10Gb)} stages`);
    console.log(
      `the group's month (${f(stagesPerMonth)} stages): ${f(stagesPerMonth * plan.stageRowsWritten)} rows written, ${f(stagesPerMonth * plan.stageRowsRead)} rows read; one database fills in ${f(oneDatabase.monthsToFill, 1)} months`,
    );
    console.log(`the month's D1 bill beyond the $5 Workers Paid base, a year in: $${oneDatabase.month.total.toFixed(2)}`);
    for (const h of sim.history.filter((x) => x.month % 12 === 0)) {
      console.log(`month ${h.month}: ${h.groups} groups on ${h.databases} databases, D1 ${h.d1Gb.toFixed(2)} GB, R2 ${h.r2Gb.toFixed(2)} GB, bill $${h.bill.total.toFixed(2)}`);
    }
    console.log(`archives: ${sim.databases.map((d) => `db${d.id} ${d.archived}x`).join(", ")}`);
  }
  if (sim.failures.length > 0) {
    console.error(`FAILED:\n${sim.failures.join("\n")}`);
    process.exit(1);
  }
  console.error("routing and numbers check out");
}

main();
