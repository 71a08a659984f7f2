/**
 * Tables for people (aligned, fitted to the terminal) and CSV for scripts; terminalSafe for every
 * value people see (CSV and JSON stay exact: they are for scripts).
 */

/**
 * What a terminal acts on instead of showing: C0 and C1 controls (ESC and CSI start the sequences
 * that retitle a window, write the clipboard or erase a line; CR and backspace overwrite what was
 * printed), DEL, and the bidi controls and separators that reorder or break what is shown.
 */
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text that anyone may have written (run names, params, tags, error messages, folder names, the
 * tracker's answers), shown on a terminal as it is but inert: each control character becomes a
 * visible escape (`\x1b`, `\n`, `\u202e`).
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (ch) => {
    const code = ch.charCodeAt(0);
    return NAMED_ESCAPES[ch] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
  });
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Numbers read best right-aligned. */
  align?: "left" | "right";
}

/** An aligned table of terminal-safe cells; on a terminal, the widest columns are cut (with `…`) until it fits. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[], maxWidth = terminalWidth()): string {
  const headers = columns.map((column) => terminalSafe(column.header));
  const cells = rows.map((row) => columns.map((column) => terminalSafe(column.value(row))));
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((line) => line[i].length)));
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
  return [line(headers), ...cells.map(line)].join("\n");
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
