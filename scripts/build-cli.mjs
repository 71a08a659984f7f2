// `npm run build:cli`: the CLI and what it shares with the Worker (functions/domain, functions/client)
// as Node ES modules in dist/, one file per source. esbuild only strips the types (<1 s); they are
// checked by `npm run typecheck` (tsconfig.node.json covers these files), so emitting with tsc
// (~12 s CPU) would check them a second time.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { ROOT } from "./local-server.mjs";

// A module deleted from the sources must not linger in dist/ for the CLI to import.
for (const folder of ["cli", "functions"]) rmSync(join(ROOT, "dist", folder), { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: ["cli/**/*.ts", "functions/domain/**/*.ts", "functions/client/index.ts"],
  outdir: "dist",
  outbase: ".",
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "warning",
});
