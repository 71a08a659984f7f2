/**
 * Every parser of client input answers generated worst cases (long digit, quote and backslash
 * runs, nesting, digit-then-letter, `1e` runs) in linear time: each parse, up to the cap that
 * applies to it, within a budget that a quadratic parser misses by far (seconds at 16 KB). Timed
 * here in Node: inside workerd the clock does not advance during pure CPU work.
 */
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../functions/domain/limits.js";
import { readMetricPoints } from "../../functions/domain/metric-sources/index.js";
import { parseWireValue } from "../../functions/domain/metric-values.js";
import { parsePythonJson, parsePythonJsonWithSource } from "../../functions/domain/python-json.js";
import { EXPERIMENT_SEARCH, parseFilter, parseOrderBy, RUN_SEARCH } from "../../functions/search/filter.js";
import { decodePageToken } from "../../functions/search/page-token.js";

/** Per parse of at most 1 MB; generous for a loaded 2-core machine, far below a quadratic parse. */
const BUDGET_MS = 100;
const KB = 1024;

/** `unit` repeated (after `head`, before `tail`) to exactly `length` characters. */
const fill = (length: number, unit: string, head = "", tail = "") => head + unit.repeat(Math.ceil(length / unit.length)).slice(0, Math.max(0, length - head.length - tail.length)) + tail;

/** Shapes that make backtracking or rescanning parsers quadratic, as bodies of `length` characters. */
const hostile = (length: number, head = "", tail = "") =>
  Object.entries({
    "digits then a letter": fill(length, "1", head, `x${tail}`),
    "digits and dots": fill(length, "1.", head, `x${tail}`),
    "1e runs": fill(length, "1e", head, tail),
    "1e+ runs": fill(length, "1e+", head, tail),
    "sign runs": fill(length, "-", head, `1${tail}`),
    "single quote runs": fill(length, "'", head, tail),
    "doubled quotes, unterminated": fill(length, "''", `${head}'`, tail),
    "escaped double quotes": fill(length, '\\"', `${head}"`, tail),
    "backslash runs": fill(length, "\\", `${head}"`, tail),
    "backtick runs": fill(length, "`", head, tail),
    "bracket nesting": fill(length, "[", head, tail),
    "brace nesting": fill(length, '{"a":', head, tail),
    "paren nesting": fill(length, "(", head, tail),
    "operator runs": fill(length, "<", head, tail),
    "NaN runs": fill(length, "NaN", head, tail),
    "Infinity runs": fill(length, "-Infinity", head, tail),
    "a long word": fill(length, "a", head, tail),
    "dotted word": fill(length, "a.", head, tail),
    "whitespace then a letter": fill(length, " ", head, `x${tail}`),
    "many clauses": fill(length, "metrics.a > 1 AND ", head, `metrics.a > 1${tail}`),
  });

/**
 * Runs `parse` on each body; an answer is a result or a thrown Error, never a hang or a crash. The
 * best of three tries counts, so that a load spike on a shared machine is not taken for the parser.
 */
function expectQuick(bodies: Array<[string, string]>, parse: (body: string) => unknown, budgetMs = BUDGET_MS) {
  for (const [shape, body] of bodies) {
    let fastest = Number.POSITIVE_INFINITY;
    let refusal: unknown;
    for (let attempt = 0; attempt < 3 && fastest >= budgetMs; attempt++) {
      const started = performance.now();
      try {
        parse(body);
      } catch (error) {
        refusal = error;
      }
      fastest = Math.min(fastest, performance.now() - started);
    }
    expect(fastest, `${shape} (${body.length} characters)`).toBeLessThan(budgetMs);
    if (refusal === undefined) continue;
    expect(refusal, shape).toBeInstanceOf(Error);
    expect((refusal as Error).message.length, `${shape}: the message quotes a short excerpt`).toBeLessThan(600);
  }
}

const SIZES = [16 * KB, LIMITS.maxFilterLength];

describe("hostile input is parsed in linear time", () => {
  it("filters of runs/search and experiments/search, up to the filter cap", () => {
    for (const length of SIZES) {
      for (const vocabulary of [RUN_SEARCH, EXPERIMENT_SEARCH]) {
        expectQuick(hostile(length), (body) => parseFilter(body, vocabulary));
        expectQuick(hostile(length, "metrics.a > "), (body) => parseFilter(body, vocabulary));
        expectQuick(hostile(length, "tags.a = "), (body) => parseFilter(body, vocabulary));
      }
    }
  });

  it("order_by entries and page tokens", () => {
    for (const length of SIZES) {
      expectQuick(hostile(length), (body) => parseOrderBy([body], RUN_SEARCH));
      expectQuick(hostile(length, "metrics.`"), (body) => parseOrderBy([body, body], RUN_SEARCH));
    }
    for (const length of [LIMITS.maxPageTokenLength]) {
      expectQuick(
        hostile(length).map(([shape, body]) => [shape, btoa(body)]),
        decodePageToken,
      );
      expectQuick(hostile(length), decodePageToken);
    }
  });

  it("Python-literal JSON (config PUT, metrics.json, backfill), up to the 1 MB body cap", () => {
    for (const length of [64 * KB, LIMITS.maxBodyBytes]) {
      for (const parse of [parsePythonJson, parsePythonJsonWithSource]) {
        expectQuick(hostile(length), parse);
        expectQuick(hostile(length, '{"a": '), parse);
        expectQuick(hostile(length, '{"a": "', '"}'), parse);
      }
    }
  });

  it("metrics.csv records with quoted line breaks: every one is read, so the budget is per record, not a rescan", () => {
    // ~116,000 records in 1 MB; a parser that rescanned the text for each record's line would take minutes.
    const body = fill(LIMITS.maxBodyBytes, '0,"\r\n1"\r\n', "step,loss\r\n");
    expectQuick([["quoted line breaks", body]], (text) => readMetricPoints(text, "csv", { timestamp: 1, step: 0 }), 20 * BUDGET_MS);
  });

  it("wire values and metrics.csv cells, up to the body and upload caps", () => {
    for (const length of [16 * KB, LIMITS.maxBodyBytes]) expectQuick(hostile(length), parseWireValue);
    const base = { timestamp: 1, step: 0 };
    for (const length of [16 * KB, LIMITS.maxUploadBytes]) {
      expectQuick(hostile(length, "step,loss\r\n0,"), (body) => readMetricPoints(body, "csv", base));
      expectQuick(hostile(length, 'step,loss\r\n0,"', '"\r\n'), (body) => readMetricPoints(body, "csv", base));
    }
  });
});
