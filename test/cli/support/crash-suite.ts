/**
 * The crash-safety suite of `kdgat migrate` (test/cli/migrate-crash-*.test.ts, one file per way of
 * moving, so that the two run side by side). Crash safety of `kdgat migrate`: the process is killed with a real SIGKILL after N steps (journal
 * writes and filesystem changes, via KDGAT_TEST_CRASH_AFTER), for every N until a run completes.
 * Resuming must then leave exactly the tree an uninterrupted --execute leaves, and --rollback (from
 * the crashed state, or after a crash of the rollback itself at any of its steps: recreating
 * folders, moving back, removing created folders, setting folder times back) exactly the original
 * tree: contents, modes, symlinks, every mtime (folders' and the root's own included, to the
 * microsecond) and nothing of migrate's left in the root.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOURNAL_FILE } from "../../../cli/migrate/journal.js";
import { runCli } from "./cli.js";
import { manifest } from "./manifest.js";
import { buildOldTree, type TreeOptions } from "./trees.js";

const EXACT = { exact: true };

const base = mkdtempSync(join(tmpdir(), "kdgat-crash-"));
let treeCount = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

function freshTree(options: TreeOptions): string {
  const root = join(base, `tree-${treeCount++}`, "experimentruns");
  mkdirSync(root, { recursive: true });
  buildOldTree(root, options);
  return root;
}

/**
 * An exact copy of a tree (cp -a keeps modes, links and every time; migrate's journal holds relative
 * paths), checked against the tree's exact manifest (`exact`, when already known).
 */
function copyTree(root: string, exact = manifest(root, EXACT)): string {
  const copy = join(base, `tree-${treeCount++}`);
  execFileSync("cp", ["-a", join(root, ".."), copy]);
  const copiedRoot = join(copy, basename(root));
  expect(manifest(copiedRoot, EXACT)).toEqual(exact);
  return copiedRoot;
}

const removeTree = (root: string) => rmSync(join(root, ".."), { recursive: true, force: true });

const migrate = (root: string, mode: string, env: Record<string, string>, crashAfter?: number) =>
  runCli(["migrate", "--root", root, mode, "--json"], { env: { ...env, ...(crashAfter ? { KDGAT_TEST_CRASH_AFTER: String(crashAfter) } : {}) } });

/** Where a killed rollback stopped: how many of the journaled moves were back in their old place. */
function rollbackPhase(root: string): string {
  const moves = readFileSync(join(root, JOURNAL_FILE), "utf8")
    .split("\n")
    .filter((line) => line.includes('"op":"intent"'))
    .map((line) => JSON.parse(line) as { from: string; to: string });
  const back = moves.filter((move) => existsSync(join(root, move.from)) && !existsSync(join(root, move.to))).length;
  return back === 0 ? "before any move back" : back < moves.length ? "while moving back" : "after the moves";
}

export function crashSuite(label: string, options: TreeOptions, env: Record<string, string>, every: number) {
  describe(label, () => {
    let migrated: Record<string, string>;
    /** A tree migrated by an uninterrupted --execute: its exact manifest before and after. */
    let executed: { root: string; original: Record<string, string>; exact: Record<string, string> };

    beforeAll(async () => {
      const root = freshTree(options);
      const before = manifest(root);
      const original = manifest(root, EXACT);
      const done = await migrate(root, "--execute", env);
      expect(done.code).toBe(0);
      migrated = manifest(root);
      expect(migrated).not.toEqual(before);
      executed = { root, original, exact: manifest(root, EXACT) };
    });

    /**
     * Kills `migrate <mode>` at step 1, 1 + every, ... on a new tree from `start` each time, until a
     * run completes; `recover` checks each killed tree against the manifest of the tree before migrate.
     */
    async function eachCrash(
      mode: "--execute" | "--rollback",
      start: () => { root: string; original: Record<string, string> },
      recover: (root: string, n: number, original: Record<string, string>) => Promise<void>,
    ) {
      let crashes = 0;
      for (let n = 1; ; n += every) {
        const { root, original } = start();
        const crashed = await migrate(root, mode, env, n);
        if (crashed.signal !== "SIGKILL") break;
        crashes++;
        await recover(root, n, original);
        removeTree(root);
      }
      expect(crashes).toBeGreaterThan(5);
    }

    const oldTree = () => {
      const root = freshTree(options);
      return { root, original: manifest(root, EXACT) };
    };

    it("execute killed at step N: --execute again finishes it and --rollback then restores the original; so does --rollback straight away", async () => {
      await eachCrash("--execute", oldTree, async (root, n, original) => {
        // The killed tree twice: recovered one way each.
        const copy = copyTree(root);
        const rolledBackAtOnce = await migrate(copy, "--rollback", env);
        expect(rolledBackAtOnce.code, `rollback after crash at ${n}: ${rolledBackAtOnce.stderr}`).toBe(0);
        expect(manifest(copy, EXACT), `rolled back after crash at step ${n}`).toEqual(original);
        removeTree(copy);
        const resumed = await migrate(root, "--execute", env);
        expect(resumed.code, `resume after crash at ${n}: ${resumed.stderr}`).toBe(0);
        expect(manifest(root), `resumed after crash at step ${n}`).toEqual(migrated);
        const rolledBack = await migrate(root, "--rollback", env);
        expect(rolledBack.code, `rollback after crash at ${n}: ${rolledBack.stderr}`).toBe(0);
        expect(manifest(root, EXACT), `rolled back after crash at step ${n} and resume`).toEqual(original);
      });
    }, 600_000);

    it("rollback killed at step N: --rollback again restores the original", async () => {
      const phases = new Set<string>();
      // Each rollback starts from a copy of the migrated tree, journal and all.
      const migratedTree = () => ({ root: copyTree(executed.root, executed.exact), original: executed.original });
      await eachCrash("--rollback", migratedTree, async (root, n, original) => {
        phases.add(rollbackPhase(root));
        const blocked = await migrate(root, "--execute", env);
        if (blocked.code !== 0) expect(blocked.stderr).toContain("run --rollback again");
        const rolledBack = await migrate(root, "--rollback", env);
        expect(rolledBack.code, `rollback after rollback crash at ${n}: ${rolledBack.stderr}`).toBe(0);
        // EXACT: every entry of the root, so nothing of migrate is left for a further --rollback (migrate.test.ts).
        expect(manifest(root, EXACT), `rolled back after rollback crash at step ${n}`).toEqual(original);
      });
      // Killed before, while and after folders were moved back (recreating folders, setting times back).
      expect([...phases].sort()).toEqual(["after the moves", "before any move back", "while moving back"]);
    }, 600_000);
  });
}
