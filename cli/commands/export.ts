/**
 * `kdgat export`: every page of GET /api/v1/export merged into one ExportDocument. With the admin
 * token it is the full backup (deleted runs, idempotency keys: import restores it exactly); without
 * it, the public export.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { ExportDocument } from "../../functions/api/contract.js";
import { allPages } from "../../functions/client/index.js";
import { mergeExportPages } from "../../functions/domain/index.js";
import { ApiClient, answer, type ConnectionFlags, withAdminTokenOption, withConnectionOptions } from "../api-client.js";
import { exportArtifacts } from "../artifact-backup.js";
import { terminalSafe } from "../output.js";

interface ExportFlags extends ConnectionFlags {
  out?: string;
  artifacts?: string;
}

export function registerExport(program: Command): void {
  const command = program
    .command("export")
    .description("write the whole tracker (experiments, runs, params, tags, metric histories) as one JSON document; the full backup with the admin token")
    .option("--out <file>", "write to this file (atomically) instead of stdout")
    .option("--artifacts <dir>", "also download every run's artifacts to <dir>/<mlflow_run_id>/<path>, checked against their SHA-256, with <dir>/artifacts.json listing them");
  withAdminTokenOption(withConnectionOptions(command)).action(async (flags: ExportFlags) => {
    const client = ApiClient.adminIfAny(flags);
    const document = await exportAll(client);
    if (flags.artifacts) {
      mkdirSync(flags.artifacts, { recursive: true });
      const { files, bytes } = await exportArtifacts(client, document, flags.artifacts);
      process.stderr.write(`exported ${files} artifact file(s), ${bytes} bytes, to ${terminalSafe(flags.artifacts)}\n`);
    }
    const text = `${JSON.stringify(document)}\n`;
    if (!flags.out) {
      process.stdout.write(text);
      return;
    }
    // Never leave a half-written backup where the old one was.
    const partial = `${flags.out}.partial`;
    writeFileSync(partial, text);
    renameSync(partial, flags.out);
    process.stderr.write(`exported ${document.experiments.length} experiment(s), ${document.runs.length} run(s) to ${terminalSafe(flags.out)}\n`);
  });
}

export async function exportAll(client: ApiClient): Promise<ExportDocument> {
  return mergeExportPages(await allPages((page_token) => answer(client.v1.export.$get({ query: { page_token } }))));
}
