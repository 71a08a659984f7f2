/**
 * mlflow.search_runs into pandas and MlflowClient.search_runs paging over 1,050 runs, on our Worker
 * and on MLflow's own server, seeded with the same runs (seed_runs.py: MLflow's SQL store there, one
 * v1 import here, instead of 2,100 client calls each).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callServer } from "../support/call.js";
import { clientMissing, clientSuite, normalise, runPython } from "./support/mlflow.js";
import { startTargets, type Targets } from "./support/targets.js";

describe.skipIf(clientMissing)(clientSuite("the real MLflow client, search_runs over more than 1,000 runs"), () => {
  let targets: Targets;
  beforeAll(async () => {
    targets = await startTargets(1);
    const created = await callServer(targets.mlflow.url, "POST", "/api/2.0/mlflow/experiments/create", { body: { name: "search-many" } });
    const { experiment_id } = created.json as { experiment_id: string };
    await Promise.all([
      runPython("seed_runs.py", targets.mlflow, { args: ["mlflow", targets.mlflowServer.backendUri, experiment_id] }),
      runPython("seed_runs.py", targets.kdgat, { args: ["kdgat", targets.kdgat.url, targets.server.adminToken] }),
    ]);
  });
  afterAll(async () => {
    await targets?.stop();
  });

  it("filters, order_by and pages come back as from MLflow's server", async () => {
    const [ours, theirs] = (await Promise.all([runPython("search.py", targets.kdgat), runPython("search.py", targets.mlflow)])).map((r) => normalise(r.json) as any);
    expect(ours.everything.shape[0]).toBe(1050);
    expect(ours.everything.acc[0]).toBe(0.999);
    expect(ours.everything.acc).toEqual([...ours.everything.acc].sort((a: number, b: number) => b - a));
    expect(ours.finished.shape[0]).toBe(105);
    expect(ours.finished.statuses).toEqual(["FINISHED"]);
    expect(ours.liked.shape[0]).toBe(350);
    expect(ours.paged).toMatchObject({ pages: 4, sorted: true });
    expect(ours.paged.count).toBeGreaterThan(750);
    expect(ours).toEqual(theirs);
  });
});
