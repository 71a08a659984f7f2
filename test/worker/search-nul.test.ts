/**
 * LIKE / ILIKE with a NUL on either side (SQLite's own LIKE and GLOB stop reading at a NUL): through
 * runs/search and experiments/search, against real D1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { post } from "./support/call";

let experimentId = "";
/** Every control character, and characters json_quote escapes, around a NUL. */
const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("");
const VALUES: Record<string, string> = {
  plain: "abc",
  nul: "abc\0def",
  twoNuls: "\0x\0",
  controls: `${CONTROLS}"\\\\u0000\u007f-é-😀`,
};
const names = async (filter: string, experiments = false) => {
  if (experiments) {
    const answer = await post("experiments/search", { filter, max_results: 100 });
    expect(answer.status).toBe(200);
    return (answer.json.experiments ?? [])
      .map((e: { name: string }) => e.name)
      .filter((n: string) => n.startsWith("nul-"))
      .sort();
  }
  const answer = await post("runs/search", { experiment_ids: [experimentId], filter });
  expect(answer.status).toBe(200);
  return (answer.json.runs ?? []).map((r: { info: { run_name: string } }) => r.info.run_name).sort();
};

beforeAll(async () => {
  experimentId = (await post("experiments/create", { name: "search-nul" })).json.experiment_id;
  for (const [name, value] of Object.entries(VALUES)) {
    const run = (await post("runs/create", { experiment_id: experimentId, run_name: name })).json.run;
    const logged = await post("runs/log-batch", { run_id: run.info.run_id, params: [{ key: "p", value }], tags: [{ key: "t", value }] });
    expect(logged.status).toBe(200);
    expect((await post("experiments/create", { name: `nul-${name}`, tags: [{ key: "t", value }] })).status).toBe(200);
  }
});

describe("LIKE and ILIKE with a NUL", () => {
  it("match the whole value, not the part before its NUL", async () => {
    for (const op of ["LIKE", "ILIKE"]) {
      expect(await names(`tags.t ${op} 'abc'`)).toEqual(["plain"]);
      expect(await names(`params.p ${op} '%def'`)).toEqual(["nul"]);
      expect(await names(`params.p ${op} 'abc_def'`)).toEqual(["nul"]);
      expect(await names(`tags.t ${op} 'abc%'`)).toEqual(["nul", "plain"]);
      expect(await names(`tags.t ${op} '_x_'`)).toEqual(["twoNuls"]);
    }
    expect(await names("tags.t ILIKE 'ABC_DEF'")).toEqual(["nul"]);
    expect(await names("tags.t LIKE 'ABC_DEF'")).toEqual([]);
  });

  it("take a NUL in the pattern as the character itself, never as its end", async () => {
    for (const op of ["LIKE", "ILIKE"]) {
      expect(await names(`tags.t ${op} '%\0zzz'`)).toEqual([]);
      expect(await names(`tags.t ${op} '\0'`)).toEqual([]);
      expect(await names(`tags.t ${op} 'abc\0def'`)).toEqual(["nul"]);
      expect(await names(`params.p ${op} '%\0%'`)).toEqual(["controls", "nul", "twoNuls"]);
      expect(await names(`params.p ${op} '\0_\0'`)).toEqual(["twoNuls"]);
    }
  });

  it("count every other character as one, whatever json_quote would escape", async () => {
    const value = VALUES.controls;
    expect(await names(`tags.t LIKE '${"_".repeat([...value].length)}'`)).toEqual(["controls"]);
    expect(await names(`tags.t LIKE '${"_".repeat([...value].length - 1)}'`)).toEqual([]);
    expect(await names(`tags.t LIKE '${CONTROLS.replaceAll("'", "''")}%'`)).toEqual(["controls"]);
    expect(await names(`tags.t LIKE '%"\\\\u0000%'`)).toEqual(["controls"]);
    expect(await names(`tags.t LIKE '%\\u0000%'`)).toEqual(["controls"]);
  });

  it("apply to names and tags in experiments/search too", async () => {
    expect(await names("name LIKE 'nul-%'", true)).toHaveLength(4);
    expect(await names("tags.t LIKE 'abc'", true)).toEqual(["nul-plain"]);
    expect(await names("tags.t LIKE '%def'", true)).toEqual(["nul-nul"]);
    expect(await names("tags.t ILIKE '%\0zzz'", true)).toEqual([]);
  });

  it("count a pattern's NUL as the 4 bytes it is matched as against D1's 50-byte limit", async () => {
    const answer = await post("runs/search", { experiment_ids: [experimentId], filter: `tags.t LIKE '${"\0".repeat(13)}'` });
    expect(answer.status).toBe(400);
    expect(answer.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(answer.json.message).toMatch(/at most 50 bytes/);
    expect(await names(`tags.t LIKE '${"\0".repeat(12)}'`)).toEqual([]);
  });
});
