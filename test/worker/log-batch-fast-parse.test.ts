// runs/log-batch reads the common shape of its body without zod (plainLogBatch); whatever it
// accepts must come out exactly as the schema (logBatchRequest) reads it, and anything else must be
// left to the schema, so that no rule or error message lives in two places.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBody } from "../../functions/http/validate";
import { logBatchRequest, plainLogBatch } from "../../functions/mlflow/runs";
import { runsOr } from "../support/fast-check.js";

/** Field values around every rule of a point: integers at and past the safe range, numeric strings, NaN, wrong types. */
const field = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER - 1, 2 ** 63, -0, 1e21),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom("12", "-3", "1.5", "NaN", "Infinity", "-inf", "x", "", "99999999999999999999"),
  fc.constantFrom(null, true, [], {}),
);
const point = fc.record(
  { key: fc.oneof(fc.constantFrom("loss", "val/acc", ""), fc.integer(), fc.constant(null)), value: field, timestamp: field, step: field, extra: field },
  { requiredKeys: [] },
);
const keyValues = fc.array(fc.record({ key: fc.oneof(fc.string(), fc.integer()), value: fc.oneof(fc.string(), fc.constant(null)) }, { requiredKeys: [] }), { maxLength: 2 });
const body = fc.record(
  {
    run_id: fc.oneof(fc.string(), fc.integer()),
    metrics: fc.oneof(fc.array(fc.oneof(point, fc.constant(null), fc.constant([1])), { maxLength: 6 }), fc.constant("m")),
    params: keyValues,
    tags: keyValues,
  },
  { requiredKeys: [] },
);

/** Bodies as clients send them: the fast reading must take every one. */
const safeInt = fc.oneof(fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -0));
const plainBody = fc.record(
  {
    run_id: fc.string(),
    metrics: fc.array(
      fc.record({ key: fc.string(), value: fc.double({ noNaN: true, noDefaultInfinity: true }), timestamp: safeInt, step: safeInt }, { requiredKeys: ["key", "value", "timestamp"] }),
      { maxLength: 6 },
    ),
    params: fc.array(fc.record({ key: fc.string(), value: fc.string() }), { maxLength: 2 }),
  },
  { requiredKeys: ["run_id", "metrics"] },
);

describe("log-batch: the body's common shape read without zod", () => {
  it("gives exactly the schema's output for what clients send", () => {
    fc.assert(
      fc.property(plainBody, (input) => {
        const fast = plainLogBatch(input);
        expect(fast).toBeDefined();
        expect(fast).toStrictEqual(logBatchRequest.parse(input));
      }),
      { numRuns: runsOr(500) },
    );
  });

  it("gives the schema's output, or leaves the body to the schema, for any body", () => {
    fc.assert(
      fc.property(fc.oneof(body, plainBody), (input) => {
        const fast = plainLogBatch(input);
        if (fast === undefined) return;
        const schema = logBatchRequest.safeParse(input);
        expect(schema.success).toBe(true);
        expect(fast).toStrictEqual(schema.data);
      }),
      { numRuns: runsOr(2_000) },
    );
  });

  it("reads what clients send itself, and only that", () => {
    const plain = {
      run_id: "r1",
      metrics: [
        { key: "loss", value: 0.5, timestamp: 1_700_000_000_000, step: 3 },
        { key: "acc", value: -0, timestamp: 1 },
      ],
      params: [{ key: "lr", value: "0.1" }],
    };
    expect(plainLogBatch(plain)).toStrictEqual(logBatchRequest.parse(plain));
    expect(plainLogBatch(plain)?.metrics?.[1].step).toBe(0);
    for (const other of [
      { ...plain, metrics: [{ key: "loss", value: "NaN", timestamp: 1, step: 0 }] },
      { ...plain, metrics: [{ key: "loss", value: 1, timestamp: "17", step: 0 }] },
      { ...plain, metrics: [{ key: "loss", value: 1, timestamp: 2 ** 53, step: 0 }] },
      { ...plain, metrics: [{ key: "loss", value: 1, timestamp: 1, step: null }] },
      { ...plain, params: [{ key: "lr", value: 1 }] },
      { run_id: "r1", params: [] },
    ]) {
      expect(plainLogBatch(other)).toBeUndefined();
    }
  });

  it("keeps the schema's error for a body it does not read", () => {
    const bad = { run_id: "r1", metrics: [{ key: "loss", value: 1, timestamp: 2 ** 53, step: 0 }] };
    expect(() => parseBody(logBatchRequest, bad, plainLogBatch)).toThrow("Invalid value 9007199254740992 for parameter 'metrics.0.timestamp' supplied");
  });
});
