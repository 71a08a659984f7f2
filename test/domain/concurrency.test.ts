/** The one bounded-concurrency pool (functions/domain/concurrency.ts): the bound, the order of results, the stop. */
import { describe, expect, it } from "vitest";
import { mapConcurrent, runConcurrent } from "../../functions/domain/concurrency";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("the bounded-concurrency pool", () => {
  it("never has more than the limit in flight, runs every task once, and keeps results in input order", async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const results = await mapConcurrent([5, 4, 3, 2, 1, 0], 3, async (item, index) => {
      started.push(index);
      most = Math.max(most, ++inFlight);
      for (let i = 0; i < item; i++) await tick();
      inFlight--;
      return item * 10;
    });
    expect(results).toEqual([50, 40, 30, 20, 10, 0]);
    expect([...started].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(3);
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
  });

  it("starts no task once stop() says so, and says how many it started", async () => {
    let done = 0;
    const started = await runConcurrent(
      100,
      2,
      async () => {
        await tick();
        done++;
      },
      () => done >= 5,
    );
    expect(started).toBeGreaterThanOrEqual(5);
    expect(started).toBeLessThanOrEqual(6);
    expect(await runConcurrent(10, 4, async () => {})).toBe(10);
  });
});
