/** How numbers, times and statuses read on the site (build time, UTC, no client-side locale). */
import type { RunStatus } from "../../functions/api/contract.js";

/**
 * Metric values: always 4 decimals (`1.0000`, `0.0001`), so that one column never mixes formats;
 * scientific only for magnitudes of a million or more; NaN and missing spelled out.
 */
export function formatMetric(value: number | undefined): string {
  if (value === undefined) return "—";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value) || Math.abs(value) >= 1e6) return value.toExponential(3);
  return value.toFixed(4);
}

/** A signed difference, e.g. `+0.0123` or `−0.0040`. */
export function formatDelta(delta: number | null): string {
  if (delta === null) return "—";
  const text = formatMetric(Math.abs(delta));
  return delta > 0 ? `+${text}` : delta < 0 ? `−${text}` : `±${text}`;
}

const BYTE_UNITS = ["KiB", "MiB", "GiB", "TiB"];

/** A file size for people: `512 B`, `1.5 KiB`, `200.0 MiB` (binary units, one decimal). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** `2026-11-29 09:53:07 UTC` */
export function formatTime(ms: number | null): string {
  if (ms === null) return "—";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `2h 05m`, `3m 12s`, `42s` */
export function formatDuration(ms: number | null): string {
  if (ms === null || ms < 0) return "—";
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Text marks so status never depends on colour alone. */
const STATUS_MARKS: Record<RunStatus, string> = {
  FINISHED: "✓",
  FAILED: "✗",
  KILLED: "✗",
  RUNNING: "▶",
  SCHEDULED: "…",
};

export function statusMark(status: RunStatus): string {
  return STATUS_MARKS[status] ?? "?";
}

/** Sort key for a value cell: the raw number, empty when missing so that it sorts last. */
export function sortValue(value: number | null | undefined): string {
  return value === undefined || value === null || Number.isNaN(value) ? "" : String(value);
}

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIALS = /[&<>"']/g;

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  // Most texts (metric keys, numbers) have nothing to escape: a test is cheaper than a replace with a callback.
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIALS, (c) => `&#${c.charCodeAt(0)};`) : text;
}

/** The last identifiers' HTML: every run page repeats the same ~80 param and ~300 metric keys. */
const breakable = new Map<string, string>();
const BREAKABLE_CACHED = 10_000;

/** HTML for an identifier that may break after each `/` and `_` (run ids, metric keys, datasets), escaped. */
export function breakableHtml(text: string): string {
  let html = breakable.get(text);
  if (html === undefined) {
    html = escapeHtml(text).replace(/[/_]/g, "$&<wbr>");
    if (breakable.size >= BREAKABLE_CACHED) breakable.clear();
    breakable.set(text, html);
  }
  return html;
}
