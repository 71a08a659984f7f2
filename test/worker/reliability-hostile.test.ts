/**
 * Hostile input, property-based: every MLflow and /api/v1 write endpoint gets generated bad
 * requests, each arbitrary building one specific kind of invalidity. Every answer must be a 4xx in
 * MLflow's error shape (never a 5xx or a hang) and leave the database exactly as it was. Requests
 * that are valid by construction (hostile but legal names, quoted SQL in filters) must succeed and
 * round-trip. The case counts are printed for the CI log.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../functions/domain/limits";
import { runsOr } from "../support/fast-check.js";
import { ADMIN_TOKEN, type Answer, call } from "./support/call";
import {
  appRoutes,
  bareNonFiniteToken,
  concretePath,
  dumpDatabase,
  excerpt,
  expectClientError,
  invalidKey,
  isReadRoute,
  malformedJson,
  mintToken,
  nonObjectJson,
  notAMetricValue,
  notAnInteger,
  notAString,
  sqlMeta,
  unknownLengthBody,
  unknownRunId,
} from "./support/hostile";

/** Runs per property (FC_NUM_RUNS overrides them all); the whole file then costs about 45 s of CPU (vitest + workerd) on 2 cores. */
const RUNS = { mlflow: 220, v1: 130, searches: 90, lookups: 45, legal: 20 } as const;

const casesRun = new Map<string, number>();
const count = (label: string) => casesRun.set(label, (casesRun.get(label) ?? 0) + 1);
afterAll(() => {
  const total = [...casesRun.values()].reduce((a, b) => a + b, 0);
  console.log(`hostile input: ${total} cases\n${[...casesRun].map(([label, n]) => `  ${n}\t${label}`).join("\n")}`);
});

let token = "";
let experimentId = "";
let runId = "";
const V1_RUN = "/api/v1/runs/hcrl_sa/teacher_autoencoder";

beforeAll(async () => {
  token = await mintToken("hostile");
  const experiment = await call("POST", "/api/2.0/mlflow/experiments/create", { token, body: { name: "hostile-fixture" } });
  experimentId = (JSON.parse(experiment.text) as { experiment_id: string }).experiment_id;
  const run = await call("POST", "/api/2.0/mlflow/runs/create", { token, body: { experiment_id: experimentId, run_name: "fixture" } });
  runId = (JSON.parse(run.text) as { run: { info: { run_id: string } } }).run.info.run_id;
  expect((await call("PUT", V1_RUN, { token, body: { seed: 1 } })).status).toBe(201);
});

/** A generated request and the kind of invalidity it was built with. */
interface Hostile {
  kind: string;
  method: string;
  path: string;
  body: string;
  headers?: Record<string, string>;
  /** Sent instead of the write token (the export answers any token but the admin's with 401). */
  token?: string;
}

/**
 * Sends each case with a valid token. Refused requests must get a 4xx in MLflow's shape and leave
 * the database as it was; `mayRead` lets a read answer 200 instead (still changing nothing).
 */
async function expectRefusedUnchanged(arbitrary: fc.Arbitrary<Hostile>, numRuns: number, mayRead = false) {
  // The dump after each case is the next case's baseline, so shrinking hunts the case that changed it.
  let before = await dumpDatabase();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => {
      count(request.kind);
      const body = request.method === "GET" ? undefined : request.body;
      const answer = await call(request.method, request.path, { token: request.token ?? token, body, headers: request.headers });
      const after = await dumpDatabase();
      const unchanged = after === before;
      before = after;
      const context = `${request.kind}: ${request.method} ${request.path} ${excerpt(request.body, 200)}`;
      if (!(mayRead && answer.status === 200)) expectClientError(answer, context);
      expect(answer.status, context).not.toBe(401);
      expect(unchanged, `${context} changed the database`).toBe(true);
    }),
    { numRuns: runsOr(numRuns) },
  );
}

// ---------------------------------------------------------------------------------------------
// MLflow endpoints, described by their fields

type FieldKind = "string" | "experiment" | "run" | "key" | "int" | "value" | "status" | "keyValues" | "metrics";

interface Endpoint {
  route: string;
  fields: Record<string, FieldKind>;
  required: string[];
  /** The body every mutation starts from: valid, never sent as is. */
  valid: () => Record<string, unknown>;
}

const runRef = () => ({ run_id: runId });
const experimentRef = () => ({ experiment_id: experimentId });
const MLFLOW_WRITES: Endpoint[] = [
  { route: "experiments/create", fields: { name: "string", artifact_location: "string", tags: "keyValues" }, required: ["name"], valid: () => ({ name: "never-created" }) },
  { route: "experiments/update", fields: { experiment_id: "experiment", new_name: "string" }, required: ["experiment_id"], valid: () => ({ ...experimentRef(), new_name: "renamed" }) },
  { route: "experiments/delete", fields: { experiment_id: "experiment" }, required: ["experiment_id"], valid: experimentRef },
  { route: "experiments/restore", fields: { experiment_id: "experiment" }, required: ["experiment_id"], valid: experimentRef },
  {
    route: "experiments/set-experiment-tag",
    fields: { experiment_id: "experiment", key: "key", value: "string" },
    required: ["experiment_id", "key", "value"],
    valid: () => ({ ...experimentRef(), key: "k", value: "v" }),
  },
  {
    route: "runs/create",
    fields: { experiment_id: "experiment", user_id: "string", run_name: "string", start_time: "int", tags: "keyValues" },
    required: [],
    valid: () => ({ ...experimentRef(), run_name: "never-created" }),
  },
  { route: "runs/update", fields: { run_id: "run", status: "status", end_time: "int", run_name: "string" }, required: ["run_id"], valid: () => ({ ...runRef(), status: "FINISHED" }) },
  { route: "runs/delete", fields: { run_id: "run" }, required: ["run_id"], valid: runRef },
  { route: "runs/restore", fields: { run_id: "run" }, required: ["run_id"], valid: runRef },
  {
    route: "runs/log-metric",
    fields: { run_id: "run", key: "key", value: "value", timestamp: "int", step: "int" },
    required: ["run_id", "key", "value", "timestamp"],
    valid: () => ({ ...runRef(), key: "loss", value: 0.5, timestamp: 1_700_000_000_000, step: 1 }),
  },
  { route: "runs/log-parameter", fields: { run_id: "run", key: "key", value: "string" }, required: ["run_id", "key", "value"], valid: () => ({ ...runRef(), key: "lr", value: "0.1" }) },
  { route: "runs/set-tag", fields: { run_id: "run", key: "key", value: "string" }, required: ["run_id", "key", "value"], valid: () => ({ ...runRef(), key: "t", value: "v" }) },
  { route: "runs/delete-tag", fields: { run_id: "run", key: "key" }, required: ["run_id", "key"], valid: () => ({ ...runRef(), key: "mlflow.runName" }) },
  {
    route: "runs/log-batch",
    fields: { run_id: "run", metrics: "metrics", params: "keyValues", tags: "keyValues" },
    required: ["run_id"],
    valid: () => ({ ...runRef(), metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }], params: [{ key: "p", value: "1" }], tags: [{ key: "t", value: "v" }] }),
  },
];

/** An empty list is a valid (empty) list of params, tags or metrics: not an invalid one. */
const notAList = notAString.filter((value) => !(Array.isArray(value) && value.length === 0));
const notKeyValues = fc.oneof(
  notAList,
  fc.constant([1]),
  fc.constant([{ key: "k" }]),
  notAString.map((value) => [{ key: "k", value }]),
  invalidKey.map((key) => [{ key, value: "v" }]),
);
const notMetrics = fc.oneof(
  notAList,
  fc.constant([{ key: "m" }]),
  invalidKey.map((key) => [{ key, value: 1, timestamp: 1 }]),
  notAMetricValue.map((value) => [{ key: "m", value, timestamp: 1 }]),
  notAnInteger.map((timestamp) => [{ key: "m", value: 1, timestamp }]),
);
/** Experiment ids that name no experiment (no leading zeros: "01" is experiment 1). */
const unknownExperimentId = fc.constantFrom("999999999", "-1", "abc", "1.5", "1e3", "0x1", "", " ", "' OR 1=1 --", "9".repeat(30), "😀");

const wrongValue: Record<FieldKind, fc.Arbitrary<unknown>> = {
  string: notAString,
  experiment: fc.oneof(notAString, unknownExperimentId),
  run: fc.oneof(notAString, unknownRunId),
  key: fc.oneof(notAString, invalidKey),
  int: notAnInteger,
  value: notAMetricValue,
  status: fc.constantFrom("DONE", "running", "finished", "", 1, {}, []),
  keyValues: notKeyValues,
  metrics: notMetrics,
};

/** Unknown fields, prototype keys among them; MLflow ignores unknown fields, so they ride on another invalidity. */
function unknownFields(known: string[]): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty"), fc.string({ minLength: 1, maxLength: 12 }));
  return fc.dictionary(
    name.filter((n) => !known.includes(n)),
    fc.jsonValue({ maxDepth: 2 }),
    { minKeys: 1, maxKeys: 4 },
  );
}

const RAW = "__raw_json_value__";
/** The body's JSON text with one field's value written as raw JSON (Python's NaN, or 1e400 which parses to Infinity). */
const withRawField = (body: object, field: string, raw: string) => JSON.stringify({ ...body, [field]: RAW }).replace(`"${RAW}"`, raw);

const mlflowPrefix = fc.constantFrom("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/");

function invalidMlflowRequests(endpoint: Endpoint): fc.Arbitrary<Hostile> {
  const fields = Object.keys(endpoint.fields);
  const field = fc.constantFrom(...fields);
  const wrongField = field.chain((name) => wrongValue[endpoint.fields[name]].map((value) => ({ ...endpoint.valid(), [name]: value })));
  const numericFields = fields.filter((name) => ["int", "value"].includes(endpoint.fields[name]));
  const bodies: Array<[string, fc.Arbitrary<string>]> = [
    ["malformed JSON", malformedJson(endpoint.valid())],
    ["JSON but not an object", nonObjectJson],
    ["a field of the wrong type or an unknown id", wrongField.map((body) => JSON.stringify(body))],
    ["unknown fields + a wrong field", fc.tuple(unknownFields(fields), wrongField).map(([extra, body]) => JSON.stringify({ ...extra, ...body }))],
  ];
  if (endpoint.required.length > 0) {
    const missing = fc.constantFrom(...endpoint.required).chain((name) => fc.constantFrom(undefined, null).map((value) => JSON.stringify({ ...endpoint.valid(), [name]: value })));
    bodies.push(["a required field missing or null", missing], ["an empty body", fc.constantFrom("", " ", "\n")]);
  }
  if (numericFields.length > 0) {
    const nonFinite = fc.tuple(fc.constantFrom(...numericFields), bareNonFiniteToken).map(([name, raw]) => withRawField(endpoint.valid(), name, raw));
    bodies.push(["Python NaN/Infinity tokens in a number", nonFinite]);
    const integers = numericFields.filter((name) => endpoint.fields[name] === "int");
    if (integers.length > 0) {
      const overflow = fc.tuple(fc.constantFrom(...integers), fc.constantFrom("1e400", "-1e400", "1e20", "0.5")).map(([name, raw]) => withRawField(endpoint.valid(), name, raw));
      bodies.push(["a non-finite, fractional or out-of-range integer", overflow]);
    }
  }
  return fc.oneof(
    ...bodies.map(([kind, body]) => fc.tuple(mlflowPrefix, body).map(([prefix, text]) => ({ kind: `mlflow ${kind}`, method: "POST", path: prefix + endpoint.route, body: text }))),
  );
}

/** log-batch over MLflow's limits: too many metrics, params, tags or entries; keys and values too long. */
const overLimitBatch: fc.Arbitrary<Hostile> = fc
  .oneof(
    fc.integer({ min: LIMITS.maxBatchMetrics + 1, max: LIMITS.maxBatchMetrics + 50 }).map((n) => ({ metrics: n, params: 0, tags: 0 })),
    fc.integer({ min: LIMITS.maxBatchParams + 1, max: LIMITS.maxBatchParams + 50 }).map((n) => ({ metrics: 0, params: n, tags: 0 })),
    fc.integer({ min: LIMITS.maxBatchTags + 1, max: LIMITS.maxBatchTags + 50 }).map((n) => ({ metrics: 0, params: 0, tags: n })),
    fc.integer({ min: 1, max: 50 }).map((n) => ({ metrics: LIMITS.maxBatchMetrics, params: n, tags: 0 })),
  )
  .map(({ metrics, params, tags }) => ({
    run_id: runId,
    metrics: Array.from({ length: metrics }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: 1, step: i })),
    params: Array.from({ length: params }, (_, i) => ({ key: `p${i}`, value: "v" })),
    tags: Array.from({ length: tags }, (_, i) => ({ key: `t${i}`, value: "v" })),
  }))
  .map((body) => ({ kind: "mlflow log-batch over its limits", method: "POST", path: "/api/2.0/mlflow/runs/log-batch", body: JSON.stringify(body) }));

const overLongValue: fc.Arbitrary<Hostile> = fc
  .constantFrom(
    // (Over-long param and tag values are cut, as MLflow's server cuts them: test/worker/mlflow-client-surface.test.ts.)
    ["runs/log-parameter", { run_id: "", key: "k".repeat(LIMITS.maxKeyLength + 1), value: "v" }],
    ["runs/set-tag", { run_id: "", key: "k".repeat(LIMITS.maxKeyLength + 1), value: "v" }],
    ["runs/log-metric", { run_id: "", key: "k".repeat(LIMITS.maxKeyLength + 1), value: 1, timestamp: 1 }],
    ["runs/update", { run_id: "", run_name: "n".repeat(LIMITS.maxRunNameLength + 1) }],
  )
  .map(([route, body]) => ({
    kind: "mlflow keys, values or names over their length limit",
    method: "POST",
    path: `/api/2.0/mlflow/${route}`,
    body: JSON.stringify({ ...body, run_id: runId }),
  }));

// ---------------------------------------------------------------------------------------------
// /api/v1 writes

/** Percent-escapes that decode to no text: a lone surrogate's bytes, a stray byte, truncated and bogus escapes. */
const badPercent = fc.constantFrom("%ED%A0%80", "%FF", "%", "%zz", "%C3");
const badSegment = fc.oneof(badPercent, fc.constantFrom("..%2F..", "%2e%2e", ".hidden", "a%20b", "a%00b", "%C3%A9", "'--", "a;b", "a%2Fb", "x".repeat(129), "%F0%9F%98%80", "*"));
const badQuery = fc.constantFrom(
  "foo=1",
  "start_time=abc",
  "start_time=-1",
  "start_time=1.5",
  "start_time=NaN",
  "start_time=1e3",
  "start_time=9999999999999999",
  "experiment=",
  `experiment=${"x".repeat(251)}`,
);
const badMetricsQuery = fc.constantFrom("format=xml", "step=-1", "step=1.5", "timestamp=abc", "timestamp=Infinity", "foo=1", "experiment=");
const badIdempotencyKey = fc.constantFrom("", " ", "a b", "k".repeat(251), "tab\there");
const badCsv = fc.constantFrom(
  "",
  "step,loss\n",
  "epoch,loss\n1,0.5",
  "step,loss\n1",
  "step,loss\nx,0.5",
  "step,loss\n1.5,0.2",
  "step,loss\n1,abc",
  "step,bad key!\n1,0.5",
  "step,loss\nNaN,1",
  "\u0000",
);

const v1Hostile = (kind: string, method: string, path: string, body: fc.Arbitrary<string>, headers?: Record<string, string>) =>
  body.map((text): Hostile => ({ kind: `v1 ${kind}`, method, path, body: text, headers }));

const invalidV1Requests: fc.Arbitrary<Hostile> = fc.oneof(
  // PUT /runs/{dataset}/{name}: the stage's config.json
  v1Hostile("PUT malformed JSON", "PUT", V1_RUN, malformedJson({ seed: 1, lr: 0.1, vgae_hidden_dims: [1024, 512, 96] })),
  v1Hostile("PUT config not an object", "PUT", V1_RUN, nonObjectJson),
  v1Hostile(
    "PUT config key not a valid param key",
    "PUT",
    V1_RUN,
    invalidKey.map((key) => JSON.stringify({ [key]: 1 })),
  ),
  v1Hostile("PUT config value over the param limit", "PUT", V1_RUN, fc.constant(JSON.stringify({ long: "x".repeat(LIMITS.maxParamValueLength + 1) }))),
  fc.tuple(badSegment, fc.boolean()).map(([segment, first]) => ({
    kind: "v1 PUT bad run id segment",
    method: "PUT",
    path: first ? `/api/v1/runs/${segment}/teacher_autoencoder` : `/api/v1/runs/hcrl_sa/${segment}`,
    body: "{}",
  })),
  badQuery.map((query) => ({ kind: "v1 PUT bad query", method: "PUT", path: `${V1_RUN}?${query}`, body: "{}" })),
  badIdempotencyKey.map((key) => ({ kind: "v1 PUT bad Idempotency-Key", method: "PUT", path: V1_RUN, body: "{}", headers: { "Idempotency-Key": key } })),
  // POST .../metrics: JSON points, metrics.json or metrics.csv
  v1Hostile("metrics malformed JSON", "POST", `${V1_RUN}/metrics`, malformedJson({ step: 1, metrics: { val_loss: 0.5 } })),
  v1Hostile("metrics not an object or no points", "POST", `${V1_RUN}/metrics`, fc.oneof(nonObjectJson, fc.constantFrom("{}", '{"metrics": {}}', "[]", "[{}]"))),
  v1Hostile(
    "metrics invalid key",
    "POST",
    `${V1_RUN}/metrics`,
    invalidKey.map((key) => JSON.stringify({ step: 1, metrics: { [key]: 0.5 } })),
  ),
  v1Hostile(
    "metrics value not a number",
    "POST",
    `${V1_RUN}/metrics`,
    notAMetricValue.map((value) => JSON.stringify({ step: 1, metrics: { loss: value } })),
  ),
  v1Hostile(
    "metrics step or timestamp not an integer",
    "POST",
    `${V1_RUN}/metrics`,
    fc.tuple(fc.constantFrom("step", "timestamp"), notAnInteger).map(([field, value]) => JSON.stringify({ [field]: value, metrics: { loss: 1 } })),
  ),
  v1Hostile(
    "metrics NaN step",
    "POST",
    `${V1_RUN}/metrics`,
    bareNonFiniteToken.map((raw) => withRawField({ metrics: { loss: 1 } }, "step", raw)),
  ),
  v1Hostile(
    "metrics unknown fields",
    "POST",
    `${V1_RUN}/metrics`,
    unknownFields(["step", "timestamp", "metrics"]).map((extra) => JSON.stringify({ ...extra, step: 1, metrics: { loss: 1 } })),
  ),
  v1Hostile("metrics malformed CSV", "POST", `${V1_RUN}/metrics`, badCsv, { "Content-Type": "text/csv" }),
  badMetricsQuery.map((query) => ({ kind: "v1 metrics bad query", method: "POST", path: `${V1_RUN}/metrics?${query}`, body: '{"step": 1, "metrics": {"loss": 1}}' })),
  v1Hostile("metrics for a run never started", "POST", "/api/v1/runs/hcrl_sa/never_started/metrics", fc.constant('{"step": 1, "metrics": {"loss": 1}}')),
  // POST .../end
  v1Hostile("end malformed JSON", "POST", `${V1_RUN}/end`, malformedJson({ status: "FINISHED", end_time: 1 })),
  v1Hostile("end not an object", "POST", `${V1_RUN}/end`, nonObjectJson),
  v1Hostile(
    "end wrong field",
    "POST",
    `${V1_RUN}/end`,
    fc.oneof(
      fc.oneof(notAString, fc.constantFrom("RUNNING", "finished", "DONE", "")).map((status) => JSON.stringify({ status })),
      notAString.map((error) => JSON.stringify({ status: "FAILED", error })),
      fc.oneof(notAnInteger, fc.constant(-1)).map((end_time) => JSON.stringify({ status: "FINISHED", end_time })),
      fc.constantFrom("", "{}", '{"error": "x"}'),
      bareNonFiniteToken.map((raw) => withRawField({ status: "FINISHED" }, "end_time", raw)),
    ),
  ),
  v1Hostile(
    "end unknown fields",
    "POST",
    `${V1_RUN}/end`,
    unknownFields(["status", "error", "end_time"]).map((extra) => JSON.stringify({ ...extra, status: "FINISHED" })),
  ),
  v1Hostile("end for a run never started", "POST", "/api/v1/runs/hcrl_sa/never_started/end", fc.constant('{"status": "FINISHED"}')),
);

// ---------------------------------------------------------------------------------------------
// Searches and paged reads: filter, order_by, page tokens, max_results

const runFilterBase = fc.constantFrom("metrics.m > 0", "params.p = 'x'", "attributes.status = 'FINISHED'", "tags.t LIKE '%a%'", "run_name = 'r'");
const filterJunk = fc.constantFrom("OR 1=1", "; DROP TABLE runs", "AND", ")", "UNION SELECT * FROM api_tokens", "OR", "'", '"', "AND AND metrics.m > 0", "= 1");
const brokenFilter = fc.oneof(
  fc.tuple(runFilterBase, filterJunk).map(([base, junk]) => `${base} ${junk}`),
  fc.constantFrom("params.p = 'x", "metrics.m > 'abc'", "metrics.m >", "nonsense.k = 1", "metrics.m > 1e", "tags.`t = 'x'"),
);
const brokenOrderBy = fc.constantFrom(
  "start_time DESCC",
  "metrics.m DESC; DROP TABLE runs",
  "metrics.m DESC, params.p",
  "(select 1)",
  "1",
  "metrics.",
  "params.p ASC DESC",
  "attributes.bogus",
  "metrics.`m",
  "' OR 1=1 --",
);
const mlflowPageTokenPayloads = ['{"offset": -1}', '{"offset": 1.5}', '{"offset": "1"}', '{"offset": 1, "x": 2}', "[]", "null", '{"offset": 1e400}', "{", "offset=1"];
const brokenPageToken = fc.oneof(
  fc.constantFrom(...mlflowPageTokenPayloads).map((payload) => btoa(payload)),
  fc.constantFrom("!!!", "%%%", "' OR 1=1 --", "\u0000", "😀", "a".repeat(5000)),
  fc.string({ minLength: 1, maxLength: 30 }).map((s) => `${s}!`),
);
const badMaxResults = fc.constantFrom<unknown>(0, -1, LIMITS.maxSearchResults + 1, "abc", 1.5, "NaN", {}, []);

const runSearch = (body: object) => JSON.stringify({ experiment_ids: ["0"], ...body });
const invalidSearches: fc.Arbitrary<Hostile> = fc.oneof(
  fc.tuple(mlflowPrefix, brokenFilter).map(([p, filter]) => ({ kind: "search broken filter", method: "POST", path: `${p}runs/search`, body: runSearch({ filter }) })),
  fc.tuple(mlflowPrefix, brokenOrderBy).map(([p, order]) => ({ kind: "search broken order_by", method: "POST", path: `${p}runs/search`, body: runSearch({ order_by: [order] }) })),
  fc
    .tuple(mlflowPrefix, brokenOrderBy)
    .map(([p, order]) => ({ kind: "search broken order_by", method: "POST", path: `${p}experiments/search`, body: JSON.stringify({ order_by: [order] }) })),
  fc.tuple(mlflowPrefix, brokenPageToken).map(([p, page_token]) => ({ kind: "search bad page token", method: "POST", path: `${p}runs/search`, body: runSearch({ page_token }) })),
  brokenPageToken.map((page_token) => ({ kind: "search bad page token", method: "GET", path: `/api/2.0/mlflow/experiments/search?page_token=${encodeURIComponent(page_token)}`, body: "" })),
  fc.tuple(mlflowPrefix, badMaxResults).map(([p, max_results]) => ({ kind: "search bad max_results", method: "POST", path: `${p}runs/search`, body: runSearch({ max_results }) })),
  brokenPageToken.map((page_token) => ({ kind: "v1 list bad page token", method: "GET", path: `/api/v1/runs?page_token=${encodeURIComponent(page_token)}`, body: "" })),
  brokenPageToken.map((page_token) => ({
    kind: "v1 export bad page token",
    method: "GET",
    path: `/api/v1/export?page_token=${encodeURIComponent(page_token)}`,
    body: "",
    token: ADMIN_TOKEN,
  })),
);

/** Reads of runs and metrics that do not exist: MLflow answers get-history for an unknown run with 200 {}. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** URL-encoded text; a URL cannot carry a lone surrogate, so it goes as U+FFFD (raw bad escapes are in badPercent). */
const uri = (text: string) => encodeURIComponent(text.replace(LONE_SURROGATE, "\ufffd"));
const hostileLookups: fc.Arbitrary<Hostile> = fc
  .oneof(
    fc.tuple(unknownRunId, invalidKey).map(([run, key]) => `/api/2.0/mlflow/metrics/get-history?run_id=${uri(run)}&metric_key=${uri(key)}`),
    fc.oneof(unknownRunId.map(uri), badPercent).map((run) => `/api/2.0/mlflow/runs/get?run_id=${run}`),
    unknownExperimentId.map((id) => `/api/2.0/mlflow/experiments/get?experiment_id=${uri(id)}`),
    fc.tuple(badSegment, invalidKey).map(([segment, key]) => `/api/v1/runs/hcrl_sa/${segment}/metrics/${uri(key) || "x"}`),
    badSegment.map((segment) => `/api/v1/runs/${segment}/teacher_autoencoder`),
  )
  .map((path) => ({ kind: "reads of unknown or hostile run ids, experiment ids and keys", method: "GET", path, body: "" }));

// ---------------------------------------------------------------------------------------------

describe("hostile writes are refused and change nothing", () => {
  it("MLflow write endpoints", () => expectRefusedUnchanged(fc.oneof(...MLFLOW_WRITES.map(invalidMlflowRequests), overLimitBatch, overLongValue), RUNS.mlflow), 120_000);

  it("/api/v1 write endpoints", () => expectRefusedUnchanged(invalidV1Requests, RUNS.v1), 120_000);

  it("searches with broken filters, order_by, page tokens and max_results", () => expectRefusedUnchanged(invalidSearches, RUNS.searches), 120_000);

  it("lookups of unknown or hostile ids", () => expectRefusedUnchanged(hostileLookups, RUNS.lookups, true), 120_000);
});

/** Hostile text: SQL metacharacters and Unicode oddities, legal unless it holds a lone surrogate. */
const hostileText = fc
  .array(fc.oneof(sqlMeta, fc.constantFrom("\u0301", "\u200b", "\uffff", "😀", "\ufeff", "ß", "İ"), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join(""));

/** A lone UTF-16 surrogate is not text: it must be refused, not stored as U+FFFD. */
const isText = (text: string) => !/\p{Cs}/u.test(text);

describe("hostile but legal text is stored verbatim", () => {
  let serial = 0;
  const unique = (text: string) => `${++serial}:${text}`;

  async function expectOk(answer: Answer, context: string): Promise<unknown> {
    expect(answer.status, `${context}: ${excerpt(answer.text)}`).toBe(200);
    return JSON.parse(answer.text);
  }

  it("experiment names, run names and tag values round-trip; filters quoting them find them", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, async (text) => {
        count("legal hostile names, tag values and quoted filter values");
        const name = unique(text);
        const creation = await call("POST", "/api/2.0/mlflow/experiments/create", { token, body: { name } });
        if (!isText(name)) {
          expectClientError(creation, `create ${excerpt(name)}`);
          return;
        }
        const created = (await expectOk(creation, `create ${excerpt(name)}`)) as { experiment_id: string };
        const got = await call("GET", `/api/2.0/mlflow/experiments/get?experiment_id=${created.experiment_id}`);
        // Compared JSON-escaped: a mismatch may involve a lone surrogate (see excerpt).
        expect(excerpt(((await expectOk(got, "experiments/get")) as { experiment: { name: string } }).experiment.name)).toBe(excerpt(name));

        const run = (await expectOk(await call("POST", "/api/2.0/mlflow/runs/create", { token, body: { experiment_id: created.experiment_id, run_name: name } }), "runs/create")) as {
          run: { info: { run_id: string; run_name: string } };
        };
        expect(excerpt(run.run.info.run_name)).toBe(excerpt(name));
        await expectOk(await call("POST", "/api/2.0/mlflow/runs/set-tag", { token, body: { run_id: run.run.info.run_id, key: "note", value: text } }), "set-tag");

        // The same text as a quoted value in a filter: SQL in it is data, not syntax.
        const quote = text.includes("'") ? '"' : "'";
        if (!text.includes(quote) && !text.includes("\\")) {
          const found = await call("POST", "/api/2.0/mlflow/runs/search", {
            body: { experiment_ids: [created.experiment_id], filter: `tags.note = ${quote}${text}${quote}` },
          });
          const runs = ((await expectOk(found, `filter on ${excerpt(text)}`)) as { runs?: Array<{ info: { run_id: string } }> }).runs ?? [];
          expect(runs.map((r) => r.info.run_id)).toEqual([run.run.info.run_id]);
        }
      }),
      { numRuns: runsOr(RUNS.legal) },
    );
  }, 120_000);

  it("non-finite metric values are legal: MLflow's strings, and Python's bare tokens in /api/v1 uploads", { timeout: 30_000 }, async () => {
    for (const raw of ['"NaN"', '"Infinity"', '"-Infinity"']) {
      count("legal non-finite metric values");
      const body = withRawField({ run_id: runId, key: "edge", timestamp: 2, step: 0 }, "value", raw);
      expect((await call("POST", "/api/2.0/mlflow/runs/log-metric", { token, body })).status, raw).toBe(200);
    }
    count("legal non-finite metric values");
    const upload = await call("POST", `${V1_RUN}/metrics`, { token, body: '{"step": 2, "metrics": {"loss": NaN, "gain": Infinity, "drop": -Infinity}}' });
    expect(upload.status, excerpt(upload.text)).toBe(200);
    // Stored and read back as MLflow's SQL store does: NaN kept, infinities clamped to the largest double.
    const history = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=edge`);
    const points = (JSON.parse(history.text) as { metrics: Array<{ value: unknown; timestamp: number }> }).metrics;
    const values = points.filter((p) => p.timestamp === 2).map((p) => p.value);
    expect(values).toHaveLength(3);
    expect(values).toEqual(expect.arrayContaining(["NaN", 1.7976931348623157e308, -1.7976931348623157e308]));
    const detail = JSON.parse((await call("GET", V1_RUN)).text) as { metrics: Record<string, { value: unknown; step: number }> };
    expect([detail.metrics.loss, detail.metrics.gain, detail.metrics.drop].map((m) => [m.value, m.step])).toEqual([
      ["NaN", 2],
      [1.7976931348623157e308, 2],
      [-1.7976931348623157e308, 2],
    ]);
  });
});

describe("request bodies are capped before they are parsed", () => {
  /** A body that would be a valid request but for its size: the cap, not the parser, must refuse it. */
  const oversized = (cap: number) => `{"run_id": "${runId}", "params": []}${" ".repeat(cap)}`;
  const capOf = (path: string) => (path.endsWith("/metrics") || path.endsWith("/import") ? LIMITS.maxUploadBytes : LIMITS.maxBodyBytes);
  // GET and DELETE routes take no body, so there is nothing to cap; /ajax-api serves the same routes as /api.
  const bodyRoutes = appRoutes()
    .filter((route) => !isReadRoute(route) && route.method !== "GET" && route.method !== "DELETE" && !route.path.startsWith("/ajax-api/"))
    .map((route) => ({ method: route.method, path: concretePath(route.path) }));

  // An honest Content-Length over the cap is refused from the header alone; these are the sly ways.
  const senders: Record<string, (body: string) => { body: BodyInit; headers: Record<string, string> }> = {
    // A Blob's stream has a known length, which workerd turns into a Content-Length: not a stream.
    "no Content-Length (a stream)": (body) => ({ body: unknownLengthBody(body), headers: {} }),
    "a lying Content-Length": (body) => ({ body, headers: { "Content-Length": "2" } }),
    chunked: (body) => ({ body: unknownLengthBody(body), headers: { "Transfer-Encoding": "chunked" } }),
  };

  for (const [how, send] of Object.entries(senders)) {
    it(`over the cap with ${how}: refused on every write route, nothing written`, { timeout: 60_000 }, async () => {
      const before = await dumpDatabase();
      for (const route of bodyRoutes) {
        count(`oversized body, ${how}`);
        const { body, headers } = send(oversized(capOf(route.path)));
        const admin = route.path.endsWith("/tokens") || route.path.endsWith("/import") || route.path.includes("/admin/");
        const answer = await call(route.method, route.path, { token: admin ? ADMIN_TOKEN : token, body, headers });
        const context = `${route.method} ${route.path} (${how})`;
        expect(expectClientError(answer, context).message, context).toMatch(/exceeds the limit/);
      }
      expect((await dumpDatabase()) === before, "the database changed").toBe(true);
    });
  }
});
