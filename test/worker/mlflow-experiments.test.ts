import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { get, post } from "./support/call";

const ids: Record<string, string> = {};

describe("MLflow experiments", () => {
  it("experiment 0 is Default and always exists", async () => {
    const res = await get("experiments/get", { experiment_id: "0" });
    expect(res.json.experiment).toMatchObject({ experiment_id: "0", name: "Default", artifact_location: "mlflow-artifacts:/0", lifecycle_stage: "active" });
    expect(res.json.experiment.tags).toBeUndefined();
    expect((await get("experiments/get-by-name", { experiment_name: "Default" })).json.experiment.experiment_id).toBe("0");
    const del = await post("experiments/delete", { experiment_id: "0" });
    expect(del.status).toBe(400);
    expect(del.json.message).toBe("Cannot delete the default experiment '0'. This is a reserved experiment.");
  });

  it("creates experiments (numbers accepted as ids), rejects bad names and unknown ids", async () => {
    for (const name of ["alpha", "beta", "Gamma"]) {
      const res = await post("experiments/create", { name, tags: [{ key: "kind", value: name === "beta" ? "b" : "other" }] });
      expect(res.status).toBe(200);
      ids[name] = res.json.experiment_id;
    }
    expect((await get("experiments/get", { experiment_id: ids.alpha })).json.experiment.artifact_location).toBe(`mlflow-artifacts:/${ids.alpha}`);
    expect((await post("experiments/create", { name: "" })).status).toBe(400);
    expect((await post("experiments/create", { name: 5 })).status).toBe(400);
    const badTag = await post("experiments/create", { name: "delta", tags: [{ key: "../x", value: "v" }] });
    expect(badTag.status).toBe(400);
    expect((await get("experiments/get-by-name", { experiment_name: "delta" })).status).toBe(404);
    const byName = await get("experiments/get-by-name", { experiment_name: "nope" });
    expect([byName.status, byName.json.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    for (const id of ["abc", "-1", "1.5"]) expect((await get("experiments/get", { experiment_id: id })).status).toBe(404);
    expect((await get("experiments/get", {})).json.message).toMatch(/^Missing value for required parameter 'experiment_id'/);
  });

  it("renames, tags, deletes and restores (with their runs)", async () => {
    expect((await post("experiments/update", { experiment_id: Number(ids.Gamma), new_name: "gamma" })).text).toBe("{}");
    expect((await get("experiments/get-by-name", { experiment_name: "gamma" })).json.experiment.experiment_id).toBe(ids.Gamma);
    const taken = await post("experiments/update", { experiment_id: ids.Gamma, new_name: "alpha" });
    expect([taken.status, taken.json.error_code]).toEqual([400, "RESOURCE_ALREADY_EXISTS"]);
    expect((await post("experiments/update", { experiment_id: ids.Gamma })).json.message).toMatch(/'new_name'/);

    expect((await post("experiments/set-experiment-tag", { experiment_id: ids.alpha, key: "kind", value: "first" })).text).toBe("{}");
    expect((await post("experiments/set-experiment-tag", { experiment_id: ids.alpha, key: "owner", value: "me" })).text).toBe("{}");
    expect((await get("experiments/get", { experiment_id: ids.alpha })).json.experiment.tags).toEqual([
      { key: "kind", value: "first" },
      { key: "owner", value: "me" },
    ]);

    const run = (await post("runs/create", { experiment_id: ids.beta, run_name: "r" })).json.run.info.run_id;
    expect((await post("experiments/delete", { experiment_id: ids.beta })).text).toBe("{}");
    expect((await get("experiments/get", { experiment_id: ids.beta })).json.experiment.lifecycle_stage).toBe("deleted");
    expect((await get("runs/get", { run_id: run })).json.run.info.lifecycle_stage).toBe("deleted");
    const refused = await post("runs/create", { experiment_id: ids.beta });
    expect(refused.status).toBe(400);
    expect((await post("experiments/set-experiment-tag", { experiment_id: ids.beta, key: "k", value: "v" })).status).toBe(400);
    expect((await post("experiments/restore", { experiment_id: ids.beta })).text).toBe("{}");
    expect((await get("runs/get", { run_id: run })).json.run.info.lifecycle_stage).toBe("active");
    expect((await post("experiments/delete", { experiment_id: "999" })).status).toBe(404);
  });

  it("searches by name, tags and times, orders, pages, and filters by view_type", async () => {
    const names = async (body: object) => ((await post("experiments/search", body)).json.experiments ?? []).map((e: { name: string }) => e.name);
    expect(await names({ order_by: ["name ASC"] })).toEqual(["Default", "alpha", "beta", "gamma"]);
    expect(await names({ filter: "name LIKE 'a%'" })).toEqual(["alpha"]);
    expect(await names({ filter: "name LIKE 'A%'" })).toEqual([]);
    expect(await names({ filter: "name ILIKE 'A%'" })).toEqual(["alpha"]);
    expect(await names({ filter: "attribute.name != 'alpha' and tags.kind = 'other'", order_by: ["name"] })).toEqual(["gamma"]);
    expect(await names({ filter: "creation_time > 0", order_by: ["experiment_id DESC"] })).toEqual(["gamma", "beta", "alpha"]);
    // Default order: newest first, ties on experiment_id ASC.
    await env.DB.prepare("update experiments set creation_time = 5 where experiment_id > 0").run();
    expect(await names({})).toEqual(["alpha", "beta", "gamma", "Default"]);

    const first = await post("experiments/search", { max_results: 2, order_by: ["name"] });
    expect(first.json.experiments.map((e: { name: string }) => e.name)).toEqual(["Default", "alpha"]);
    const second = await get("experiments/search", { max_results: "2", order_by: "name", page_token: first.json.next_page_token });
    expect(second.json.experiments.map((e: { name: string }) => e.name)).toEqual(["beta", "gamma"]);
    const third = await post("experiments/search", { max_results: 2, order_by: ["name"], page_token: second.json.next_page_token });
    expect(third.text).toBe("{}");

    await post("experiments/delete", { experiment_id: ids.Gamma });
    expect(await names({ view_type: "DELETED_ONLY" })).toEqual(["gamma"]);
    expect((await names({ view_type: "ALL", order_by: ["name"] })).length).toBe(4);
    expect(await names({ order_by: ["name"] })).toEqual(["Default", "alpha", "beta"]);
  });

  it("refuses bad search input with INVALID_PARAMETER_VALUE", async () => {
    for (const body of [
      { filter: "metrics.x > 1" },
      { filter: "name = 'a' OR name = 'b'" },
      { order_by: ["status"] },
      { page_token: "garbage" },
      { max_results: 50001 },
      { max_results: 0 },
      { view_type: "SOME" },
      { filter: `name LIKE '${"x".repeat(60)}%'` },
    ]) {
      const res = await post("experiments/search", body);
      expect([res.status, res.json.error_code], JSON.stringify(body)).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    }
  });
});
