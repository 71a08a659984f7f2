/**
 * Where the site's data comes from: the export, handed over page by page once per build (so that a
 * build never holds it whole), from SITE_SNAPSHOT (a file written by `kdgat export`, or a folder of
 * export pages) or from every page of SITE_API_URL's /api/v1/export, through the shared HTTP client
 * (functions/client: retries, the typed v1 client, paging). Each page is checked with the export
 * format's one schema, the one POST /api/v1/import validates with.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ExportDocument, exportDocument } from "../../functions/api/contract.js";
import { pages, UnreachableError, v1Client } from "../../functions/client/index.js";
import { HTTP_BACKOFF, RunParts } from "../../functions/domain/index.js";

export const DEFAULT_API_URL = "http://127.0.0.1:8787";
const BUILD_HINT = "Start the tracker (`npm start`), point SITE_API_URL at it, or build from a snapshot with SITE_SNAPSHOT=snapshot.json.";
/**
 * A build retries a dropped connection, a 5xx or an answer cut short a few times, and never waits
 * out a silent server: per request it waits at most SITE_FETCH_TIMEOUT_MS.
 */
const SITE_BACKOFF = { ...HTTP_BACKOFF, retries: 3 };

/**
 * Hands each export page to onPage, in order: SITE_SNAPSHOT if set (a file, or a folder of page
 * files), else SITE_API_URL's /api/v1/export. A run whose history the export split across pages is
 * handed over whole, with the page of its last part.
 */
export async function loadExport(onPage: (page: ExportDocument) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const parts = new RunParts();
  await loadPages((page) => onPage({ ...page, runs: parts.add(page.runs) }), env);
  parts.finish();
}

async function loadPages(onPage: (page: ExportDocument) => void, env: NodeJS.ProcessEnv): Promise<void> {
  if (!env.SITE_SNAPSHOT) return fetchExport(env.SITE_API_URL || DEFAULT_API_URL, Number(env.SITE_FETCH_TIMEOUT_MS ?? 30_000), onPage);
  const path = env.SITE_SNAPSHOT;
  if (!(await stat(path).catch(() => undefined))?.isDirectory()) return onPage(await readSnapshot(path, { whole: true }));
  // A folder of pages (as GET /api/v1/export answers them), read in name order.
  const names = (await readdir(path)).filter((name) => name.endsWith(".json")).sort();
  if (names.length === 0) throw new Error(`Site build: SITE_SNAPSHOT=${path} is a folder without export pages (*.json).`);
  for (const name of names) onPage(await readSnapshot(join(path, name), { whole: false }));
}

async function readSnapshot(path: string, { whole }: { whole: boolean }): Promise<ExportDocument> {
  const source = `SITE_SNAPSHOT=${path}`;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`Site build: cannot read ${source}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Site build: ${source} is not JSON: ${(error as Error).message}`);
  }
  const doc = checkExportPage(value, source);
  if (whole && doc.next_page_token) {
    throw new Error(`Site build: ${source} is one page of a paged export (it has next_page_token); write it with \`kdgat export > snapshot.json\`.`);
  }
  return doc;
}

async function fetchExport(apiUrl: string, timeoutMs: number, onPage: (page: ExportDocument) => void): Promise<void> {
  const client = v1Client(apiUrl, { backoff: SITE_BACKOFF, timeoutMs, retryTimeouts: false });
  try {
    const exportPages = pages(async (page_token) => {
      const response = await client.export.$get({ query: { page_token } }, { headers: { Accept: "application/json" } });
      const text = await response.text();
      if (!response.ok) throw new Error(`Site build: ${response.url} answered HTTP ${response.status}: ${text.slice(0, 300)}. ${BUILD_HINT}`);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new Error(`Site build: ${response.url} is not JSON: ${(error as Error).message}. ${BUILD_HINT}`);
      }
      return checkExportPage(value, response.url);
    });
    for await (const page of exportPages) onPage(page);
  } catch (error) {
    if (error instanceof UnreachableError) throw new Error(`Site build: cannot fetch ${error.url}: ${error.reason}. ${BUILD_HINT}`);
    throw error;
  }
}

/** Refuses anything that is not an ExportDocument, so a wrong URL never yields a half-empty site. */
function checkExportPage(value: unknown, source: string): ExportDocument {
  const checked = exportDocument.safeParse(value);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0];
  throw new Error(`Site build: ${source} is not a kdgat-export version 1 document (${issue.path.join(".") || "the document"}: ${innermost(issue)}).`);
}

/** A bad record key's issue holds the key rule's own message one level down. */
function innermost(issue: { message: string; issues?: ReadonlyArray<{ message: string }> }): string {
  return issue.issues?.[0]?.message ?? issue.message;
}
