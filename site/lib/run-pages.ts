/**
 * Writes every run id's page into a finished Astro build: the shell page Astro rendered from
 * layouts/Base.astro (pages/run-shell.astro) with each run's title and content (run-page.ts) in
 * place of its markers, from the data the build loaded (getSite: one load per build). The shell
 * page is then removed.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getSite } from "./data.js";
import { escapeHtml } from "./format.js";
import { runPageHtml, runPageTitle, SHELL_BODY, SHELL_PAGE, SHELL_TITLE } from "./run-page.js";

/** The key astro.config.mjs's `astro:build:done` hook finds the writer under (the config is plain JS, it cannot import this module). */
const RUN_PAGES = Symbol.for("kdgat-site.write-run-pages");

/**
 * Called by the shell page as Astro renders it: offers writeRunPages, with this bundle's data, to
 * the hook that runs once every Astro page is built.
 */
export function offerRunPages(): void {
  (globalThis as Record<symbol, unknown>)[RUN_PAGES] = writeRunPages;
}

export async function writeRunPages(outDir: string): Promise<number> {
  const shellDir = join(outDir, SHELL_PAGE);
  const shell = readFileSync(join(shellDir, "index.html"), "utf8");
  const [head, tail, ...rest] = shell.split(SHELL_BODY);
  if (tail === undefined || rest.length > 0 || !head.includes(SHELL_TITLE)) throw new Error(`Site build: ${SHELL_PAGE}/index.html lacks its markers`);
  const site = await getSite();
  const made = new Set<string>();
  for (const run of site.runs) {
    const datasetDir = join(outDir, "runs", run.dataset);
    if (!made.has(datasetDir)) {
      mkdirSync(datasetDir, { recursive: true });
      made.add(datasetDir);
    }
    const dir = join(datasetDir, run.name);
    mkdirSync(dir);
    writeFileSync(join(dir, "index.html"), head.replaceAll(SHELL_TITLE, escapeHtml(runPageTitle(run))) + runPageHtml(run, site) + tail);
  }
  rmSync(shellDir, { recursive: true });
  return site.runs.length;
}
