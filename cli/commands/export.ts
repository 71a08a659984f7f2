/**
 * `kdgat export`: every page of GET /api/v1/export merged into one ExportDocument. With the admin
 * token it is the full backup (deleted runs, idempotency keys: import restores it exactly); without
 * it, the public export.
 */
import { renameSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { ExportDocument } from "../../functions/api/contract.js";
import { mergeExportPages } from "../../functions/domain/index.js";
import { ApiClient, withAdminTokenOption, withConnectionOptions, type ConnectionFlags } from "../api-client.js";
import { terminalSafe } from "../output.js";

interface ExportFlags extends ConnectionFlags {
  out?: string;
}

export function registerExport(program: Command): void {
  const command = program
    .command("export")
    .description("write the whole tracker (experiments, runs, params, tags, metric histories) as one JSON document; the full backup with the admin token")
    .option("--out <file>", "write to this file (atomically) instead of stdout");
  withAdminTokenOption(withConnectionOptions(command)).action(async (flags: ExportFlags) => {
    const document = await exportAll(ApiClient.adminIfAny(flags));
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
  const pages: ExportDocument[] = [];
  for (let token: string | undefined; ; ) {
    const page = await client.json<ExportDocument>("GET", "/api/v1/export", { query: { page_token: token } });
    pages.push(page);
    token = page.next_page_token;
    if (!token) return mergeExportPages(pages);
  }
}
