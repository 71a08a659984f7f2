/**
 * Two promises of `kdgat migrate` to a user whose migration was interrupted (issue 14), on real
 * temp trees: a resumed --execute repairs a torn last journal line before it appends (so the journal
 * stays readable and --rollback still works), and --rollback recreates the old folders the moves
 * emptied, parents first, each with the mode it had.
 */
import { appendFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { manifest } from "./support/manifest.js";
import { buildOldTree } from "./support/trees.js";

const JOURNAL = ".kdgat-migrate-journal.jsonl";
const base = mkdtempSync(join(tmpdir(), "kdgat-migrate-journal-"));
let trees = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

const options = { datasets: ["set_02"], stages: ["normal" as const, "evaluation" as const] };
function freshTree(): string {
  const root = join(base, `tree-${trees++}`, "experimentruns");
  mkdirSync(root, { recursive: true });
  buildOldTree(root, options);
  return root;
}
const migrate = (root: string, mode: string, crashAfter?: number) =>
  runCli(["migrate", "--root", root, mode, "--json"], { env: crashAfter ? { KDGAT_TEST_CRASH_AFTER: String(crashAfter) } : {} });

/** Every folder below automotive/ that is not a run folder, each given its own unusual mode. */
function chmodOldLevels(root: string): string[] {
  const changed: string[] = [];
  const walk = (relative: string, depth: number) => {
    if (depth === 5) return; // the run folders themselves move; their modes are checked elsewhere
    for (const name of readdirSync(join(root, relative))) {
      const child = join(relative, name);
      if (!lstatSync(join(root, child)).isDirectory()) continue;
      walk(child, depth + 1);
      chmodSync(join(root, child), [0o711, 0o750, 0o705, 0o770, 0o701][depth]);
      changed.push(child);
    }
  };
  walk("automotive", 0);
  chmodSync(join(root, "automotive"), 0o751);
  return changed;
}

describe("kdgat migrate --rollback", () => {
  it("recreates the emptied old folders, parents first, with their journaled modes", async () => {
    const root = freshTree();
    const levels = chmodOldLevels(root);
    expect(levels.length).toBeGreaterThan(4);
    const original = manifest(root);
    expect((await migrate(root, "--execute")).code).toBe(0);
    for (const level of levels) expect(() => lstatSync(join(root, level)), level).toThrow();
    const rolledBack = await migrate(root, "--rollback");
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(manifest(root)).toEqual(original);
  }, 120_000);
});

describe("kdgat migrate --execute after a crash", () => {
  it("drops a torn last journal line before appending, so the journal stays whole and --rollback works", async () => {
    const reference = freshTree();
    const original = manifest(reference);
    expect((await migrate(reference, "--execute")).code).toBe(0);
    const migrated = manifest(reference);

    const root = freshTree();
    const crashed = await migrate(root, "--execute", 3);
    expect(crashed.signal).toBe("SIGKILL");
    // The crash (or a full disk) left half a record at the end, without its newline.
    appendFileSync(join(root, JOURNAL), '{"op":"intent","id":99,"from":"automo');
    const resumed = await migrate(root, "--execute");
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = readFileSync(join(root, JOURNAL), "utf8").split("\n");
    expect(lines.pop()).toBe("");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.some((line) => line.includes('"id":99'))).toBe(false);
    const { [JOURNAL]: _journal, ...tree } = manifest(root);
    const { [JOURNAL]: _reference, ...expected } = migrated;
    expect(tree).toEqual(expected);
    const rolledBack = await migrate(root, "--rollback");
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(manifest(root)).toEqual(original);
  }, 120_000);
});
