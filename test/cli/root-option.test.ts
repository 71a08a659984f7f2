/** `--root` of migrate and backfill: one rule, an existing folder, else a usage error (exit 2) before anything runs. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "kdgat-root-"));
const file = join(dir, "not-a-folder");

beforeAll(() => {
  writeFileSync(file, "");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--root", () => {
  for (const args of [["backfill"], ["migrate", "--dry-run"]]) {
    it(`${args[0]} refuses a missing folder and a file with a usage error`, async () => {
      for (const root of [join(dir, "missing"), file]) {
        const result = await runCli([...args, "--root", root, "--api", "http://127.0.0.1:9"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`--root ${root}: no such folder`);
      }
    });
  }
});
