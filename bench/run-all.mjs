// `npm run bench`: Part A (tracking speed), Part B (concurrency and retries) and Part C (the cost of
// hostile input), one after the other, each on its own fresh local server; A and B rewrite their
// figures in bench/README.md, C prints its table.
import { concurrencyMarkdown, runConcurrency } from "./concurrency.mjs";
import { hostileCostMarkdown, runHostileCost } from "./hostile-cost.mjs";
import { runTracking, trackingMarkdown } from "./tracking.mjs";

const tracking = await runTracking();
console.log(trackingMarkdown(tracking));
const concurrency = await runConcurrency();
console.log(`\n${concurrencyMarkdown(concurrency)}`);
const hostile = await runHostileCost();
console.log(`\n${hostileCostMarkdown(hostile)}`);
if (concurrency.counters.errors.length || concurrency.verify.problemCount) process.exitCode = 1;
