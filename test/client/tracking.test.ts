/**
 * The real MLflow 2.17.2 client against our Worker and against MLflow's own server: the same
 * script, answers normalised (ids, times, hosts) and compared, plus the facts each one must show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientMissing, clientSuite } from "./support/mlflow.js";
import { startTargets, type Targets } from "./support/targets.js";

describe.skipIf(clientMissing)(clientSuite("the real MLflow client, tracking calls"), () => {
  let targets: Targets;
  beforeAll(async () => {
    targets = await startTargets(0);
  });
  afterAll(async () => {
    await targets?.stop();
  });

  it("fluent API: params, metrics, tags, nested and failed runs read back as on MLflow's server", async () => {
    const { ours, theirs } = await targets.both("fluent.py");
    expect(ours.parent.info.status).toBe("FINISHED");
    expect(ours.parent.data.params).toEqual({ lr: "0.001", batch_size: "64", hidden: "(1024, 512, 96)", use_kd: "True" });
    expect(ours.child.data.tags["mlflow.parentRunId"]).toBe(ours.parent.info.run_id);
    expect(ours.failed.info.status).toBe("FAILED");
    expect(ours.killed.info.status).toBe("KILLED");
    expect(ours.history.map((m: { step: number }) => m.step)).toEqual([0, 1, 2]);
    expect(ours).toEqual(theirs);
  });

  // client.py creates its experiment: run once per server, read by two tests.
  let clientRun: ReturnType<Targets["both"]> | undefined;
  const clientResult = () => (clientRun ??= targets.both("client.py"));

  it("MlflowClient: experiments, log_batch, history, set_terminated, delete and restore as on MLflow's server", async () => {
    const { ours, theirs } = await clientResult();
    expect(ours.experiment).toMatchObject({ name: "client-exp", tags: { team: "kd-gat" }, id_matches: true });
    expect(ours.duplicate).toBe("RESOURCE_ALREADY_EXISTS");
    expect(ours.param_changed).toBe("INVALID_PARAMETER_VALUE");
    expect(ours.run.info.status).toBe("FINISHED");
    expect(ours.run.data.tags.note).toBe("second");
    expect(ours.run.data.tags.stage).toBeUndefined();
    expect(ours.deleted_only).toEqual(["to-delete"]);
    expect(ours.restored).toBe("active");
    expect(ours.missing_run.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(ours.history.map((m: { step: number }) => m.step)).toEqual([3, 1, 2, 2, 1, 0, 4]);
    // The order get_metric_history returns is compared on its own (below).
    const { history_as_returned: _ours, ...oursRest } = ours;
    const { history_as_returned: _theirs, ...theirsRest } = theirs;
    expect(oursRest).toEqual(theirsRest);
  });

  it("async logging (synchronous=False and MLFLOW_ENABLE_ASYNC_LOGGING) stores every call as on MLflow's server", async () => {
    const { ours, theirs } = await targets.both("async_logging.py", { env: { MLFLOW_ENABLE_ASYNC_LOGGING: "true" } });
    expect(ours.per_call.data.params).toEqual({ lr: "0.01", epochs: "50" });
    expect(ours.per_call.data.metrics).toEqual({ loss: 0.02, acc: 0.5, f1: 0.4 });
    expect(ours.per_call_history).toBe(50);
    expect(ours.env_wide_history).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(ours.env_wide.data.tags).toMatchObject({ a: "1", b: "2" });
    expect(ours.env_wide.info.status).toBe("FINISHED");
    expect(ours).toEqual(theirs);
  });

  it("get_metric_history returns the points in MLflow's order (not step order)", async () => {
    const { ours, theirs } = await clientResult();
    expect(theirs.history_as_returned.map((m: { step: number }) => m.step)).toEqual([3, 1, 2, 2, 1, 0, 4]);
    expect(ours.history_as_returned).toEqual(theirs.history_as_returned);
  });

  it("over-long param and tag values are cut (or refused) as MLflow's server does", async () => {
    const { ours, theirs } = await targets.both("edges.py");
    expect(ours.errors).toEqual({ log_param_6001: null, set_tag_8001: null, batch_param_6001: null, batch_tag_8001: null, param_600000: null });
    expect(ours.params).toEqual({ long_param: 6000, batch_param: 6000, huge_param: 6000 });
    expect(ours.tags).toEqual({ long_tag: 8000, batch_tag: 8000 });
    expect(ours).toEqual(theirs);
  });
});
