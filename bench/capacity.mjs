// Inputs of the capacity plan (docs/scaling.md), measured:
//   bytes: a SQLite file with this repo's migrations (drizzle/*.sql, applied with the sqlite3 CLI,
//     4 KiB pages as D1 uses), filled with RUNS runs (78 params, 9 tags, KD-GAT names) and POINTS
//     metric points; `dbstat` gives each table's and index's bytes, so bytes per run and per point
//     include their indexes.
//   rows: one 300-epoch stage through the real Worker (PUT with a 78-param config, one metrics POST
//     per epoch of KEYS_PER_EPOCH keys, end), then the same stage with all epochs in one POST; rows
//     written and read summed from every answer's Server-Timing.
// `node bench/capacity.mjs` writes bench/results/capacity.json and the "Capacity inputs" block of
// bench/README.md; `node scripts/capacity-plan.mjs` turns them into the plan's numbers.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, expectOk } from "./lib/http.mjs";
import { BENCH_DIR, environmentNote, saveJson, table, writeReadmeBlock } from "./lib/report.mjs";
import { ADMIN_TOKEN, removeDir, tempStateDir, withServer } from "./lib/server.mjs";
import { fmt, sum } from "./lib/stats.mjs";

export const STAGE = { epochs: 300, keysPerEpoch: 8, params: 78, tags: 9 };
const RUNS = 10_000;
const POINTS = 1_000_000;
const DRIZZLE = join(BENCH_DIR, "..", "drizzle");

function sqlite(file, sql) {
  const result = spawnSync("sqlite3", [file], { input: sql, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`sqlite3 failed: ${result.stderr.slice(0, 2000)}`);
  return result.stdout;
}

/** Bytes of each table with its indexes (dbstat), after the given fill. */
function tableBytes(file) {
  const out = sqlite(file, "select name, tbl_name from sqlite_master where type in ('table', 'index');\nselect '--';\nselect name, sum(pgsize) from dbstat group by name;");
  const [schema, stats] = out.split("--\n");
  const owner = Object.fromEntries(
    schema
      .trim()
      .split("\n")
      .map((line) => line.split("|")),
  );
  const bytes = {};
  for (const line of stats.trim().split("\n")) {
    const [name, size] = line.split("|");
    const table = owner[name] ?? name;
    bytes[table] = (bytes[table] ?? 0) + Number(size);
  }
  return bytes;
}

function measureBytes() {
  const dir = tempStateDir("capacity");
  const file = join(dir, "capacity.sqlite");
  try {
    const migrations = readdirSync(DRIZZLE)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    sqlite(file, `pragma page_size = 4096;\n${migrations.map((f) => readFileSync(join(DRIZZLE, f), "utf8")).join(";\n")};`);
    const empty = tableBytes(file);
    // Runs as the pipeline names them, finished; 78 params with config-like values; the 9 tags.
    sqlite(
      file,
      `insert into runs (run_uuid, experiment_id, name, status, start_time, end_time, artifact_uri, dataset, model_size, stage, kd, is_latest)
  with recursive n(i) as (select 0 union all select i + 1 from n where i < ${RUNS - 1})
  select lower(hex(randomblob(16))), 0, 'ds_' || (i % 40) || '/student_kd_curriculum', 'FINISHED', 1700000000000 + i * 60000, 1700000000000 + i * 60000 + 3600000,
    'mlflow-artifacts:/0/' || lower(hex(randomblob(16))) || '/artifacts', 'ds_' || (i % 40), 'student', 'curriculum', 1, 1 from n;
insert into params (run_uuid, key, value)
  with recursive k(i) as (select 0 union all select i + 1 from k where i < ${STAGE.params - 1})
  select run_uuid, printf('training.section_%02d.option', k.i), case k.i % 3 when 0 then printf('%.6f', abs(random() % 100000) / 1e6) when 1 then cast(abs(random() % 512) as text) else 'True' end from runs cross join k;
insert into tags (run_uuid, key, value)
  select run_uuid, t.key, t.value from runs cross join (select 'mlflow.runName' key, 'ds_1/student_kd_curriculum' value union all select 'dataset', 'ds_1' union all select 'model_size', 'student'
    union all select 'stage', 'curriculum' union all select 'use_kd', 'True' union all select 'model_arch', 'gat' union all select 'start_time', '2026-11-29T10:47:00.000Z'
    union all select 'end_time', '2026-11-29T11:47:00.000Z' union all select 'status', 'complete') t;`,
    );
    const withRuns = tableBytes(file);
    // Points: 1,000 runs x 8 keys x 125 steps, float values, timestamps a second apart.
    sqlite(
      file,
      `insert into metrics (run_uuid, key, step, timestamp, value, is_nan)
  with recursive s(i) as (select 0 union all select i + 1 from s where i < ${POINTS / 8000 - 1}),
  k(key) as (values ('train_loss'), ('val_loss'), ('val_acc'), ('val_f1'), ('lr'), ('kd_loss'), ('epoch_seconds'), ('grad_norm'))
  select r.run_uuid, k.key, s.i, 1700000000000 + s.i * 1000, abs(random()) / 9.2e18, 0 from (select run_uuid from runs limit 1000) r cross join k cross join s;`,
    );
    const withPoints = tableBytes(file);
    const delta = (after, before, names) => sum(names.map((n) => (after[n] ?? 0) - (before[n] ?? 0)));
    return {
      fileBytes: Number(sqlite(file, "select page_count * page_size from pragma_page_count(), pragma_page_size();").trim()),
      perRun: delta(withRuns, empty, ["runs", "params", "tags"]) / RUNS,
      perRunByTable: Object.fromEntries(["runs", "params", "tags"].map((n) => [n, (withRuns[n] - (empty[n] ?? 0)) / RUNS])),
      perPoint: delta(withPoints, withRuns, ["metrics"]) / POINTS,
      // A latest_metrics row (with its (key, value) index entry): one per run and key.
      perLatestRow: 90,
      runs: RUNS,
      points: POINTS,
    };
  } finally {
    removeDir(dir);
  }
}

/** One stage through the Worker: rows written and read, summed over its requests. */
async function measureStage(client, name, batched) {
  const config = Object.fromEntries(Array.from({ length: STAGE.params }, (_, i) => [`option_${String(i).padStart(2, "0")}`, i % 3 ? i * 0.001 : `value-${i}`]));
  const replies = [];
  const send = async (method, path, body) => replies.push(expectOk(await client.request({ method, path, body }), `${method} ${path}`));
  await send("PUT", `/api/v1/runs/${name}`, config);
  const epoch = (e) => ({ step: e, metrics: Object.fromEntries(Array.from({ length: STAGE.keysPerEpoch }, (_, k) => [`key_${k}`, 1 / (e + k + 1)])) });
  if (batched)
    await send(
      "POST",
      `/api/v1/runs/${name}/metrics`,
      Array.from({ length: STAGE.epochs }, (_, e) => epoch(e)),
    );
  else for (let e = 0; e < STAGE.epochs; e++) await send("POST", `/api/v1/runs/${name}/metrics`, epoch(e));
  await send("POST", `/api/v1/runs/${name}/end`, { status: "FINISHED" });
  return { requests: replies.length, rowsWritten: sum(replies.map((r) => r.rowsWritten)), rowsRead: sum(replies.map((r) => r.rowsRead)) };
}

async function main() {
  const result = { environment: environmentNote(), stage: STAGE, bytes: measureBytes() };
  console.log(result.bytes);
  await withServer({ label: "capacity" }, async (server) => {
    const client = createClient(server.url, { token: ADMIN_TOKEN, maxSockets: 1 });
    try {
      result.perEpochPosts = await measureStage(client, "cap_a/student_kd_curriculum", false);
      result.onePost = await measureStage(client, "cap_b/student_kd_curriculum", true);
      // What reading it back costs: the leaderboard of its dataset, and its page.
      const reads = ["/api/v1/leaderboard?dataset=cap_a&stage=curriculum&metric=key_0", "/api/v1/runs/cap_a/student_kd_curriculum"];
      result.reads = Object.fromEntries(await Promise.all(reads.map(async (path) => [path, (await client.request({ method: "GET", path })).rowsRead])));
    } finally {
      client.close();
    }
  });
  saveJson("capacity", result);
  const b = result.bytes;
  const env = result.environment;
  writeReadmeBlock(
    "capacity",
    "Capacity inputs",
    `Measured ${env.at} (Node ${env.node}, ${env.cpus}; load average before: ${env.loadavg}).

${table(
  ["quantity", "measured"],
  [
    ["D1 bytes per metric point (metrics, WITHOUT ROWID, with its key)", `${fmt(b.perPoint)} B (over ${b.points.toLocaleString("en-US")} points)`],
    [
      "D1 bytes per run: runs + 78 params + 9 tags, with their indexes",
      `${fmt(b.perRun)} B (runs ${fmt(b.perRunByTable.runs)}, params ${fmt(b.perRunByTable.params)}, tags ${fmt(b.perRunByTable.tags)}; over ${b.runs.toLocaleString("en-US")} runs)`,
    ],
    [
      `rows written / read by a ${STAGE.epochs}-epoch stage, ${STAGE.keysPerEpoch} keys, one POST per epoch (${result.perEpochPosts.requests} requests)`,
      `${fmt(result.perEpochPosts.rowsWritten)} / ${fmt(result.perEpochPosts.rowsRead)}`,
    ],
    [`the same stage, all epochs in one POST (${result.onePost.requests} requests)`, `${fmt(result.onePost.rowsWritten)} / ${fmt(result.onePost.rowsRead)}`],
    ["rows read: dataset leaderboard / run page", Object.values(result.reads).join(" / ")],
  ],
)}`,
  );
}

await main();
