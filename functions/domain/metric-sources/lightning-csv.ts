/**
 * Lightning's CSVLogger `metrics.csv`: columns `epoch,step,<metric>...`, sparse, RFC 4180 (a quoted
 * cell may hold a line break). Each non-empty cell but `step` is one point at its row's step,
 * `epoch` included: Lightning's own MLFlowLogger logs `epoch` as a metric at each step. Data row i
 * gets timestamp base + i, which keeps the rows in order and the same on every re-send.
 */
import { type CsvRecord, parseCsv } from "../csv.js";
import { LIMITS } from "../limits.js";
import { type MetricPoint, MetricSourceError, type PointClock, pointValue } from "./point.js";

export interface LightningCsv {
  header: string[];
  stepColumn: number;
  rows: CsvRecord[];
}

/** The header and the data rows of a metrics.csv; throws when it is no CSV or has no step column. */
export function readLightningCsv(text: string): LightningCsv {
  const records = parseCsv(text, LIMITS.maxCsvCellLength);
  if (!records || records.length === 0) {
    throw new MetricSourceError(`Malformed CSV (an unclosed quote, a cell of over ${LIMITS.maxCsvCellLength} characters, or no rows).`);
  }
  const [{ cells: header }, ...rows] = records;
  const stepColumn = header.indexOf("step");
  if (stepColumn < 0) throw new MetricSourceError("A metrics.csv needs a 'step' column (Lightning's CSVLogger writes epoch,step,<metric>...).");
  return { header, stepColumn, rows };
}

/** The points of data row `index` (its timestamp: base + index). */
export function rowPoints(csv: LightningCsv, index: number, clock: PointClock): MetricPoint[] {
  const { cells: row, line } = csv.rows[index];
  if (row.length !== csv.header.length) throw new MetricSourceError(`metrics.csv line ${line} has ${row.length} cells; the header has ${csv.header.length}.`);
  const cells = csv.header.map((key, column) => ({ key, text: row[column].trim() })).filter((c, column) => c.text !== "" && column !== csv.stepColumn);
  if (cells.length === 0) return [];
  const stepText = row[csv.stepColumn].trim();
  const step = Number(stepText);
  if (stepText === "" || !Number.isSafeInteger(step)) throw new MetricSourceError(`metrics.csv line ${line} has no integer step.`);
  return cells.map((cell) => ({ key: cell.key, value: pointValue(cell.text, cell.key, line), step, timestamp: clock.at(undefined, index) }));
}

export function pointsFromLightningCsv(text: string, clock: PointClock): MetricPoint[] {
  const csv = readLightningCsv(text);
  return csv.rows.flatMap((_, i) => rowPoints(csv, i, clock));
}
