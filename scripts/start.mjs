// `npm start`: local D1 (migrations applied), the API and the site on http://127.0.0.1:8787.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_TOKEN } from "./admin-token.mjs";
import { exitOnSignals, ROOT, startLocalServer } from "./local-server.mjs";

const devVars = join(ROOT, ".dev.vars");
if (!existsSync(devVars)) {
  writeFileSync(devVars, `ADMIN_TOKEN=${ADMIN_TOKEN}\n`, { mode: 0o600 });
  console.log(`Created .dev.vars with ${process.env.KDGAT_ADMIN_TOKEN ? "KDGAT_ADMIN_TOKEN" : "a new random token"} as ADMIN_TOKEN (git ignores it).`);
}
const adminToken = readFileSync(devVars, "utf8")
  .match(/^ADMIN_TOKEN=(.*)$/m)?.[1]
  ?.trim();

const port = Number(process.env.PORT ?? 8787);
// liveSite: the site is built from this server's API now and again within seconds of every change
// that it shows (scripts/live-site.mjs), swapped in whole.
const server = await startLocalServer({ port, quiet: false, logLevel: "info", watch: true, liveSite: true, vars: { ADMIN_TOKEN: adminToken } });

console.log(`
kdgat-tracker is running at ${server.url}
  site:         ${server.url}/   (rebuilt by itself a few seconds after a run ends, is deleted or restored)
  MLflow API:   ${server.url}/api/2.0/mlflow/   (MLFLOW_TRACKING_URI=${server.url})
  curl API:     ${server.url}/api/v1/
  admin token:  ${adminToken}
Mint a write token for jobs:
  curl -s -X POST ${server.url}/api/v1/tokens -H 'Authorization: Bearer ${adminToken}' -H 'Content-Type: application/json' -d '{"name": "slurm"}'
Ctrl-C stops everything.`);

exitOnSignals(() => server.stop());
