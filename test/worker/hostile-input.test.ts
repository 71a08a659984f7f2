/**
 * Hostile bodies get a clear 400 in MLflow's error shape that quotes at most a short excerpt, and
 * nothing is written: over-long filters, order_by entries and page tokens are refused by their cap;
 * the worst cases of each parser (timed in test/domain/hostile-parsers.test.ts, since the clock
 * stands still in workerd during CPU work) are answered, not echoed back.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { EXCERPT_LENGTH } from "../../functions/domain/excerpt";
import { LIMITS } from "../../functions/domain/limits";
import { ADMIN_TOKEN, call, post } from "./support/call";

/** Room for the message's own words around the excerpt. */
const MAX_MESSAGE = EXCERPT_LENGTH + 250;
let experimentId = "";
let runId = "";

async function expectRefusal(response: { status: number; json: any } | Response, pattern: RegExp) {
  const { status, body } = response instanceof Response ? { status: response.status, body: response.json } : { status: response.status, body: response.json };
  expect(status).toBe(400);
  expect(Object.keys(body).sort()).toEqual(["error_code", "message"]);
  expect(body.error_code).toBe("INVALID_PARAMETER_VALUE");
  expect(body.message).toMatch(pattern);
  expect(body.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
}

const digitsThenLetter = (length: number, head = "") => `${head}${"1".repeat(length - head.length - 1)}x`;

beforeAll(async () => {
  experimentId = (await post("experiments/create", { name: "hostile" })).json.experiment_id;
  runId = (await post("runs/create", { experiment_id: experimentId, run_name: "target" })).json.run.info.run_id;
});

describe("caps on what has no business being long", () => {
  it("a filter over the cap is refused by runs/search and experiments/search; at the cap it is parsed", async () => {
    const over = digitsThenLetter(LIMITS.maxFilterLength + 1, "metrics.a > ");
    await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], filter: over }), /'filter': at most 32768 characters.*got 32769/);
    await expectRefusal(await post("experiments/search", { filter: over }), /'filter': at most 32768 characters/);
    const atCap = digitsThenLetter(LIMITS.maxFilterLength, "metrics.a > ");
    await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], filter: atCap }), /^Invalid filter 'metrics\.a > 1{20}/);
    const longValue = `tags.note = '${"x".repeat(LIMITS.maxTagValueLength)}' and tags.other = '${"y".repeat(LIMITS.maxTagValueLength)}'`;
    expect((await post("runs/search", { experiment_ids: [experimentId], filter: longValue })).status).toBe(200);
  });

  it("an order_by entry over the cap is refused; a maximal quoted key is not", async () => {
    await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], order_by: [`metrics.${"a".repeat(LIMITS.maxOrderByLength)}`] }), /'order_by': at most 1024/);
    await expectRefusal(await post("experiments/search", { order_by: ["name", "x".repeat(LIMITS.maxOrderByLength + 1)] }), /'order_by': at most 1024/);
    const key = "`".concat("k".repeat(LIMITS.maxKeyLength), "`");
    expect((await post("runs/search", { experiment_ids: [experimentId], order_by: [`params.${key} DESC`] })).status).toBe(200);
  });

  it("a page token over the cap is refused, on the MLflow API and /api/v1", async () => {
    const token = btoa(`{"offset": ${"1".repeat(LIMITS.maxPageTokenLength)}}`);
    await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], page_token: token }), /'page_token': at most 1024/);
    await expectRefusal(await post("experiments/search", { page_token: token }), /'page_token': at most 1024/);
    await expectRefusal(await call("GET", `/api/v1/runs?experiment=hostile&page_token=${"A".repeat(LIMITS.maxPageTokenLength + 1)}`), /'page_token'/);
  });
});

describe("hostile bodies are answered with a short excerpt", () => {
  it("filter errors quote at most an excerpt of the filter", async () => {
    const filters = [
      digitsThenLetter(30_000, "metrics.a > "),
      `tags.a = '${"''".repeat(15_000)}`,
      `${"metrics.a > 1 AND ".repeat(1500)}metrics.a ~ 1`,
      `metrics.a ${"<".repeat(30_000)} 1`,
      `tags.a = ${"1".repeat(30_000)}`,
      `${"(".repeat(30_000)}`,
      `${"a".repeat(30_000)}.b = 'x'`,
    ];
    for (const filter of filters) {
      await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], filter }), /./);
      await expectRefusal(await post("experiments/search", { filter: filter.replaceAll("metrics.", "tags.") }), /./);
    }
    const orderBy = [`metrics.${"`".repeat(1001)}`];
    await expectRefusal(await post("runs/search", { experiment_ids: [experimentId], order_by: orderBy }), /^Invalid order_by clause/);
  });

  it("a config PUT of escaped quotes or deep nesting is malformed JSON; nothing is written", async () => {
    const runsBefore = (await env.DB.prepare("select count(*) as n from runs").first<{ n: number }>())!.n;
    for (const body of [`{"a": "${'\\"'.repeat(400_000)}`, `{"a": ${"[".repeat(500_000)}`, `{"a": ${"1".repeat(900_000)}x}`]) {
      await expectRefusal(await call("PUT", "/api/v1/runs/set_01/hostile_config", { token: ADMIN_TOKEN, body }), /^Malformed JSON/);
    }
    expect((await env.DB.prepare("select count(*) as n from runs").first<{ n: number }>())!.n).toBe(runsBefore);
  });

  it("metrics uploads: a long CSV cell, a long metrics.json string, a long log-batch value", async () => {
    expect((await call("PUT", "/api/v1/runs/set_01/hostile_metrics", { token: ADMIN_TOKEN, body: "{}" })).status).toBe(201);
    const upload = (body: string, format: string) => call("POST", `/api/v1/runs/set_01/hostile_metrics/metrics?format=${format}`, { token: ADMIN_TOKEN, body });
    await expectRefusal(await upload(`step,loss\r\n0,${digitsThenLetter(80_000)}\r\n`, "csv"), /^Malformed CSV.*over 1024 characters/);
    await expectRefusal(await upload(`step,loss\r\n0,"${'""'.repeat(500_000)}"\r\n`, "csv"), /^Malformed CSV/);
    await expectRefusal(await upload(`step,loss\r\n0,${digitsThenLetter(1000)}\r\n`, "csv"), /^Invalid value "1{20}.*\(1002 characters\) for metric 'loss' on line 2: not a number/);
    await expectRefusal(await upload(JSON.stringify([{ step: 0, metrics: { f1: digitsThenLetter(80_000) } }]), "json"), /^Invalid value "1{20}.*for metric 'f1': not a number/);
    await expectRefusal(await upload(`{"gat": ${"[".repeat(100_000)}`, "metrics.json"), /^Malformed JSON/);
    const points = await env.DB.prepare("select count(*) as n from metrics m join runs r on r.run_uuid = m.run_uuid where r.name = 'hostile_metrics'").first<{ n: number }>();
    expect(points!.n).toBe(0);
    const batch = { run_id: runId, metrics: [{ key: "loss", value: digitsThenLetter(80_000), timestamp: 1, step: 0 }] };
    await expectRefusal(await post("runs/log-batch", batch), /^Invalid value "1{20}.*for parameter 'metrics\.0\.value'/);
  });
});
