/**
 * Rules of the small core modules that every write and every error message goes through: how a
 * metric value is read from the wire and stored, MLflow's decimal literal, CSV cells, run-id
 * segments and uuids, and how much of a client's input an error may quote.
 */
import { describe, expect, it } from "vitest";
import { csvCell } from "../../functions/domain/csv.js";
import { decimalLiteralEnd, isDecimalLiteral } from "../../functions/domain/decimal.js";
import { EXCERPT_LENGTH, excerpt } from "../../functions/domain/excerpt.js";
import { fromStoredValue, MAX_DOUBLE, parseWireValue, toStoredValue } from "../../functions/domain/metric-values.js";
import { RUN_UUID, segmentProblem } from "../../functions/domain/run-id.js";

describe("metric values", () => {
  it("NaN is stored as 0 with its flag and reads back as the string NaN", () => {
    expect(toStoredValue(Number.NaN)).toEqual({ value: 0, isNan: true });
    expect(fromStoredValue(0, 1)).toBe("NaN");
    expect(fromStoredValue(0, true)).toBe("NaN");
  });

  it("infinities are clamped to the largest double, as MLflow's SQL store does; finite values are kept", () => {
    expect(MAX_DOUBLE).toBe(Number.MAX_VALUE);
    expect(toStoredValue(Number.POSITIVE_INFINITY)).toEqual({ value: MAX_DOUBLE, isNan: false });
    expect(toStoredValue(Number.NEGATIVE_INFINITY)).toEqual({ value: -MAX_DOUBLE, isNan: false });
    for (const value of [0, -0.5, 0.9876, 1e-300, -MAX_DOUBLE]) expect(toStoredValue(value)).toEqual({ value, isNan: false });
    expect(fromStoredValue(0.25, 0)).toBe(0.25);
    expect(fromStoredValue(0, false)).toBe(0);
  });

  it("the wire takes numbers, numeric strings and NaN / Infinity spelled as Python and Java do", () => {
    expect(parseWireValue(0.5)).toBe(0.5);
    expect(parseWireValue(" 2.5e3 ")).toBe(2500);
    expect(parseWireValue("-.5")).toBe(-0.5);
    for (const nan of ["NaN", "nan", "+NaN", "-nan"]) expect(parseWireValue(nan), nan).toBeNaN();
    for (const inf of ["Infinity", "inf", "+Infinity", "+INF"]) expect(parseWireValue(inf), inf).toBe(Number.POSITIVE_INFINITY);
    for (const inf of ["-Infinity", "-inf"]) expect(parseWireValue(inf), inf).toBe(Number.NEGATIVE_INFINITY);
  });

  it("anything else is not a metric value", () => {
    for (const bad of ["", " ", "1.2.3", "0x10", "1e", "five", "NaNa", "infinityy", "--1", "1,5"]) expect(parseWireValue(bad), bad).toBeUndefined();
    for (const bad of [null, true, [1], { value: 1 }, undefined]) expect(parseWireValue(bad)).toBeUndefined();
  });
});

describe("MLflow's decimal literal", () => {
  it("is [+-]?(digits[.digits] | .digits)([eE][+-]?digits)?", () => {
    for (const good of ["1", "+1", "-1", "1.", "1.5", ".5", "-.5", "1e5", "1E-5", "1.5e+10", "007"]) expect(isDecimalLiteral(good), good).toBe(true);
    for (const bad of ["", "+", "-", ".", "e5", "1e", "1e+", "1.5.2", "1 ", " 1", "++1", "1e5.0", "½"]) expect(isDecimalLiteral(bad), bad).toBe(false);
  });

  it("ends where the literal ends: an exponent without digits is not part of it", () => {
    expect(decimalLiteralEnd("12.5 and", 0)).toBe(4);
    expect(decimalLiteralEnd("x 3e7)", 2)).toBe(5);
    expect(decimalLiteralEnd("3e)", 0)).toBe(1);
    expect(decimalLiteralEnd("3e-)", 0)).toBe(1);
    expect(decimalLiteralEnd(".x", 0)).toBe(-1);
    expect(decimalLiteralEnd("abc", 1)).toBe(-1);
  });
});

describe("CSV cells (RFC 4180)", () => {
  it("are written as they are unless they hold a separator, a quote or a line break", () => {
    expect(csvCell("hcrl_sa/teacher_curriculum")).toBe("hcrl_sa/teacher_curriculum");
    expect(csvCell(0.123456789012345)).toBe("0.123456789012345");
    expect(csvCell(true)).toBe("true");
    expect(csvCell(null)).toBe("");
  });

  it("are quoted, with quotes doubled, when they do", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
  });
});

describe("run id segments and uuids", () => {
  it("a name that can be a segment has no problem; one that cannot is named with the rule and a name to use", () => {
    expect(segmentProblem("hcrl_sa")).toBeUndefined();
    expect(segmentProblem("can bus 2")).toBe(
      "'can bus 2' is not a valid run id segment (letters, digits, '.', '_' and '-' only, starting with a letter or digit, at most 128 characters: a run id is part of every URL); rename it, e.g. to 'can_bus_2'",
    );
    expect(segmentProblem("_private")).toMatch(/rename it, e\.g\. to 'private'$/);
    expect(segmentProblem(`a${"b".repeat(200)}`)).toMatch(new RegExp(`rename it, e\\.g\\. to 'a${"b".repeat(127)}'$`));
    // Nothing usable is left: no suggestion rather than a wrong one.
    expect(segmentProblem("…")).not.toMatch(/rename it/);
  });

  it("an MLflow run uuid is exactly 32 lowercase hex characters", () => {
    expect(RUN_UUID.test("0123456789abcdef0123456789abcdef")).toBe(true);
    for (const bad of ["0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "g123456789abcdef0123456789abcdef"]) {
      expect(RUN_UUID.test(bad), bad).toBe(false);
    }
  });
});

describe("error messages quote a short excerpt of the input", () => {
  it("short input whole; long input cut to the excerpt length with its full length named", () => {
    expect(excerpt("short")).toBe("short");
    const exact = "x".repeat(EXCERPT_LENGTH);
    expect(excerpt(exact)).toBe(exact);
    expect(excerpt(`${exact}y`)).toBe(`${exact}... (${EXCERPT_LENGTH + 1} characters)`);
    expect(EXCERPT_LENGTH).toBe(200);
  });

  it("never cuts a surrogate pair in half", () => {
    const text = `${"x".repeat(EXCERPT_LENGTH - 1)}😀tail`;
    expect(excerpt(text)).toBe(`${"x".repeat(EXCERPT_LENGTH - 1)}... (${text.length} characters)`);
  });
});
