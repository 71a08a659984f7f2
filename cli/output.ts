/**
 * Tables for people (aligned, fitted to the terminal) and CSV for scripts; terminalSafe for every
 * value people see (CSV and JSON stay exact: they are for scripts).
 */
import { csvRow } from "../functions/domain/csv.js";

/**
 * What a terminal acts on instead of showing: C0 and C1 controls (ESC and CSI start the sequences
 * that retitle a window, write the clipboard or erase a line; CR and backspace overwrite what was
 * printed), DEL, and the bidi controls and separators that reorder or break what is shown.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it removes
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
  /** What tells the rows apart (a run id): never cut, never dropped. */
  identifier?: boolean;
  /** Dropped whole (lowest first) when the table does not fit, rather than cut. */
  dropOrder?: number;
}

/** Cut columns keep at least this many characters (the `…` included). */
const MIN_CUT_WIDTH = 8;
const GAP = 2;

/** A column with its terminal-safe header and cells. */
interface Laid<T> {
  column: Column<T>;
  header: string;
  cells: string[];
}

/**
 * An aligned table of terminal-safe cells fitted to the terminal: free-text columns are cut (with
 * `…`, widest first) down to MIN_CUT_WIDTH, then droppable columns are dropped, least important
 * first, and a note below the table names them. Identifier columns are never cut or dropped.
 */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[], maxWidth = terminalWidth()): string {
  const all = columns.map(
    (column): Laid<T> => ({
      column,
      header: terminalSafe(column.header),
      cells: rows.map((row) => terminalSafe(column.value(row))),
    }),
  );
  const dropOrder = all.filter((c) => c.column.dropOrder !== undefined).sort((a, b) => a.column.dropOrder! - b.column.dropOrder!);
  let shown = all;
  let widths: number[];
  for (;;) {
    widths = fitWidths(shown, maxWidth);
    const next = dropOrder.find((c) => shown.includes(c));
    if (tableWidth(widths) <= maxWidth || next === undefined) break;
    shown = shown.filter((c) => c !== next);
  }
  const line = (values: string[]) =>
    values
      .map((value, i) => {
        const fitted = value.length > widths[i] ? `${value.slice(0, widths[i] - 1)}…` : value;
        return shown[i].column.align === "right" ? fitted.padStart(widths[i]) : fitted.padEnd(widths[i]);
      })
      .join(" ".repeat(GAP))
      .trimEnd();
  const table = [line(shown.map((c) => c.header)), ...rows.map((_, r) => line(shown.map((c) => c.cells[r])))];
  const dropped = all.filter((c) => !shown.includes(c)).map((c) => c.header);
  if (dropped.length > 0) table.push(`(not shown, to fit ${maxWidth} columns: ${dropped.join(", ")}; see --json)`);
  return table.join("\n");
}

const tableWidth = (widths: readonly number[]) => widths.reduce((sum, w) => sum + w, 0) + GAP * (widths.length - 1);

/** Natural widths, with the widest cuttable column narrowed one character at a time until the table fits. */
function fitWidths<T>(shown: ReadonlyArray<Laid<T>>, maxWidth: number): number[] {
  const widths = shown.map((c) => Math.max(c.header.length, ...c.cells.map((cell) => cell.length)));
  const cuttable = (i: number) => !shown[i].column.identifier && shown[i].column.dropOrder === undefined && widths[i] > MIN_CUT_WIDTH;
  while (tableWidth(widths) > maxWidth) {
    const candidates = widths.map((_, i) => i).filter(cuttable);
    if (candidates.length === 0) break;
    const widest = candidates.reduce((a, b) => (widths[b] > widths[a] ? b : a));
    widths[widest]--;
  }
  return widths;
}

export function renderCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  return [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.value(row)))].map(csvRow).join("\n");
}

/** `$COLUMNS` when set (scripts, tests), else the terminal's width; unlimited when not a terminal. */
function terminalWidth(): number {
  const columns = Number(process.env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
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

/** A table shows at least 4 significant digits of a column's smallest magnitude, and 4 decimals. */
const SIGNIFICANT_DIGITS = 4;
const MAX_DECIMALS = 8;

/**
 * One number format for a whole column: integers when every value is one, otherwise the same
 * decimals for every value: at least 4, more when the smallest magnitude needs them for 4
 * significant digits or when two different values would print alike (up to 8). So exact `1` prints
 * `1.0000` next to `0.9980`. Tables only: JSON and CSV carry the stored value. `NaN` prints as is.
 */
export function columnFormat(values: ReadonlyArray<number | string | null | undefined>, options: { signed?: boolean } = {}): (value: number | string | null | undefined) => string {
  const numbers = [...new Set(values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)))];
  let decimals = 0;
  if (!numbers.every(Number.isInteger)) {
    const smallest = Math.min(...numbers.filter((v) => v !== 0).map(Math.abs));
    decimals = Math.min(MAX_DECIMALS, Math.max(SIGNIFICANT_DIGITS, SIGNIFICANT_DIGITS - 1 - Math.floor(Math.log10(smallest))));
    while (decimals < MAX_DECIMALS && new Set(numbers.map((v) => v.toFixed(decimals))).size < numbers.length) decimals++;
  }
  return (value) => {
    if (value === null || value === undefined) return "";
    if (typeof value === "string" || !Number.isFinite(value)) return String(value);
    const text = value.toFixed(decimals);
    return options.signed && value >= 0 ? `+${text}` : text;
  };
}
