/** RFC 4180 CSV: the runs export writes it, Lightning's metrics.csv upload is read with it. */
import { csvCell } from "../domain/csv.js";

export function formatCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** Where an unquoted cell stops: a separator, a quote or a line break. */
const CELL_END = /[",\r\n]/g;

/**
 * Parses CSV text into rows of cells; undefined when a quoted cell is never closed or a cell is
 * longer than `maxCellLength` (it stops there). Cells are sliced out between the characters that
 * matter, so a long cell is one copy, not an append per character.
 */
export function parseCsv(text: string, maxCellLength = Number.POSITIVE_INFINITY): string[][] | undefined {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell: string[] = [];
  let cellLength = 0;
  let at = 0;
  const append = (piece: string) => {
    cell.push(piece);
    cellLength += piece.length;
    return cellLength <= maxCellLength;
  };
  const endCell = () => {
    row.push(cell.join(""));
    cell = [];
    cellLength = 0;
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
        at = close + 1;
        if (text[at] !== '"') break;
        append('"');
        at++;
      }
    } else if (stop[0] === ",") {
      endCell();
    } else {
      if (stop[0] === "\r" && text[at] === "\n") at++;
      endCell();
      rows.push(row);
      row = [];
    }
  }
  const last = cell.join("");
  if (last !== "" || row.length > 0) rows.push([...row, last]);
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}
