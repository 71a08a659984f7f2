// Starts the Worker locally (local D1 with migrations applied, served by serve-worker.mjs through
// wrangler's dev engine) and stops it cleanly. Used by `npm start`, the Node-side tests and the
// benchmarks.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { offlineEnv } from "./wrangler-env.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Applies the D1 migrations in drizzle/ to the local database kept under persistTo. A database that
 * does not exist yet starts as a copy of one that `wrangler d1 migrations apply` migrated once for
 * these migrations (kept in .wrangler/migrated/); one that exists is migrated in place unless it
 * already has them. `wrangler d1 migrations apply` is a process of ~4 s CPU, which every test
 * server and every restart would pay again.
 */
export function applyLocalMigrations(persistTo) {
  const databases = join(persistTo, "v3", "d1");
  const migrations = migrationsId();
  if (!existsSync(databases)) return cpSync(join(migratedTemplate(migrations), "v3"), join(persistTo, "v3"), { recursive: true });
  const marker = join(databases, MIGRATED_MARKER);
  if (existsSync(marker) && readFileSync(marker, "utf8") === migrations) return;
  wranglerApply(persistTo);
  writeFileSync(marker, migrations);
}

/** Beside the local databases: the migrations they have (migrationsId), written once they are applied. */
const MIGRATED_MARKER = "kdgat-migrations";

/** Names drizzle/'s migrations and wrangler.toml (the database's name) as they are now. */
function migrationsId() {
  const hash = createHash("sha256").update(readFileSync(join(ROOT, "wrangler.toml")));
  const migrations = join(ROOT, "drizzle");
  for (const name of readdirSync(migrations)
    .filter((file) => file.endsWith(".sql"))
    .sort()) {
    hash.update(name).update(readFileSync(join(migrations, name)));
  }
  return hash.digest("hex").slice(0, 16);
}

/** The folder of a local D1 migrated from empty with the given migrations. */
function migratedTemplate(migrations) {
  const template = join(ROOT, ".wrangler", "migrated", migrations);
  if (existsSync(template)) return template;
  mkdirSync(dirname(template), { recursive: true });
  // Migrated beside it and renamed into place, so that servers starting together never copy a half-migrated one.
  const building = mkdtempSync(`${template}-`);
  wranglerApply(building);
  writeFileSync(join(building, "v3", "d1", MIGRATED_MARKER), migrations);
  try {
    renameSync(building, template);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(template)) throw error;
  }
  return template;
}

function wranglerApply(persistTo) {
  const result = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
    cwd: ROOT,
    env: offlineEnv({ CI: "true" }),
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(`applying local D1 migrations failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Starts the Worker on 127.0.0.1 and resolves once /health answers.
 * options: port (default: a free one), persistTo (default .wrangler/state), vars ({NAME: value}),
 * publicReadLimit (anonymous reads per 60 s from this machine; default wrangler.toml's limit),
 * watch (reload on source changes; default false), liveSite (rebuild the site by itself after
 * changes, scripts/live-site.mjs; default false), inspectorPort (open wrangler's DevTools inspector
 * of the Worker isolate there, for a benchmark to read the isolate's heap; default off), config
 * (another Worker's wrangler.toml, for a benchmark's reference Worker; default the tracker's), logLevel,
 * quiet (default true: the output is kept for error messages only).
 */
export async function startLocalServer(options = {}) {
  const port = options.port ?? (await freePort());
  const persistTo = resolve(options.persistTo ?? join(ROOT, ".wrangler", "state"));
  mkdirSync(join(ROOT, "dist", "site"), { recursive: true });
  applyLocalMigrations(persistTo);
  // The database folder is also the argument, so that tools can tell one server's processes.
  const child = spawn(process.execPath, [join(ROOT, "scripts", "serve-worker.mjs"), persistTo], {
    cwd: ROOT,
    env: offlineEnv({
      KDGAT_PORT: String(port),
      KDGAT_LOG_LEVEL: options.logLevel ?? "warn",
      KDGAT_WATCH: options.watch ? "1" : "0",
      KDGAT_LIVE_SITE: options.liveSite ? "1" : "0",
      KDGAT_WORKER_VARS: JSON.stringify(options.vars ?? {}),
      KDGAT_PUBLIC_READ_LIMIT: options.publicReadLimit === undefined ? "" : String(options.publicReadLimit),
      KDGAT_INSPECTOR_PORT: options.inspectorPort === undefined ? "" : String(options.inspectorPort),
      KDGAT_WRANGLER_CONFIG: options.config ?? "",
    }),
    // Own process group, so that stopping it also stops workerd.
    detached: true,
    stdio: options.quiet === false ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
  child.stderr?.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once("exit", () => (exited = true));

  const stop = () =>
    new Promise((resolveStop) => {
      if (exited) return resolveStop();
      child.once("exit", () => resolveStop());
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return resolveStop();
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 5_000).unref();
    });

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the local Worker exited before it was ready:\n${output}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return { url, port, persistTo, stop, output: () => output };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the local Worker did not answer on ${url} in time:\n${output}`);
}

/** Runs stop() once on the first SIGINT, SIGTERM or SIGHUP, then exits. */
export function exitOnSignals(stop) {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      await stop();
      process.exit(0);
    });
  }
}
