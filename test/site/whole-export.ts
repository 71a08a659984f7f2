import type { ExportDocument } from "../../functions/api/contract.js";
import { mergeExportPages } from "../../functions/domain/index.js";
import { loadExport } from "../../site/lib/export-source.js";

/** Every page the site's loader hands over, merged: the whole export. */
export async function loadWhole(env: NodeJS.ProcessEnv): Promise<ExportDocument> {
  const pages: ExportDocument[] = [];
  await loadExport((page) => pages.push(page), env);
  return mergeExportPages(pages);
}
