// Fails when the Worker bundle that `wrangler deploy --dry-run --outdir DIR` wrote is over its gzip
// budget, so a heavy import (all of zod's locales, an unminified build) shows up in `npm test`.
// Usage: node scripts/check-bundle-size.mjs DIR
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KIB = 120;

const bundle = readFileSync(join(process.argv[2], "index.js"));
const gzipKib = gzipSync(bundle).length / 1024;
const figures = `${(bundle.length / 1024).toFixed(2)} KiB, gzip ${gzipKib.toFixed(2)} KiB (budget ${BUDGET_KIB} KiB gzip)`;
if (gzipKib > BUDGET_KIB) {
  console.error(`Worker bundle over budget: ${figures}`);
  process.exit(1);
}
console.log(`Worker bundle: ${figures}`);
