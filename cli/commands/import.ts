/** `kdgat import <file>`: recreates an export in a tracker, POSTed in pages (admin token). */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { ExportDocument, ExportedRun } from "../../functions/api/contract.js";
import { splitRun } from "../../functions/domain/index.js";
import { ApiClient, answer, type ConnectionFlags, withAdminTokenOption, withConnectionOptions } from "../api-client.js";
import { importArtifacts, verifyBackup } from "../artifact-backup.js";
import { UsageError } from "../errors.js";

/** Serialized runs per page: keeps each request well under the API's upload limit. */
const MAX_PAGE_BYTES = 512 * 1024;

export function registerImport(program: Command): void {
  const command = program
    .command("import")
    .description("load an export document (from kdgat export) into the tracker; needs the admin token")
    .argument("<file>", "an export document")
    .option(
      "--artifacts <dir>",
      "then upload the artifacts that kdgat export --artifacts saved in <dir> (every file checked against artifacts.json first; files the tracker holds already are skipped)",
    );
  withAdminTokenOption(withConnectionOptions(command)).action(async (file: string, flags: ConnectionFlags & { artifacts?: string }) => {
    let document: ExportDocument;
    try {
      document = JSON.parse(readFileSync(file, "utf8")) as ExportDocument;
    } catch (error) {
      throw new UsageError(`${file}: not a readable export document (${(error as Error).message})`);
    }
    if (document.format !== "kdgat-export") throw new UsageError(`${file}: not a kdgat export (format '${document.format}')`);
    // Every file is checked before the document goes in: a damaged backup imports nothing.
    const manifest = flags.artifacts ? await verifyBackup(flags.artifacts) : undefined;
    const pages = paginate(document);
    const client = ApiClient.forAdmin(flags);
    for (const page of pages) await answer(client.v1.import.$post({ json: page }));
    process.stderr.write(`imported ${document.experiments.length} experiment(s), ${document.runs.length} run(s) in ${pages.length} request(s)\n`);
    if (flags.artifacts && manifest) {
      const deleted = new Set(document.runs.filter((r) => r.lifecycle_stage === "deleted").map((r) => r.mlflow_run_id));
      const result = await importArtifacts(client, flags.artifacts, manifest, deleted);
      process.stderr.write(
        `imported ${result.uploaded} artifact file(s), ${result.bytes} bytes; ${result.unchanged} already there${result.deleted ? `; ${result.deleted} of deleted runs left in the folder` : ""}\n`,
      );
    }
  });
}

/**
 * Pages of the document: every page carries the experiments, runs are split by size, and a run
 * larger than a page is cut into parts of its history (the export's own parts, `splitRun`).
 */
export function paginate(document: ExportDocument): ExportDocument[] {
  const { next_page_token: _ignored, runs, ...head } = document;
  const pages: ExportDocument[] = [];
  let current: ExportDocument["runs"] = [];
  let bytes = 0;
  for (const run of runs.flatMap(bySize)) {
    const size = JSON.stringify(run).length;
    if (current.length > 0 && bytes + size > MAX_PAGE_BYTES) {
      pages.push({ ...head, runs: current });
      current = [];
      bytes = 0;
    }
    current.push(run);
    bytes += size;
  }
  pages.push({ ...head, runs: current });
  return pages;
}

/** A run as parts of at most about a page each (a part of an export page is kept as it is). */
function bySize(run: ExportedRun): ExportedRun[] {
  const size = JSON.stringify(run).length;
  const points = Object.values(run.metrics).reduce((sum, history) => sum + history.length, 0);
  if (size <= MAX_PAGE_BYTES || points === 0 || run.part) return [run];
  return splitRun(run, Math.max(1, Math.floor((MAX_PAGE_BYTES / 2 / size) * points)));
}
