/**
 * The one CSV rule (RFC 4180): quoting, shared by the Worker's CSV export and the CLI's `--csv`, and
 * parsing, shared by the Worker's metrics.csv upload and the CLI's backfill.
 */

export type CsvValue = string | number | boolean | null;

/** Quotes a cell when it holds a separator, a quote or a line break (quotes are doubled). */
export function csvCell(value: CsvValue): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row of CSV, without its line end. */
export function csvRow(cells: readonly CsvValue[]): string {
  return cells.map(csvCell).join(",");
}

/** Rows as CSV text, each ended by `lineEnd` (RFC 4180's CRLF unless told). */
export function formatCsv(header: readonly CsvValue[], rows: ReadonlyArray<readonly CsvValue[]>, lineEnd = "\r\n"): string {
  return [header, ...rows].map((row) => csvRow(row) + lineEnd).join("");
}

/** One record of a CSV text: its cells, and the line of the text it starts on (from 1). */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/** Where an unquoted cell stops: a separator, a quote or a line break. */
const CELL_END = /[",\r\n]/g;

/** Line breaks in text[from, to): CRLF, LF or a lone CR. */
function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code === 10 || (code === 13 && text.charCodeAt(at + 1) !== 10)) count++;
  }
  return count;
}

/**
 * Parses CSV text into records; a quoted cell may hold separators, quotes (doubled) and line
 * breaks. Undefined when a quoted cell is never closed or a cell is longer than `maxCellLength`
 * (it stops there). Blank lines are no records. Linear: cells are sliced out between the
 * characters that matter, so a long cell is a few slices, not an append per character.
 */
export function parseCsv(text: string, maxCellLength = Number.POSITIVE_INFINITY): CsvRecord[] | undefined {
  const records: CsvRecord[] = [];
  let row: string[] = [];
  let cell = "";
  let line = 1;
  let rowLine = 1;
  let at = 0;
  const append = (piece: string) => {
    cell += piece;
    return cell.length <= maxCellLength;
  };
  const endCell = () => {
    row.push(cell);
    cell = "";
  };
  const endRow = () => {
    if (!(row.length === 1 && row[0] === "")) records.push({ cells: row, line: rowLine });
    row = [];
    rowLine = line;
  };
  for (;;) {
    CELL_END.lastIndex = at;
    const stop = CELL_END.exec(text);
    const end = stop ? stop.index : text.length;
    if (!append(text.slice(at, end))) return undefined;
    if (!stop) break;
    at = end + 1;
    if (stop[0] === '"') {
      // Inside quotes everything is text; a doubled quote stands for one.
      for (;;) {
        const close = text.indexOf('"', at);
        if (close < 0 || !append(text.slice(at, close))) return undefined;
        line += lineBreaks(text, at, close);
        at = close + 1;
        if (text[at] !== '"') break;
        append('"');
        at++;
      }
    } else if (stop[0] === ",") {
      endCell();
    } else {
      if (stop[0] === "\r" && text[at] === "\n") at++;
      line++;
      endCell();
      endRow();
    }
  }
  if (cell !== "" || row.length > 0) {
    endCell();
    endRow();
  }
  return records;
}
