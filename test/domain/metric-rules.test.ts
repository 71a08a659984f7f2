/** The core's metric rules that the store, the v1 routes and the site share. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { comparePoints, competitionRanks } from "../../functions/domain/ranking.js";

describe("the latest point", () => {
  it("is the greatest by step, then timestamp, then value, whatever order the points come in", () => {
    const point = fc.record({ step: fc.integer({ min: -3, max: 3 }), timestamp: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: -2, max: 2 }) });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 20 }), (points) => {
        const latest = points.reduce((best, p) => (comparePoints(p, best) > 0 ? p : best));
        const expected = [...points].sort((a, b) => b.step - a.step || b.timestamp - a.timestamp || b.value - a.value)[0];
        expect(latest).toEqual(expected);
      }),
    );
  });

  it("orders a later step first even at a smaller timestamp and value", () => {
    expect(comparePoints({ step: 2, timestamp: 0, value: -1 }, { step: 1, timestamp: 9, value: 9 })).toBeGreaterThan(0);
    expect(comparePoints({ step: 1, timestamp: 5, value: 0 }, { step: 1, timestamp: 5, value: 0 })).toBe(0);
  });
});

describe("ranks", () => {
  it("give equal values the rank of the first of them, and count every entry before", () => {
    expect(competitionRanks([0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.1])).toEqual([1, 2, 2, 4, 4, 4, 7]);
    expect(competitionRanks([])).toEqual([]);
  });
});
