/** The one CSV quoting rule (RFC 4180), shared by the Worker's CSV export and the CLI's `--csv`. */

/** Quotes a cell when it holds a separator, a quote or a line break (quotes are doubled). */
export function csvCell(value: string | number | boolean | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
