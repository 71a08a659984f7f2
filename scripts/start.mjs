// `npm start`: local D1 (migrations applied), the API and the site on http://127.0.0.1:8787.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSite } from "./build-site.mjs";
import { exitOnSignals, ROOT, startLocalServer } from "./local-server.mjs";

const devVars = join(ROOT, ".dev.vars");
if (!existsSync(devVars)) {
  writeFileSync(devVars, `ADMIN_TOKEN=${randomBytes(24).toString("hex")}\n`, { mode: 0o600 });
  console.log("Created .dev.vars with a new random ADMIN_TOKEN (git ignores it).");
}
const adminToken = readFileSync(devVars, "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim();

const port = Number(process.env.PORT ?? 8787);
const server = await startLocalServer({ port, quiet: false, logLevel: "info", watch: true, vars: { ADMIN_TOKEN: adminToken } });
// First start: build the leaderboard from this server's API; the Worker serves the new files.
if (!existsSync(join(ROOT, "dist", "site", "index.html"))) {
  console.log("Building the site (dist/site) from the running API...");
  await buildSite({ apiUrl: server.url }).catch((error) => console.error(`Site build failed, the API still runs:\n${error.message}`));
}

console.log(`
kdgat-tracker is running at ${server.url}
  site:         ${server.url}/   (rebuild: SITE_API_URL=${server.url} npm run build)
  MLflow API:   ${server.url}/api/2.0/mlflow/   (MLFLOW_TRACKING_URI=${server.url})
  curl API:     ${server.url}/api/v1/
  admin token:  ${adminToken}
Mint a write token for jobs:
  curl -s -X POST ${server.url}/api/v1/tokens -H 'Authorization: Bearer ${adminToken}' -H 'Content-Type: application/json' -d '{"name": "slurm"}'
Ctrl-C stops everything.`);

exitOnSignals(() => server.stop());
