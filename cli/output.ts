/** Tables for people (aligned, fitted to the terminal) and CSV for scripts. */

/**
 * Names from folders, files or the tracker, safe to print on a terminal: C0 and C1 control
 * characters, DEL and bidi overrides become `\uXXXX`, so a name can never move the cursor, retitle
 * the window or reorder what is shown.
 */
export function escapeControlChars(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Numbers read best right-aligned. */
  align?: "left" | "right";
}

/** An aligned table; on a terminal, the widest columns are cut (with `…`) until it fits. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[], maxWidth = terminalWidth()): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i].length)));
  const gap = 2;
  const total = () => widths.reduce((sum, w) => sum + w, 0) + gap * (widths.length - 1);
  while (total() > maxWidth) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= 8) break;
    widths[widest]--;
  }
  const line = (values: string[]) =>
    values
      .map((value, i) => {
        const fitted = value.length > widths[i] ? `${value.slice(0, widths[i] - 1)}…` : value;
        return columns[i].align === "right" ? fitted.padStart(widths[i]) : fitted.padEnd(widths[i]);
      })
      .join(" ".repeat(gap))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

export function renderCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  return [columns.map((c) => field(c.header)), ...rows.map((row) => columns.map((c) => field(c.value(row))))].map((r) => r.join(",")).join("\n");
}

function terminalWidth(): number {
  return process.stdout.isTTY ? process.stdout.columns || 80 : Number.POSITIVE_INFINITY;
}

/** `2026-11-29 09:53` in UTC: stable across machines, sortable. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

export function formatDuration(startMs: number, endMs: number | null): string {
  if (endMs === null) return "";
  const seconds = Math.max(0, Math.round((endMs - startMs) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(seconds % 60).padStart(2, "0")}s`;
}

export function formatValue(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
