/**
 * Backfill while the tracker goes away and comes back: the CLI's retries carry it over the outage,
 * and the tracker ends up exactly as after an uninterrupted backfill (nothing lost, nothing twice).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { ExportDocument, SummaryResponse } from "../../functions/api/contract.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./support/cli.js";
import { buildOldTree } from "./support/trees.js";

const base = mkdtempSync(join(tmpdir(), "kdgat-outage-"));
const servers: TestServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(base, { recursive: true, force: true });
});

async function exported(url: string) {
  const result = await runCli(["export", "--api", url]);
  expect(result.code, result.stderr).toBe(0);
  const document = JSON.parse(result.stdout) as ExportDocument;
  // Times of the export and of the experiment's creation differ between trackers; runs must not.
  return {
    experiments: document.experiments.map((e) => ({ ...e, creation_time: 0, last_update_time: 0 })),
    runs: [...document.runs].sort((a, b) => a.run_name.localeCompare(b.run_name)),
  };
}

async function finishedRuns(server: TestServer): Promise<number> {
  const summary = (await server.call("GET", "/api/v1/summary")).json as SummaryResponse;
  return summary.by_status.FINISHED ?? 0;
}

it("survives the tracker going away and coming back mid-run, without loss or duplicates", async () => {
  const root = join(base, "experimentruns");
  mkdirSync(root);
  buildOldTree(root, { datasets: ["hcrl_ch", "hcrl_sa", "set_01", "set_02", "set_03", "set_04"] });
  expect((await runCli(["migrate", "--root", root, "--execute"])).code).toBe(0);

  // The reference: the same tree backfilled with no interruption.
  const control = await startTestServer();
  servers.push(control);
  const controlRun = await runCli(["backfill", "--root", root], { env: { KDGAT_API: control.url, KDGAT_TOKEN: await control.mintToken("control") } });
  expect(controlRun.code, controlRun.stderr).toBe(0);
  expect(await finishedRuns(control)).toBeGreaterThan(40);

  const persistTo = join(base, "d1");
  const first = await startTestServer({ persistTo });
  const token = await first.mintToken("outage");
  const backfill = runCli(["backfill", "--root", root], { env: { KDGAT_API: first.url, KDGAT_TOKEN: token } });
  let settled = false;
  void backfill.finally(() => (settled = true));
  // Stop the tracker once a few runs are in, bring it back on the same port and data.
  while ((await finishedRuns(first)) < 1) await new Promise((r) => setTimeout(r, 10));
  await first.stop();
  // The backfill is still going (retrying) while the tracker is down.
  expect(settled).toBe(false);
  await new Promise((r) => setTimeout(r, 500));
  const second = await startTestServer({ persistTo, port: first.port });
  servers.push(second);

  const result = await backfill;
  const failures = result.stdout.split("\n").filter((line) => line.startsWith("failed"));
  expect(result.code, `${failures.join("\n")}\n${result.stderr}`).toBe(0);
  expect(await finishedRuns(second)).toBe(await finishedRuns(control));
  expect(await exported(second.url)).toEqual(await exported(control.url));
}, 240_000);
