/**
 * `kdgat query` as a researcher uses it, against a real local tracker: CSV carries the stored values
 * exactly, tables use one number format per column and fit 80 columns without cutting a run id, an
 * unknown metric or stage names the known ones and the closest, and the old tool's flags keep their
 * meaning (and `--help` says so).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../functions/domain/csv.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";

let server: TestServer;
let env: Record<string, string>;

interface Seed {
  runId: string;
  start: number;
  config?: Record<string, unknown>;
  metrics?: Record<string, number>;
  end?: { status: string; error?: string };
}

const teacherOf = (runId: string) => ({ use_kd: true, teacher_path: `experimentruns/${runId}/best_model.pt` });
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
/** gat_f1 values as logged: an exact 1.0, a value with 15 significant digits, a tiny one. */
const SEEDS: Seed[] = [
  { runId: "set_04/teacher_evaluation", start: T0, metrics: { gat_f1: 1.0, fusion_f1: 0.123456789012345 }, end: { status: "FINISHED" } },
  {
    runId: "set_04/student_evaluation_kd",
    start: T0 + HOUR,
    config: teacherOf("set_04/teacher_evaluation"),
    metrics: { gat_f1: 0.998003992015968, fusion_f1: 0.5 },
    end: { status: "FINISHED" },
  },
  { runId: "set_04/teacher_curriculum", start: T0 + 2 * HOUR, metrics: { val_loss: 0.25 }, end: { status: "FAILED", error: "CUDA out of memory. Tried to allocate 2.00 GiB" } },
  { runId: "set_04/teacher_autoencoder", start: T0 + 3 * HOUR },
  { runId: "hcrl_sa/teacher_evaluation", start: T0 + 4 * HOUR, metrics: { gat_f1: 0.9, fusion_f1: 0.91 }, end: { status: "FINISHED" } },
  {
    runId: "hcrl_sa/student_evaluation_kd",
    start: T0 + 5 * HOUR,
    config: teacherOf("hcrl_sa/teacher_evaluation"),
    metrics: { gat_f1: 0.9000001, fusion_f1: 0.92 },
    end: { status: "FINISHED" },
  },
];

async function call(method: string, path: string, body: object): Promise<void> {
  const answer = await server.call(method, path, { token: env.KDGAT_TOKEN, body });
  expect(answer.status < 300, `${method} ${path}: ${answer.status} ${answer.text}`).toBe(true);
}

beforeAll(async () => {
  server = await startTestServer();
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("query-tests") };
  for (const seed of SEEDS) {
    const path = `/api/v1/runs/${seed.runId}`;
    await call("PUT", `${path}?start_time=${seed.start}`, seed.config ?? {});
    if (seed.metrics) await call("POST", `${path}/metrics`, [{ step: 0, metrics: seed.metrics }]);
    if (seed.end) await call("POST", `${path}/end`, { ...seed.end, end_time: seed.start + 754_000 });
  }
});

afterAll(async () => {
  await server?.stop();
});

const query = (args: string[], extraEnv: Record<string, string> = {}) => runCli(["query", ...args], { env: { ...env, ...extraEnv } });
const ok = async (args: string[], extraEnv: Record<string, string> = {}) => {
  const result = await query(args, extraEnv);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};
const csvRows = (text: string) => parseCsv(text)!.map((record) => record.cells);
const decimalsOf = (cell: string) => cell.split(".")[1]?.length ?? 0;

describe("kdgat query --csv", () => {
  it("carries every stored value exactly, as --json does", async () => {
    const json = JSON.parse(await ok(["--leaderboard", "--json"])) as { entries: Array<{ value: number; run: { run_id: string } }> };
    const [header, ...rows] = csvRows(await ok(["--leaderboard", "--csv"]));
    expect(header).toEqual(["rank", "run_id", "gat_f1", "status", "start_time"]);
    expect(rows.map((r) => [r[1], r[2]])).toEqual(json.entries.map((e) => [e.run.run_id, String(e.value)]));
    expect(rows.map((r) => Number(r[2]))).toEqual([1, 0.998003992015968, 0.9000001, 0.9]);

    const fusion = csvRows(await ok(["--leaderboard", "--metric", "fusion_f1", "--dataset", "set_04", "--csv"]));
    expect(fusion.find((r) => r[1] === "set_04/teacher_evaluation")?.[2]).toBe("0.123456789012345");

    const [compareHeader, ...compared] = csvRows(await ok(["--compare", "teacher", "student_kd", "--csv"]));
    expect(compareHeader).toEqual(["dataset", "teacher_run_id", "teacher", "student_kd_run_id", "student_kd", "delta"]);
    const hcrl = compared.find((r) => r[0] === "hcrl_sa")!;
    expect([hcrl[2], hcrl[4], Number(hcrl[5])]).toEqual(["0.9", "0.9000001", 0.9000001 - 0.9]);
  });
});

describe("kdgat query tables", () => {
  it("print every number of a column with the same decimals", async () => {
    const board = (await ok(["--leaderboard"])).trim().split("\n");
    const values = board.slice(2).map((line) => line.trim().split(/ +/)[2]);
    expect(values).toHaveLength(4);
    expect(new Set(values.map(decimalsOf)).size).toBe(1);
    // 0.9000001 and 0.9 differ in the 7th decimal: the column shows it, on every row.
    expect(values).toEqual(["1.0000000", "0.9980040", "0.9000001", "0.9000000"]);

    const compare = (await ok(["--compare", "teacher", "student_kd"])).trim().split("\n").slice(2);
    // Teacher, student and delta: one format, so that the delta shown is the difference shown.
    const cells = compare.map((line) => line.trim().split(/ +/));
    expect(cells.map((c) => [c[0], c[2], c[4], c[5]])).toEqual([
      ["hcrl_sa", "0.90000000", "0.90000010", "+0.00000010"],
      ["set_04", "1.00000000", "0.99800399", "-0.00199601"],
    ]);
  });

  it("fit 80 columns without cutting a run id, and say which columns were dropped", async () => {
    const lines = (await ok(["--dataset", "set_04"], { COLUMNS: "80" })).trimEnd().split("\n");
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    const ids = ["set_04/student_evaluation_kd", "set_04/teacher_autoencoder", "set_04/teacher_curriculum", "set_04/teacher_evaluation"];
    expect(
      lines
        .slice(1, 5)
        .map((line) => line.split(/ +/)[0])
        .sort(),
    ).toEqual(ids);
    expect(lines[0]).toMatch(/^RUN ID +STATUS/);
    expect(lines[0]).not.toContain("DURATION");
    // The teacher column holds run ids too: whole, or not shown.
    expect(lines.find((line) => line.startsWith("set_04/student_evaluation_kd"))).toMatch(/ set_04\/teacher_evaluation( |$)/);
    expect(lines.find((line) => line.startsWith("set_04/teacher_curriculum"))).toMatch(/ CUDA out of …$/);
    expect(lines.at(-1)).toBe("(not shown, to fit 80 columns: ATTEMPT, STARTED (UTC), DURATION; see --json)");

    // Wide enough: nothing dropped, no note.
    const wide = (await ok(["--dataset", "set_04"], { COLUMNS: "200" })).trimEnd().split("\n");
    expect(wide[0]).toMatch(/^RUN ID +STATUS +ATTEMPT +STARTED \(UTC\) +DURATION +TEACHER +ERROR$/);
    expect(wide).toHaveLength(5);

    // Compare: the dataset tells the rows apart; a run id column goes whole, the values stay.
    const compare = (await ok(["--compare", "teacher", "student_kd"], { COLUMNS: "80" })).trimEnd().split("\n");
    for (const line of compare) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(compare[1]).toMatch(/^DATASET +teacher +STUDENT_KD RUN +student_kd +DELTA$/);
    expect(
      compare
        .slice(2, 4)
        .map((line) => line.split(/ +/)[0])
        .sort(),
    ).toEqual(["hcrl_sa", "set_04"]);
    expect(compare.at(-1)).toBe("(not shown, to fit 80 columns: TEACHER RUN; see --json)");
  });
});

describe("kdgat query with a name the tracker does not know", () => {
  it("an unknown metric names the closest known ones and exits 2", async () => {
    for (const args of [
      ["--leaderboard", "--metric", "f1"],
      ["--compare", "teacher", "student_kd", "--metric", "f1"],
      ["--leaderboard", "--metric", "f1", "--json"],
    ]) {
      const result = await query(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe("kdgat: unknown metric 'f1' (did you mean gat_f1, fusion_f1?); the tracker has 3 metric names: fusion_f1, gat_f1, val_loss\n");
    }
    const typo = await query(["--leaderboard", "--metric", "gat_f2"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("(did you mean gat_f1");
  });

  it("an unknown stage names the stages and the closest, in every view", async () => {
    for (const args of [
      ["--dataset", "set_04", "--stage", "evaluaton"],
      ["--leaderboard", "--stage", "evaluaton"],
      ["--compare", "teacher", "student_kd", "--stage", "evaluaton"],
    ]) {
      const result = await query(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toBe("kdgat: unknown stage 'evaluaton' (did you mean evaluation?); the tracker has 5 stage names: autoencoder, curriculum, evaluation, fusion, normal\n");
    }
  });

  it("a known name that matches nothing is still an empty answer, exit 0", async () => {
    expect(await ok(["--leaderboard", "--metric", "val_loss"])).toBe("evaluation runs by val_loss (lower is better)\nno runs match\n");
    expect(await ok(["--dataset", "hcrl_sa", "--stage", "fusion"])).toBe("no runs match\n");
  });
});

describe("the old query tool's flags", () => {
  it("--all: every run, newest first", async () => {
    const runs = JSON.parse(await ok(["--all", "--json"])).runs as Array<{ run_id: string }>;
    expect(runs.map((r) => r.run_id)).toEqual([...SEEDS].sort((a, b) => b.start - a.start).map((s) => s.runId));
  });

  it("--dataset D --stage S: that dataset's runs of that stage", async () => {
    const runs = JSON.parse(await ok(["--dataset", "set_04", "--stage", "evaluation", "--json"])).runs as Array<{ run_id: string }>;
    expect(runs.map((r) => r.run_id)).toEqual(["set_04/student_evaluation_kd", "set_04/teacher_evaluation"]);
  });

  it("--leaderboard --top N: the N best evaluation runs by the default F1", async () => {
    const board = JSON.parse(await ok(["--leaderboard", "--top", "2", "--json"]));
    expect(board).toMatchObject({ metric: "gat_f1", stage: "evaluation", direction: "desc" });
    expect(board.entries.map((e: { rank: number; run: { run_id: string } }) => [e.rank, e.run.run_id])).toEqual([
      [1, "set_04/teacher_evaluation"],
      [2, "set_04/student_evaluation_kd"],
    ]);
  });

  it("--compare teacher student_kd: both groups per dataset and the delta", async () => {
    const result = JSON.parse(await ok(["--compare", "teacher", "student_kd", "--json"]));
    const set04 = result.datasets.find((d: { dataset: string }) => d.dataset === "set_04");
    expect(set04).toEqual({
      dataset: "set_04",
      a: { run_id: "set_04/teacher_evaluation", value: 1 },
      b: { run_id: "set_04/student_evaluation_kd", value: 0.998003992015968 },
      delta: 0.998003992015968 - 1,
    });
  });

  it("--running: only runs still running", async () => {
    const runs = JSON.parse(await ok(["--running", "--json"])).runs as Array<{ run_id: string; status: string }>;
    expect(runs.map((r) => [r.run_id, r.status])).toEqual([["set_04/teacher_autoencoder", "RUNNING"]]);
  });

  it("--help shows the old tool's commands next to the new ones", async () => {
    const help = await runCli(["query", "--help"]);
    expect(help.code).toBe(0);
    for (const old of ["--all", "--dataset D --stage S", "--leaderboard --top N", "--compare teacher student_kd", "--running"]) {
      expect(help.stdout).toMatch(new RegExp(`^  query ${old.replaceAll(/[-]/g, "\\-")} +kdgat query ${old.replaceAll(/[-]/g, "\\-")}`, "m"));
    }
  });
});
