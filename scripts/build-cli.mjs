// `npm run build:cli`: the CLI and what it shares with the Worker (functions/domain, functions/client)
// as Node ES modules in dist/, one file per source. esbuild only strips the types (<1 s); they are
// checked by `npm run typecheck` (tsconfig.node.json covers these files), so emitting with tsc
// (~12 s CPU) would check them a second time.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./local-server.mjs";

/** The folders the CLI is built from (test/support/build-cli.ts rebuilds when one holds a newer file). */
export const CLI_SOURCES = ["cli", "functions/domain", "functions/client"];

/** Builds dist/ from CLI_SOURCES' .ts files (declaration files left out). */
export async function buildCli() {
  // A module deleted from the sources must not linger in dist/ for the CLI to import.
  for (const folder of ["cli", "functions"]) rmSync(join(ROOT, "dist", folder), { recursive: true, force: true });
  const entryPoints = CLI_SOURCES.flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
      .map((file) => join(dir, file)),
  );
  await build({ absWorkingDir: ROOT, entryPoints, outdir: "dist", outbase: ".", format: "esm", platform: "node", target: "node20", logLevel: "warning" });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
