/**
 * The migration journal's rules (issue 14), on real temp folders, calling cli/migrate/journal.ts
 * directly (it is in the mutation-tested set, `npm run test:mutation`): every line is checked before
 * any is acted on, a torn last line is dropped (and repaired before the next append), and each move's
 * state is the last record written for it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfinedRoot } from "../../cli/migrate/confine.js";
import { foldMoves, JOURNAL_FILE, Journal, type JournalRecord } from "../../cli/migrate/journal.js";
import { EXCERPT_LENGTH, excerpt } from "../../functions/domain/excerpt.js";

const base = mkdtempSync(join(tmpdir(), "kdgat-journal-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let roots = 0;
function rootWith(text?: string): { dir: string; root: ConfinedRoot; file: string } {
  const dir = join(base, `root-${roots++}`);
  mkdirSync(dir);
  const file = join(dir, JOURNAL_FILE);
  if (text !== undefined) writeFileSync(file, text);
  return { dir, root: new ConfinedRoot(dir), file };
}
const lines = (...records: unknown[]) => records.map((r) => `${typeof r === "string" ? r : JSON.stringify(r)}\n`).join("");
const intent = (id: number, from = `automotive/d/${id}`, to = `d/run_${id}`) => ({ op: "intent", id, from, to });

describe("the journal", () => {
  it("is created when missing, appended to, and read back as written", () => {
    const { root, file } = rootWith();
    expect(Journal.exists(root)).toBe(false);
    const journal = Journal.open(root);
    expect(Journal.exists(root)).toBe(true);
    expect(journal.records).toEqual([]);
    expect(journal.nextId()).toBe(1);
    const records: JournalRecord[] = [intent(1) as JournalRecord, { op: "done", id: 1 }, { op: "rmdir", path: "automotive/d", mode: 0o750 }, { op: "mkdir", path: "d" }];
    journal.append(records);
    journal.append([]);
    journal.sync();
    journal.close();
    expect(readFileSync(file, "utf8")).toBe(lines(...records));
    expect(Journal.read(root)).toEqual(records);
    expect(Journal.open(root).records).toEqual(records);
  });

  it("numbers a new move after the highest id written, whatever the order", () => {
    const { root } = rootWith(lines(intent(3), intent(7), { op: "done", id: 3 }, { op: "mkdir", path: "d" }));
    expect(Journal.open(root).nextId()).toBe(8);
  });

  it("reads every move state back, and folds them per move", () => {
    const states = ["done", "failed", "undo-intent", "undone"];
    const { root } = rootWith(lines(...states.map((_, i) => intent(i + 1)), ...states.map((op, i) => ({ op, id: i + 1 }))));
    const journal = Journal.open(root);
    expect([...journal.moves().values()].map((m) => [m.id, m.state])).toEqual(states.map((op, i) => [i + 1, op]));
  });

  it("gives each move the state of the last record written for it; a state for an unknown move is ignored", () => {
    const moves = foldMoves([
      intent(1),
      intent(2),
      { op: "done", id: 1 },
      { op: "undo-intent", id: 1 },
      { op: "failed", id: 2 },
      { op: "undone", id: 9 },
      { op: "mkdir", path: "x" },
    ] as JournalRecord[]);
    expect([...moves.values()]).toEqual([
      { id: 1, from: "automotive/d/1", to: "d/run_1", state: "undo-intent" },
      { id: 2, from: "automotive/d/2", to: "d/run_2", state: "failed" },
    ]);
  });

  it("drops a torn last line: read leaves the file alone, open cuts it off before appending", () => {
    const whole = lines(intent(1, "automotive/é/1"), { op: "done", id: 1 });
    const { root, file } = rootWith(`${whole}{"op":"intent","id":2,"fr`);
    expect(Journal.read(root)).toHaveLength(2);
    expect(readFileSync(file, "utf8")).toBe(`${whole}{"op":"intent","id":2,"fr`);
    const journal = Journal.open(root);
    expect(journal.records).toHaveLength(2);
    expect(readFileSync(file, "utf8")).toBe(whole);
    journal.append([intent(2) as JournalRecord]);
    journal.close();
    expect(readFileSync(file, "utf8")).toBe(whole + lines(intent(2)));
  });

  it("is refused whole when any line is malformed, naming the file, the line, the problem and an excerpt", () => {
    const refusal = (bad: string) => {
      const { root, file } = rootWith(lines(intent(1), "", bad, { op: "done", id: 1 }));
      const before = readFileSync(file, "utf8");
      let message = "";
      try {
        Journal.open(root);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(readFileSync(file, "utf8"), bad).toBe(before);
      return message;
    };
    const expectRefused = (bad: string, problem: string) => expect(refusal(bad).endsWith(`, line 3: ${problem}; refused, nothing was changed: ${excerpt(bad)}`), bad).toBe(true);
    expectRefused("{not json", "not a JSON record");
    expectRefused("5", "not a record");
    expectRefused("null", "not a record");
    expectRefused('{"op":"rename","id":1}', "unknown op");
    expectRefused('{"id":1}', "unknown op");
    for (const id of ["0", "-1", "1.5", '"1"']) {
      expectRefused(`{"op":"done","id":${id}}`, "bad id");
      expectRefused(`{"op":"intent","id":${id},"from":"a","to":"b"}`, "bad id");
    }
    expectRefused('{"op":"intent","id":2,"from":"/etc","to":"b"}', "'from' is not a path confined to the root (absolute)");
    expectRefused('{"op":"intent","id":2,"from":"a","to":"../b"}', "'to' is not a path confined to the root (has a '..' segment)");
    expectRefused('{"op":"mkdir","path":""}', "'path' is not a path confined to the root (empty)");
    for (const mode of ["-1", "4096", "1.5", '"755"']) expectRefused(`{"op":"rmdir","path":"a","mode":${mode}}`, "bad mode");
    expectRefused('{"op":"rmdir","path":"a/./b","mode":493}', "'path' is not a path confined to the root (has an empty or '.' segment)");
    const long = `{"op":"intent","id":2,"from":"${"x/".repeat(120)}..","to":"b"}`;
    expectRefused(long, "'from' is not a path confined to the root (has a '..' segment)");
    expect(refusal(long)).toContain(JOURNAL_FILE);
    expect(refusal(long)).toContain(`... (${long.length} characters)`);
    const exactlyExcerpt = `{"op":"mkdir","path":"/${"a".repeat(EXCERPT_LENGTH - 25)}"}`;
    expect(exactlyExcerpt).toHaveLength(EXCERPT_LENGTH);
    expectRefused(exactlyExcerpt, "'path' is not a path confined to the root (absolute)");
    expect(refusal(exactlyExcerpt)).not.toContain("characters)");
  });

  it("accepts every mode from 0 to 0o7777, and skips blank lines", () => {
    const { root } = rootWith(lines({ op: "rmdir", path: "a", mode: 0 }, "   ", { op: "rmdir", path: "b", mode: 0o7777 }));
    expect(Journal.read(root)).toHaveLength(2);
  });

  it("refuses a record whose path leads through a symlinked folder, and a journal that is a symlink", () => {
    const outside = mkdtempSync(join(base, "outside-"));
    const linked = rootWith(lines({ op: "mkdir", path: "door/made" }));
    symlinkSync(outside, join(linked.dir, "door"));
    expect(() => Journal.read(linked.root)).toThrow(/line 1: path "door\/made" is not confined to the root: door is a symlink \(never followed\)/);
    for (const [from, to] of [
      ["door/x", "d/x"],
      ["automotive/x", "door/x"],
    ]) {
      const moved = rootWith(lines(intent(1, from, to)));
      symlinkSync(outside, join(moved.dir, "door"));
      expect(() => Journal.read(moved.root), `${from} -> ${to}`).toThrow(/door is a symlink \(never followed\)/);
    }

    const { dir, root } = rootWith();
    writeFileSync(join(outside, "journal"), lines(intent(1)));
    symlinkSync(join(outside, "journal"), join(dir, JOURNAL_FILE));
    expect(() => Journal.open(root)).toThrow(`the migration journal ${join(root.real, JOURNAL_FILE)} is a symlink: refused (never followed)`);
    expect(() => Journal.read(root)).toThrow(/is a symlink: refused/);
  });

  it("is removed after a completed rollback, so that the next --execute starts afresh", () => {
    const { dir, root } = rootWith(lines(intent(1)));
    Journal.open(root).remove();
    expect(readdirSync(dir)).toEqual([]);
    expect(Journal.exists(root)).toBe(false);
  });
});
