/**
 * Markup used both by the Astro pages (through the thin components in site/components/) and by the
 * run pages, which are written as strings outside Astro's per-page rendering (run-page.ts): each
 * piece is defined once, here. Every text is escaped.
 */
import type { RunStatus } from "../../functions/api/contract.js";
import type { ArtifactView } from "./data.js";
import { breakableHtml, escapeHtml, formatBytes, statusMark } from "./format.js";

/** A status with its text mark, so that it never depends on colour alone. */
export function statusHtml(status: RunStatus): string {
  return `<span class="status status-${escapeHtml(status.toLowerCase())}">${statusMark(status)} ${escapeHtml(status)}</span>`;
}

/** A keyboard-scrollable region around a wide table (its HTML), labelled for screen readers. */
export function scrollHtml(label: string, inner: string): string {
  return `<div class="scroll" role="region" aria-label="${escapeHtml(label)}" tabindex="0">${inner}</div>`;
}

/**
 * A run's stored artifacts (path, size) with download links to the Worker's artifact route; nothing
 * at all when the export has no listing (ARTIFACTS_PUBLIC=false keeps it out of the public export).
 */
export function artifactsHtml(artifacts: ArtifactView[] | undefined, caption: string): string {
  if (!artifacts) return "";
  const heading = `<h2>Artifacts (${artifacts.length})</h2>`;
  if (artifacts.length === 0) return `${heading}<p data-field="no-artifacts">No artifacts stored for this run.</p>`;
  const rows = artifacts
    .map(
      (file) =>
        `<tr data-path="${escapeHtml(file.path)}"><th scope="row"><a href="${escapeHtml(file.href)}" download>${breakableHtml(file.path)}</a></th><td class="num" data-value="${file.size}">${formatBytes(file.size)}</td></tr>`,
    )
    .join("");
  return (
    heading +
    scrollHtml(
      "Artifacts",
      `<table class="artifacts"><caption>${escapeHtml(caption)}</caption><thead><tr><th scope="col">File</th><th scope="col">Size</th></tr></thead><tbody>${rows}</tbody></table>`,
    )
  );
}
