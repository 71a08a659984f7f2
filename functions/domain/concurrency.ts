/** The one bounded-concurrency pool: for requests (CLI, benchmarks) and latency-bound filesystem calls. */

/**
 * Runs task(0), task(1), ... task(count - 1) with at most `limit` in flight, starting no new task
 * once `stop()` says so (a deadline). Resolves to how many tasks were started.
 */
export async function runConcurrent(count: number, limit: number, task: (index: number) => Promise<unknown>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return next;
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  await runConcurrent(items.length, limit, async (index) => {
    results[index] = await work(items[index], index);
  });
  return results;
}
