/**
 * `kdgat migrate` stays inside --root: a planted journal cannot make it touch anything outside,
 * symlinks are reported and never followed, links that a move would break are warned about, and
 * odd things at the layout levels (hidden junk, files) are reported per folder, never fatal.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { manifest } from "./support/manifest.js";
import { BASE_TIME_MS, buildOldTree, oldPath, type RunSpec, runId, writeFileAt, writeRunFolder } from "./support/trees.js";

const JOURNAL = ".kdgat-migrate-journal.jsonl";
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A root with a small old tree, next to an `outside` folder holding a run-like folder and an empty one. */
function rootWithOutside(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), "kdgat-confine-"));
  temps.push(base);
  const root = join(base, "experimentruns");
  const outside = join(base, "outside");
  buildOldTree(root, { datasets: ["set_01"], stages: ["normal"] });
  writeFileAt(join(outside, "victim", "best_model.pt"), "private weights", BASE_TIME_MS);
  writeFileAt(join(outside, "notes.txt"), "", BASE_TIME_MS);
  mkdirSync(join(outside, "empty"));
  return { root, outside };
}

const plant = (root: string, records: object[]) => writeFileSync(join(root, JOURNAL), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
const migrate = (root: string, mode: string, json = false) => runCli(["migrate", "--root", root, mode, ...(json ? ["--json"] : [])]);

describe("a planted journal never reaches outside the root", () => {
  for (const kind of ["..", "absolute"] as const) {
    it(`--execute refuses a journal with ${kind} paths before anything moves`, async () => {
      const { root, outside } = rootWithOutside();
      const from = kind === ".." ? "../outside/victim" : join(outside, "victim");
      plant(root, [
        { op: "mkdir", path: "set_01" },
        { op: "intent", id: 1, from, to: "set_09/teacher_normal" },
      ]);
      const before = { root: manifest(root), outside: manifest(outside) };
      for (const mode of ["--execute", "--dry-run"]) {
        const result = await migrate(root, mode);
        expect(manifest(outside), mode).toEqual(before.outside);
        expect(manifest(root), mode).toEqual(before.root);
        expect(result.code, mode).toBe(1);
        expect(result.stderr).toContain(`the migration journal ${join(root, JOURNAL)}, line 2:`);
        expect(result.stderr).toContain(`'from' is not a path confined to the root (${kind === ".." ? "has a '..' segment" : "absolute"})`);
        expect(result.stderr).toContain(`{"op":"intent","id":1,"from":${JSON.stringify(from)}`);
      }
    });

    it(`--rollback refuses a journal with ${kind} paths: nothing outside is created, moved in or removed`, async () => {
      const { root, outside } = rootWithOutside();
      const at = (name: string) => (kind === ".." ? `../outside/${name}` : join(outside, name));
      const rootFolder = oldPath({ dataset: "set_01", size: "teacher", stage: "normal", kd: false });
      plant(root, [
        { op: "intent", id: 1, from: at("stolen"), to: rootFolder },
        { op: "done", id: 1 },
        { op: "rmdir", path: at("made"), mode: 0o777 },
        { op: "mkdir", path: at("empty") },
      ]);
      const before = { root: manifest(root), outside: manifest(outside) };
      const result = await migrate(root, "--rollback");
      expect(manifest(outside)).toEqual(before.outside);
      expect(manifest(root)).toEqual(before.root);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the migration journal ${join(root, JOURNAL)}, line 1:`);
    });
  }

  it("a journal that is a symlink to a file outside is refused, never written", async () => {
    const { root, outside } = rootWithOutside();
    symlinkSync(join(outside, "notes.txt"), join(root, JOURNAL));
    const before = { root: manifest(root), outside: manifest(outside) };
    const result = await migrate(root, "--execute");
    expect(manifest(outside)).toEqual(before.outside);
    expect(manifest(root)).toEqual(before.root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is a symlink: refused");
  });

  it("a journal path through a symlinked folder of the root is refused", async () => {
    const { root, outside } = rootWithOutside();
    symlinkSync(outside, join(root, "door"));
    plant(root, [{ op: "rmdir", path: "door/made", mode: 0o777 }]);
    const before = manifest(outside);
    const result = await migrate(root, "--rollback");
    expect(manifest(outside)).toEqual(before);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 1: path "door/made" is not confined to the root: door is a symlink (never followed)');
  });
});

describe("symlinks, hidden junk and files in the old layout are reported per folder", () => {
  it("symlinked dataset, intermediate and run folders are listed as skipped and never followed", async () => {
    const { root, outside } = rootWithOutside();
    const outsideRun: RunSpec = { dataset: "set_02", size: "teacher", stage: "normal", kd: false };
    writeRunFolder(join(outside, "tree", oldPath(outsideRun)), outsideRun, 5);
    symlinkSync(join(outside, "tree", "automotive", "set_02"), join(root, "automotive", "set_02"));
    symlinkSync(join(outside, "tree", "automotive", "set_02", "teacher"), join(root, "automotive", "set_01", "assistant"));
    const runLink = oldPath({ dataset: "set_01", size: "teacher", stage: "curriculum", kd: false });
    mkdirSync(join(root, runLink, ".."), { recursive: true });
    symlinkSync(join(outside, "tree", oldPath(outsideRun)), join(root, runLink));
    const before = { root: manifest(root), outside: manifest(outside) };

    const dry = await migrate(root, "--dry-run");
    expect(dry.stdout).toContain("skipped    automotive/set_02: a symlink where a dataset folder should be: never followed, left in place\n");
    expect(dry.stdout).toContain("skipped    automotive/set_01/assistant: a symlink where a model_size folder should be: never followed, left in place\n");
    expect(dry.stdout).toContain(`skipped    ${runLink}: a symlink where a mode folder should be: never followed, left in place\n`);
    expect(dry.stdout).toContain("Summary: total 6, to migrate 3, skipped 3, failed 0");
    expect(manifest(root)).toEqual(before.root);

    const executed = await migrate(root, "--execute", true);
    expect(executed.code).toBe(0);
    const report = JSON.parse(executed.stdout);
    expect(report.summary).toEqual({ total: 6, migrated: 3, skipped: 3, failed: 0 });
    const symlinks = report.folders.filter((f: { status: string }) => f.status === "symlink").map((f: { from: string }) => f.from);
    expect(symlinks.sort()).toEqual([runLink, "automotive/set_01/assistant", "automotive/set_02"].sort());
    expect(manifest(outside)).toEqual(before.outside);
    expect(manifest(root)[join("automotive", "set_02")]).toMatch(/^link -> /);
  });

  it("dry run warns about each relative symlink that would point elsewhere after the move", async () => {
    const { root } = rootWithOutside();
    const sibling: RunSpec = { dataset: "set_01", size: "student", stage: "normal", kd: false };
    const student: RunSpec = { dataset: "set_01", size: "student", stage: "normal", kd: true };
    writeFileAt(join(root, "shared", "teacher.pt"), "shared weights", BASE_TIME_MS);
    const studentDir = join(root, oldPath(student));
    // From the old student folder: up to `gat/` and across to the sibling run, and up to the root.
    symlinkSync("../../no_distillation/normal/best_model.pt", join(studentDir, "teacher.ckpt"));
    const toShared = "../../../../../../../../shared/teacher.pt";
    symlinkSync(toShared, join(studentDir, "lightning_logs", "shared.pt"));
    // These stay right: inside the folder, and already dangling today.
    symlinkSync("lightning_logs/version_0/metrics.csv", join(studentDir, "metrics.lnk"));

    const dry = await migrate(root, "--dry-run");
    expect(dry.code).toBe(0);
    const warnings = dry.stdout.split("\n").filter((line) => line.startsWith("warning "));
    expect(warnings).toEqual([
      `warning    ${oldPath(student)}/lightning_logs/shared.pt -> ${toShared}: points at shared/teacher.pt today; after the move to ${runId(student)} it would point at ${resolve(realpathSync(root), runId(student), "lightning_logs", toShared)} (outside the root), a different path`,
      `warning    ${oldPath(student)}/teacher.ckpt -> ../../no_distillation/normal/best_model.pt: points at ${oldPath(sibling)}/best_model.pt today; after the move to ${runId(student)} it would point at no_distillation/normal/best_model.pt, which does not exist: the link would dangle`,
    ]);
    const json = JSON.parse((await migrate(root, "--dry-run", true)).stdout);
    expect(json.link_warnings.map((w: { link: string }) => w.link)).toEqual([`${oldPath(student)}/lightning_logs/shared.pt`, `${oldPath(student)}/teacher.ckpt`]);
  });

  it("hidden junk at the layout levels is ignored with a note, not a failure", async () => {
    const { root } = rootWithOutside();
    const teacher = oldPath({ dataset: "set_01", size: "teacher", stage: "normal", kd: false });
    const modeLevel = join(teacher, "..");
    writeFileAt(join(root, "automotive", ".ipynb_checkpoints", "notebook-checkpoint.ipynb"), "{}", BASE_TIME_MS);
    writeFileAt(join(root, modeLevel, ".ipynb_checkpoints", "x", "y.ipynb"), "{}", BASE_TIME_MS);
    writeFileAt(join(root, "automotive", "set_01", ".DS_Store"), "junk", BASE_TIME_MS);

    const executed = await migrate(root, "--execute");
    expect(executed.stderr).not.toContain("kdgat:");
    expect(executed.code).toBe(0);
    expect(executed.stdout).toContain("ignored    automotive/.ipynb_checkpoints: hidden entry where a dataset folder should be: not a run folder, ignored\n");
    expect(executed.stdout).toContain(`ignored    ${modeLevel}/.ipynb_checkpoints: hidden entry where a mode folder should be: not a run folder, ignored\n`);
    expect(executed.stdout).toContain("ignored    automotive/set_01/.DS_Store: hidden entry where a model_size folder should be");
    expect(executed.stdout).toContain("Summary: total 3, migrated 3, skipped 0, failed 0, ignored 3 hidden");
  });

  it("a file where a dataset folder should be is reported for each folder, the rest migrates", async () => {
    const { root } = rootWithOutside();
    buildOldTree(root, { datasets: ["set_02"], stages: ["normal"] });
    writeFileAt(join(root, "set_02"), "a file, not a folder", BASE_TIME_MS);
    writeFileAt(join(root, "automotive", "README.txt"), "old layout", BASE_TIME_MS);

    const executed = await migrate(root, "--execute");
    expect(executed.stderr).not.toContain("kdgat:");
    expect(executed.code).toBe(0);
    for (const size of ["teacher", "student"]) {
      expect(executed.stdout).toMatch(
        new RegExp(`skipped +automotive/set_02/${size}/\\S+ -> set_02/${size}_normal(_kd)?: set_02 is a file where the dataset folder should be: left in place`),
      );
    }
    expect(executed.stdout).toContain("skipped    automotive/README.txt: a file where a dataset folder should be: left in place\n");
    expect(executed.stdout).toContain("Summary: total 7, migrated 3, skipped 4, failed 0");
    expect(manifest(root)["set_01/teacher_normal/config.json"]).toBeDefined();
  });

  it("folder names reach the terminal with their control characters escaped", async () => {
    const { root } = rootWithOutside();
    const hostile = "evil\u001b]0;owned\u0007\u009b2K";
    writeFileAt(join(root, "automotive", hostile, "teacher", "supervised", "gat", "no_distillation", "normal", "slurm.out"), "x", BASE_TIME_MS);
    const dry = await migrate(root, "--dry-run");
    expect(dry.stdout).toContain("automotive/evil\\x1b]0;owned\\x07\\x9b2K/teacher");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal
    expect(dry.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
