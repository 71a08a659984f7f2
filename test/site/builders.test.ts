/**
 * `npm run build` (a cold `astro build`, scripts/build-site.mjs) and the live site's warm builder
 * (scripts/site-builder.mjs, Astro's build() in a long-lived process) write the same site from the
 * same export, byte for byte, run pages included: those are written by the astro:build:done hook
 * (site/lib/run-pages.ts) from the layout's shell, which is then removed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, expect, test } from "vitest";
import { buildSite } from "../../scripts/build-site.mjs";
import { startSiteBuilder } from "../../scripts/site-builder.mjs";

const dir = mkdtempSync(join(tmpdir(), "kdgat-builders-"));
const builder = startSiteBuilder();
afterAll(() => {
  builder.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const run = (uuid: string, runName: string, startTime: number, extra: { tags?: Record<string, string>; metrics?: Record<string, Array<[number, number, number | "NaN"]>> }) => ({
  mlflow_run_id: uuid.padStart(32, "0"),
  experiment_id: "1",
  run_name: runName,
  user_id: "slurm",
  status: "FINISHED",
  start_time: startTime,
  end_time: startTime + HOUR,
  artifact_uri: "mlflow-artifacts:/1",
  lifecycle_stage: "active",
  deleted_time: null,
  attempt: 1,
  params: { lr: "0.001", gat_hidden: "48", gat_layers: "3" },
  tags: extra.tags ?? {},
  metrics: extra.metrics ?? {},
});
const curve = (from: number, to: number) => Array.from({ length: 12 }, (_, step): [number, number, number] => [step, 1000 + step, from + ((to - from) * step) / 11]);
const doc = {
  format: "kdgat-export",
  version: 1,
  exported_at: 10 * HOUR,
  experiments: [{ experiment_id: "1", name: "kd-gat-pipeline", artifact_location: "x", lifecycle_stage: "active", creation_time: 1, last_update_time: 1, tags: {} }],
  runs: [
    run("a1", "hcrl_sa/teacher_curriculum", HOUR, { metrics: { train_loss: curve(1.2, 0.2), val_loss: curve(1.3, 0.3) } }),
    run("a2", "hcrl_sa/student_curriculum_kd", 2 * HOUR, { tags: { teacher_run_id: "hcrl_sa/teacher_curriculum" }, metrics: { train_loss: curve(1.1, 0.25), val_acc: curve(0.5, 0.9) } }),
    run("a3", "hcrl_sa/teacher_evaluation", 3 * HOUR, { metrics: { gat_f1: [[0, 1, 0.91]], vgae_f1: [[0, 1, 0.82]], test_gat_dos_f1: [[0, 1, 0.9]] } }),
  ],
};

function files(root: string): Map<string, Buffer> {
  const walk = (at: string): string[] => readdirSync(at, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(at, e.name)) : [join(at, e.name)]));
  return new Map(walk(root).map((file) => [relative(root, file), readFileSync(file)]));
}

test("the cold build and the warm builder write the same files, every run id's page and no shell", async () => {
  const snapshot = join(dir, "snapshot.json");
  writeFileSync(snapshot, JSON.stringify(doc));
  const [cold, warm] = [join(dir, "cold"), join(dir, "warm")];
  await buildSite({ snapshot, outDir: cold, timeoutMs: 240_000 });
  await builder.build({ apiUrl: undefined, snapshot, outDir: warm });
  const coldFiles = files(cold);
  const warmFiles = files(warm);
  const only = (a: Map<string, Buffer>, b: Map<string, Buffer>) => [...a.keys()].filter((path) => !b.has(path)).sort();
  expect({ onlyCold: only(coldFiles, warmFiles), onlyWarm: only(warmFiles, coldFiles) }).toEqual({ onlyCold: [], onlyWarm: [] });
  for (const [path, bytes] of coldFiles) expect(warmFiles.get(path)?.equals(bytes), path).toBe(true);
  const runPages = [...coldFiles.keys()].filter((path) => path.startsWith("runs/")).sort();
  expect(runPages).toEqual(doc.runs.map((r) => `runs/${r.run_name}/index.html`).sort());
  expect([...coldFiles.keys()].filter((path) => path.startsWith("run-shell"))).toEqual([]);
  // Nothing of Astro's server build is left among the pages.
  expect([...coldFiles.keys()].filter((path) => path.endsWith(".mjs"))).toEqual([]);
  // A run page is the layout (its title, navigation, the data's time) around the run's content.
  const page = coldFiles.get("runs/hcrl_sa/student_curriculum_kd/index.html")!.toString();
  expect(page).toMatch(/^<!DOCTYPE html><html lang="en">/);
  expect(page).toContain("<title>hcrl_sa/student_curriculum_kd · KD-GAT leaderboard</title>");
  expect(page).toMatch(/<h1>hcrl_sa\/student_curriculum_kd<\/h1>\s*<dl class="facts">/);
  expect(page).toContain('<a href="/runs/hcrl_sa/teacher_curriculum/" rel="up">hcrl_sa/teacher_curriculum</a>');
  expect(page).toContain(`Data exported <time datetime="${new Date(doc.exported_at).toISOString()}">`);
  expect(page).toMatch(/<\/footer> *<\/body><\/html>\s*$/);
}, 400_000);
