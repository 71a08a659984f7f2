// `npm run bench`: Part A (tracking speed) then Part B (concurrency and retries), one after the
// other, each on its own fresh local server; rewrites the figures in bench/README.md.
import { concurrencyMarkdown, runConcurrency } from "./concurrency.mjs";
import { runTracking, trackingMarkdown } from "./tracking.mjs";

const tracking = await runTracking();
console.log(trackingMarkdown(tracking));
const concurrency = await runConcurrency();
console.log(`\n${concurrencyMarkdown(concurrency)}`);
if (concurrency.counters.errors.length || concurrency.verify.problemCount) process.exitCode = 1;
