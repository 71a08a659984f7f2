import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfinedRoot } from "../../cli/migrate/confine.js";
import { classify } from "../../cli/migrate/plan.js";
import { mapOldLayout } from "../../functions/domain/index.js";
import { runCli } from "./support/cli.js";
import { manifest, relocate } from "./support/manifest.js";
import { type BuiltTree, buildOldTree, oldPath, runId } from "./support/trees.js";

const GB = 1024 ** 3;
const temps: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "kdgat-migrate-"));
  temps.push(dir);
  const root = join(dir, "experimentruns");
  mkdirSync(root);
  return root;
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The moves a migration of this tree makes (old folder -> run id). */
function expectedMoves(tree: BuiltTree): Record<string, string> {
  const moves: Record<string, string> = Object.fromEntries(tree.specs.map((spec) => [oldPath(spec), runId(spec)]));
  moves["automotive/set_04/student/supervised/gat/distilled/normal"] = "set_04/student_normal_kd";
  return moves;
}

describe("kdgat migrate --dry-run", () => {
  it("lists every move, the conflict and the unmappable folders, with a relative root, and changes nothing", async () => {
    const root = tempRoot();
    const tree = buildOldTree(root, { awkward: true });
    const before = manifest(root);
    const result = await runCli(["migrate", "--root", basename(root), "--dry-run"], { cwd: dirname(root) });
    expect(result.code).toBe(1);
    const moves = expectedMoves(tree);
    for (const [from, to] of Object.entries(moves)) expect(result.stdout).toContain(`would move ${from} -> ${to}\n`);
    expect(result.stdout).toContain(`skipped    ${tree.conflict!.from} -> ${tree.conflict!.to}: target already exists`);
    for (const folder of tree.unmappable) expect(result.stdout).toMatch(new RegExp(`failed +${folder}: could not compute new path: .+`));
    expect(result.stdout).not.toContain("set_04/teacher_curriculum");
    const total = Object.keys(moves).length + 3;
    expect(result.stdout).toContain(`Summary: total ${total}, to migrate ${Object.keys(moves).length}, skipped 1, failed 2`);
    expect(manifest(root)).toEqual(before);
  });

  it("--json prints the plan for scripts", async () => {
    const root = tempRoot();
    const tree = buildOldTree(root, { datasets: ["set_02"], stages: ["fusion"], awkward: true });
    const result = await runCli(["migrate", "--root", root, "--dry-run", "--json"]);
    const plan = JSON.parse(result.stdout);
    expect(plan.mode).toBe("dry-run");
    expect(plan.summary).toEqual({ total: 7, migrated: 4, skipped: 1, failed: 2 });
    expect(plan.folders).toContainEqual({ from: oldPath(tree.specs[2]), to: "set_02/student_fusion_kd", status: "move" });
    expect(plan.folders.find((f: { from: string }) => f.from === tree.unmappable[0])).toMatchObject({ to: null, status: "unmappable" });
  });

  it("names what is wrong with a dataset folder that cannot be a run id, and suggests a name", async () => {
    const root = tempRoot();
    buildOldTree(root, { datasets: ["set_01"], stages: ["normal"] });
    writeFileSync(join(root, "automotive", "README"), "");
    const spaced = "automotive/can bus 2/teacher/supervised/gat/no_distillation/normal";
    mkdirSync(join(root, spaced), { recursive: true });
    writeFileSync(join(root, spaced, "slurm.out"), "spaces");
    const result = await runCli(["migrate", "--root", root, "--dry-run"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `failed     ${spaced}: could not compute new path: dataset folder 'can bus 2' is not a valid run id segment (letters, digits, '.', '_' and '-' only, starting with a letter or digit, at most 128 characters: a run id is part of every URL); rename it, e.g. to 'can_bus_2'\n`,
    );
    expect(result.stdout).not.toMatch(/can bus 2.*older layout/);
    // The suggested name is one migrate maps.
    expect(
      mapOldLayout(
        spaced
          .split("/")
          .slice(1)
          .map((s) => s.replace("can bus 2", "can_bus_2")),
      ),
    ).toMatchObject({ ok: true, runId: "can_bus_2/teacher_normal" });
  });

  it("reports two old folders mapping to one run id and leaves both", () => {
    const root = tempRoot();
    const mapping = mapOldLayout(["hcrl_sa", "teacher", "supervised", "gat", "no_distillation", "normal"]);
    const plan = classify(new ConfinedRoot(root), [
      { from: "automotive/a", mapping },
      { from: "automotive/b", mapping },
    ]);
    expect(plan.map((p) => p.status)).toEqual(["duplicate", "duplicate"]);
    expect(plan[0].reason).toContain("automotive/b maps to the same run id (both left in place)");
  });
});

describe("kdgat migrate --execute and --rollback", () => {
  it("moves everything (2 GB sparse checkpoint, links, hidden files, modes, mtimes), then puts it all back exactly", async () => {
    const root = tempRoot();
    const tree = buildOldTree(root, { awkward: true, sparseCheckpointBytes: 2 * GB });
    const before = manifest(root);
    const exactBefore = manifest(root, { exact: true });
    const moves = expectedMoves(tree);

    const started = Date.now();
    const executed = await runCli(["migrate", "--root", root, "--execute"]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(executed.code).toBe(1); // the two unmappable folders
    expect(executed.stdout).toContain(`Summary: total ${Object.keys(moves).length + 3}, migrated ${Object.keys(moves).length}, skipped 1, failed 2`);
    expect(executed.stdout).toContain("Next steps:");
    expect(executed.stdout).toContain("--rollback");

    const after = manifest(root);
    const relocated = relocate(before, moves);
    for (const [from, to] of Object.entries(moves)) {
      expect(existsSync(join(root, from))).toBe(false);
      for (const [path, description] of Object.entries(relocated)) {
        if (path.startsWith(`${to}/`) || path === to) expect(after[path], path).toBe(description);
      }
    }
    // The sparse checkpoint kept its holes (a rename never copies).
    const checkpoint = lstatSync(join(root, runId(tree.specs[0]), "best_model.pt"));
    expect(checkpoint.size).toBe(2 * GB);
    expect(checkpoint.blocks * 512).toBeLessThan(1024 * 1024);
    // Conflict and unmappable folders stay; the target of the conflict is untouched.
    expect(after[`${tree.conflict!.to}/config.json`]).toBe(before[`${tree.conflict!.to}/config.json`]);
    expect(existsSync(join(root, tree.conflict!.from, "best_model.pt"))).toBe(true);
    for (const folder of tree.unmappable) expect(existsSync(join(root, folder))).toBe(true);
    // Emptied old folders are gone, automotive/ and what is left in it stay for the user.
    expect(existsSync(join(root, "automotive/hcrl_sa"))).toBe(false);
    expect(existsSync(join(root, "automotive/set_04/teacher/supervised/gat/no_distillation/curriculum/lightning_logs"))).toBe(true);

    const again = await runCli(["migrate", "--root", root, "--execute", "--json"]);
    expect(JSON.parse(again.stdout).summary).toEqual({ total: 3, migrated: 0, skipped: 1, failed: 2 });
    expect(manifest(root)).toEqual(after);

    const rolledBack = await runCli(["migrate", "--root", root, "--rollback"]);
    expect(rolledBack.stderr).not.toContain("kdgat:");
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stdout).toContain(`restored ${Object.keys(moves).length}`);
    expect(manifest(root, { exact: true })).toEqual(exactBefore);
    expect(existsSync(join(root, "hcrl_sa"))).toBe(false);
  }, 120_000);

  it("copies, verifies and removes across filesystems (forced copy path), keeping holes, links, modes and mtimes", async () => {
    const root = tempRoot();
    const tree = buildOldTree(root, { datasets: ["set_03"], stages: ["curriculum", "evaluation"], sparseCheckpointBytes: 64 * 1024 * 1024 });
    const before = manifest(root);
    const exactBefore = manifest(root, { exact: true });
    const moves = expectedMoves(tree);
    delete moves["automotive/set_04/student/supervised/gat/distilled/normal"];
    const env = { KDGAT_MIGRATE_FORCE_COPY: "1" };

    const executed = await runCli(["migrate", "--root", root, "--execute"], { env });
    expect(executed.stderr).not.toContain("kdgat:");
    expect(executed.code).toBe(0);
    const after = manifest(root);
    const relocated = relocate(before, moves);
    for (const to of Object.values(moves)) {
      for (const [path, description] of Object.entries(relocated)) if (path.startsWith(`${to}/`)) expect(after[path], path).toBe(description);
    }
    expect(existsSync(join(root, "automotive/set_03"))).toBe(false);
    const checkpoint = lstatSync(join(root, runId(tree.specs[0]), "best_model.pt"));
    expect(checkpoint.blocks * 512).toBeLessThan(4 * 1024 * 1024);

    const rolledBack = await runCli(["migrate", "--root", root, "--rollback"], { env });
    expect(rolledBack.code).toBe(0);
    expect(manifest(root, { exact: true })).toEqual(exactBefore);
  });

  it("migrate + rollback cycles leave nothing behind: the journal does not grow, each rollback restores the exact tree", async () => {
    const root = tempRoot();
    buildOldTree(root, { datasets: ["set_01", "set_02"], stages: ["normal", "evaluation"] });
    const exactBefore = manifest(root, { exact: true });
    const bookkeepingBytes = () =>
      readdirSync(root)
        .filter((name) => name.startsWith(".kdgat-migrate"))
        .reduce((sum, name) => sum + lstatSync(join(root, name)).size, 0);
    const sizes: number[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      const executed = await runCli(["migrate", "--root", root, "--execute", "--json"]);
      expect(executed.code, executed.stderr).toBe(0);
      sizes.push(bookkeepingBytes());
      const rolledBack = await runCli(["migrate", "--root", root, "--rollback", "--json"]);
      expect(rolledBack.code, rolledBack.stderr).toBe(0);
      expect(JSON.parse(rolledBack.stdout).note).toContain("journal is removed");
      expect(manifest(root, { exact: true }), `after cycle ${cycle + 1}`).toEqual(exactBefore);
    }
    // Finished: a further --rollback finds nothing to do and changes nothing.
    const again = await runCli(["migrate", "--root", root, "--rollback", "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).note).toContain("nothing to roll back");
    expect(manifest(root, { exact: true })).toEqual(exactBefore);
    expect(sizes[0]).toBeGreaterThan(0);
    // Journal entries hold paths and times (the same digits each cycle), never a growing history.
    expect(new Set(sizes).size, `journal bytes per cycle: ${sizes.join(", ")}`).toBe(1);
  }, 120_000);

  it("refuses to work while another live migration holds the root", async () => {
    const root = tempRoot();
    buildOldTree(root, { datasets: ["set_01"], stages: ["normal"] });
    writeFileSync(join(root, ".kdgat-migrate.lock"), String(process.pid));
    const blocked = await runCli(["migrate", "--root", root, "--execute"]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("another kdgat migrate");
    // A lock left by a dead process (kill -9) is taken over.
    writeFileSync(join(root, ".kdgat-migrate.lock"), "999999999");
    const resumed = await runCli(["migrate", "--root", root, "--execute"]);
    expect(resumed.code).toBe(0);
    expect(readFileSync(join(root, ".kdgat-migrate-journal.jsonl"), "utf8")).toContain('"op":"done"');
  });
});

describe("kdgat usage errors", () => {
  it("exit with code 2", async () => {
    const root = tempRoot();
    buildOldTree(root, { datasets: ["set_01"], stages: ["normal"] });
    const cases = [
      ["migrate", "--root", root],
      ["migrate", "--root", root, "--dry-run", "--execute"],
      ["migrate", "--dry-run"],
      ["migrate", "--root", join(root, "missing"), "--dry-run"],
      ["migrate", "--root", dirname(root), "--dry-run"],
      ["migrate", "--root", root, "--dry-run", "--backfill"],
      ["migrate", "--root", root, "--dry-run", "--frobnicate"],
      ["frobnicate"],
      ["backfill"],
      ["query", "--leaderboard", "--compare", "teacher", "student_kd"],
      ["query", "--compare", "teacher"],
      ["query", "--top", "zero", "--leaderboard"],
      ["query", "--json", "--csv"],
      ["token", "create"],
      ["import"],
    ];
    for (const args of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).not.toBe("");
    }
    for (const args of [["--help"], ["migrate", "--help"], ["query", "--help"], ["token", "revoke", "--help"], ["--version"]]) {
      const result = await runCli(args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout).not.toBe("");
    }
  });
});
