/**
 * Nothing raw on a terminal: run names, tags and error messages that anyone with a token wrote (and
 * folder names, and the tracker's error messages) reach the human output of the real CLI as visible
 * escapes, never as control characters; --json and --csv keep them exact.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { BASE_TIME_MS, writeFileAt, writeRunFolder } from "./support/trees.js";

/** Retitles the window (OSC 0), writes the clipboard (OSC 52), erases the line (CSI 2K), overwrites (CR, BS), C1 CSI, bidi overrides. */
const HOSTILE = "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2K\r\b\x7f\u0085\u009b31m\u202eevil\u2066\tFINISHED";
/** What a terminal acts on: C0 but the line feed, DEL, C1, bidi overrides and isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the tests look for
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

let server: TestServer;
let env: Record<string, string>;
const base = mkdtempSync(join(tmpdir(), "kdgat-terminal-"));
const hostileName = `set_07/teacher_normal${HOSTILE}`;
const hostileError = `forged error ${HOSTILE}\nset_07/fake_run  FINISHED`;

async function call(method: string, path: string, body: string | object): Promise<Record<string, unknown>> {
  const answer = await server.call(method, path, { token: env.KDGAT_TOKEN, body });
  expect(answer.status < 300, `${method} ${path}: ${answer.status}`).toBe(true);
  return answer.json as Record<string, unknown>;
}

beforeAll(async () => {
  server = await startTestServer();
  env = { KDGAT_API: server.url, KDGAT_TOKEN: await server.mintToken("terminal") };
  // A pipeline run that failed with a hostile error message ...
  await call("PUT", "/api/v1/runs/set_07/teacher_autoencoder", '{"dataset": "set_07"}');
  await call("POST", "/api/v1/runs/set_07/teacher_autoencoder/end", { status: "FAILED", error: hostileError });
  // ... and an MLflow run with a hostile name and teacher tag, failed with the same message.
  const experiment = (await server.call("GET", "/api/2.0/mlflow/experiments/get-by-name", { query: { experiment_name: "kd-gat-pipeline" } })).json as {
    experiment: { experiment_id: string };
  };
  const created = await call("POST", "/api/2.0/mlflow/runs/create", {
    experiment_id: experiment.experiment.experiment_id,
    run_name: hostileName,
    start_time: Date.now(),
    tags: [{ key: "teacher_run_id", value: HOSTILE }],
  });
  const runUuid = (created.run as { info: { run_id: string } }).info.run_id;
  await call("POST", "/api/2.0/mlflow/runs/set-tag", { run_id: runUuid, key: "error_msg", value: hostileError });
  await call("POST", "/api/2.0/mlflow/runs/update", { run_id: runUuid, status: "FAILED", end_time: Date.now() });
});

afterAll(async () => {
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** Human output: no control character, and the hostile text shown as escapes (so it was printed, not dropped). */
function expectInert(output: string): void {
  expect(output).not.toMatch(CONTROLS);
  expect(output).toContain("\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBoaQ==\\x07\\x1b[2K\\r\\x08\\x7f\\x85\\x9b31m\\u202eevil\\u2066\\tFINISHED");
}

describe("kdgat query", () => {
  it("prints run names, tags and error messages as visible escapes in tables", async () => {
    for (const args of [["query"], ["query", "--failed"]]) {
      const result = await runCli(args, { env });
      expect(result.code, result.stderr).toBe(0);
      expectInert(result.stdout);
      // One header and two runs: a newline in a message forges no line.
      expect(result.stdout.trimEnd().split("\n"), args.join(" ")).toHaveLength(3);
      expect(result.stdout).toContain("forged error \\x1b]0;pwned");
    }
  });

  it("keeps --json and --csv exact", async () => {
    const json = await runCli(["query", "--json"], { env });
    const runs = JSON.parse(json.stdout).runs as RunSummary[];
    const mlflowRun = runs.find((r) => r.run_id === hostileName);
    expect(mlflowRun).toMatchObject({ status: "FAILED", teacher_run_id: HOSTILE, error_msg: hostileError });
    expect(runs.find((r) => r.run_id === "set_07/teacher_autoencoder")?.error_msg).toBe(hostileError);

    const csv = await runCli(["query", "--csv"], { env });
    expect(csv.stdout).toContain(`"${hostileError}"`);
    expect(csv.stdout).toContain(hostileName);
  });
});

describe("other human output", () => {
  it("escapes the tracker's error messages on stderr", async () => {
    const result = await runCli(["token", "revoke", "bad\x1b]0;pwned\x07name", "--admin-token", server.adminToken], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Invalid token name 'bad\\x1b]0;pwned\\x07name'");
    expect(result.stderr).not.toMatch(CONTROLS);
  });

  it("escapes folder names and details in the backfill report; --json keeps them exact", async () => {
    const root = join(base, "experimentruns");
    const folder = `teacher${HOSTILE.replaceAll("/", "")}`;
    mkdirSync(join(root, "set_07"), { recursive: true });
    writeRunFolder(join(root, "set_07", folder), { dataset: "set_07", size: "teacher", stage: "normal", kd: false }, 0);
    const human = await runCli(["backfill", "--root", root, "--dry-run"], { env });
    expect(human.code, human.stderr).toBe(0);
    expectInert(human.stdout);
    expect(human.stdout).toContain("not a valid run id");

    const json = await runCli(["backfill", "--root", root, "--dry-run", "--json"], { env });
    expect(JSON.parse(json.stdout).runs.map((r: { run_id: string }) => r.run_id)).toEqual([`set_07/${folder}`]);
  });

  it("escapes folder names in the migrate report", async () => {
    const root = join(base, "old-layout");
    writeFileAt(join(root, "automotive", `set${HOSTILE}`, "teacher/supervised/gat/no_distillation/normal/slurm.out"), "log", BASE_TIME_MS);
    const result = await runCli(["migrate", "--root", root, "--dry-run"], { env });
    expectInert(result.stdout);
    expect(result.stdout).toContain("Summary: total 1");
  });
});
