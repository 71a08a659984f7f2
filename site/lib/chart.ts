/**
 * Metric histories as static SVG line charts, computed at build time (no client-side charting):
 * axes with ticks (d3-array's nice ticks) and labels, step on x, several series on one chart (train
 * and validation of one quantity; a KD student's curves over its teacher's), one hover column per
 * step whose <title> lists every series' value at that step, and a text description that reads each
 * curve from its first value to its last.
 */
import { nice, ticks } from "d3-array";
import { historyPoints, type LatestPoint as Point, type RunView } from "./data.js";
import { escapeHtml, formatMetric } from "./format.js";

export const CHART_WIDTH = 360;
export const CHART_HEIGHT = 200;
const PAD = { left: 48, right: 10, top: 10, bottom: 34 };
/** Longer histories are thinned to this many points: a 360 px chart cannot show more. */
const MAX_POINTS = 360;
/** At most this many hover columns per chart: longer histories get one every k-th step (and the last). */
const MAX_COLUMNS = 60;
const TICK_COUNT = 5;

export interface Series {
  /** e.g. `val_loss` or `teacher val_loss`. */
  label: string;
  /** CSS class of the line: `train`, `val` or `other`; `teacher` adds a dashed style. */
  kind: "train" | "val" | "other";
  teacher: boolean;
  points: Point[];
}

export interface DrawnSeries extends Series {
  /** SVG path data: coordinates to 0.1 px, relative after the first point. */
  path: string;
  /** What a screen reader hears, e.g. `val_loss falls from 1.2000 at step 0 to 0.1000 at step 11`. */
  description: string;
  skipped: number;
}

/** A transparent column of the plot around one step: hovering it shows every series' value there. */
export interface HoverColumn {
  x: number;
  width: number;
  /** e.g. `step 12: train_loss 0.4100, val_loss 0.5200`. */
  title: string;
}

export interface Chart {
  title: string;
  series: DrawnSeries[];
  columns: HoverColumn[];
  xTicks: Array<{ x: number; label: string }>;
  yTicks: Array<{ y: number; label: string }>;
  plot: { left: number; right: number; top: number; bottom: number };
  description: string;
}

/** `train_loss` and `val_loss` share the quantity `loss`; other keys are their own quantity. */
export function quantityOf(key: string): { quantity: string; kind: Series["kind"] } {
  const match = /^(train|val)_(.+)$/.exec(key);
  return match ? { quantity: match[2], kind: match[1] as "train" | "val" } : { quantity: key, kind: "other" };
}

/**
 * One chart per quantity of a run's histories, each with its train and validation series, and the
 * teacher's series of the same keys when the run is a KD student (dashed).
 */
export function runCharts(run: Pick<RunView, "histories">, teacher: Pick<RunView, "histories"> | undefined): Chart[] {
  const groups = new Map<string, Series[]>();
  for (const key of Object.keys(run.histories).sort()) {
    const { quantity, kind } = quantityOf(key);
    if (!groups.has(quantity)) groups.set(quantity, []);
    groups.get(quantity)!.push({ label: key, kind, teacher: false, points: historyPoints(run.histories[key]) });
    const theirs = teacher?.histories[key];
    if (theirs) groups.get(quantity)!.push({ label: `teacher ${key}`, kind, teacher: true, points: historyPoints(theirs) });
  }
  return [...groups.entries()].flatMap(([quantity, series]) => {
    const chart = lineChart(quantity, series);
    return chart ? [chart] : [];
  });
}

/** A chart of the given series on shared axes; undefined when no series has a finite value. */
export function lineChart(title: string, series: Series[]): Chart | undefined {
  // Plain loops: a 10,000-run site draws ~30,000 charts.
  const finiteBySeries = series.map((s) => s.points.filter((p) => Number.isFinite(p.value)));
  let [minStep, maxStep, lowest, highest] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const points of finiteBySeries) {
    for (const { step, value } of points) {
      if (step < minStep) minStep = step;
      if (step > maxStep) maxStep = step;
      if (value < lowest) lowest = value;
      if (value > highest) highest = value;
    }
  }
  if (minStep === Infinity) return undefined;
  [minStep, maxStep] = widen(minStep, maxStep);
  const [minValue, maxValue] = nice(...widen(lowest, highest), TICK_COUNT);
  const plot = { left: PAD.left, right: CHART_WIDTH - PAD.right, top: PAD.top, bottom: CHART_HEIGHT - PAD.bottom };
  const x = linear(minStep, maxStep, plot.left, plot.right);
  const y = linear(minValue, maxValue, plot.bottom, plot.top);
  const drawn = series.map(
    (s, i): DrawnSeries => ({
      ...s,
      path: pathData(thin(finiteBySeries[i]), x, y),
      description: describe(s.label, finiteBySeries[i]),
      skipped: s.points.length - finiteBySeries[i].length,
    }),
  );
  return {
    title,
    series: drawn,
    columns: hoverColumns(series, finiteBySeries, x, plot),
    xTicks: integerTicks(minStep, maxStep).map((step) => ({ x: round(x(step)), label: String(step) })),
    yTicks: ticks(minValue, maxValue, TICK_COUNT).map((value) => ({ y: round(y(value)), label: tickLabel(value) })),
    plot,
    description: `${title} by step: ${drawn.map((s) => s.description).join("; ")}.`,
  };
}

/** Reads a curve as a person would: from its first value to its last, with its best-known extreme. */
export function describe(label: string, points: Point[]): string {
  if (points.length === 0) return `${label}: no finite values`;
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length === 1) return `${label}: ${formatMetric(first.value)} at step ${first.step}`;
  const trend = last.value < first.value ? "falls" : last.value > first.value ? "rises" : "stays";
  const lowest = points.reduce((a, b) => (b.value < a.value ? b : a));
  const highest = points.reduce((a, b) => (b.value > a.value ? b : a));
  const extreme = trend === "rises" ? `highest ${formatMetric(highest.value)} at step ${highest.step}` : `lowest ${formatMetric(lowest.value)} at step ${lowest.step}`;
  return `${label} ${trend} from ${formatMetric(first.value)} at step ${first.step} to ${formatMetric(last.value)} at step ${last.step} (${extreme})`;
}

/** A single value still gets an axis: widened a little around the value. */
function widen(min: number, max: number): [number, number] {
  return min === max ? [min - (Math.abs(min) || 1) * 0.05, max + (Math.abs(max) || 1) * 0.05] : [min, max];
}

function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** Steps are integers: ticks at whole steps only, inside the data's range. */
function integerTicks(min: number, max: number): number[] {
  const whole = ticks(min, max, TICK_COUNT).filter(Number.isInteger);
  return whole.length > 0 ? whole : [Math.round(min)];
}

/** Short tick labels: as few decimals as the ticks need. */
function tickLabel(value: number): string {
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

/** Every k-th point plus the last, so the end of training is always drawn. */
function thin(points: Point[]): Point[] {
  if (points.length <= MAX_POINTS) return points;
  const every = Math.ceil(points.length / MAX_POINTS);
  const kept = points.filter((_, i) => i % every === 0);
  if (kept[kept.length - 1] !== points[points.length - 1]) kept.push(points[points.length - 1]);
  return kept;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** A coordinate in tenths of a pixel, as an integer: deltas between rounded points never drift. */
function tenths(n: number): number {
  return Math.round(n * 10);
}

/** Tenths of a pixel as text without a leading zero: `12.3`, `.4`, `-.4`. */
function decimal(t: number): string {
  const text = String(t / 10);
  if (t > 0 && t < 10) return text.slice(1);
  if (t < 0 && t > -10) return `-${text.slice(2)}`;
  return text;
}

const MINUS = 45;

/** `M48 12.3l10.2-1.3 10.2 .4...`: the first point absolute, then relative moves, no leading zeros. */
function pathData(points: Point[], x: (step: number) => number, y: (value: number) => number): string {
  let d = "";
  let [previousX, previousY] = [0, 0];
  for (let i = 0; i < points.length; i++) {
    const [px, py] = [tenths(x(points[i].step)), tenths(y(points[i].value))];
    const a = decimal(i === 0 ? px : px - previousX);
    const b = decimal(i === 0 ? py : py - previousY);
    const pair = `${a}${b.charCodeAt(0) === MINUS ? "" : " "}${b}`;
    d += i === 0 ? `M${pair}` : i === 1 ? `l${pair}` : `${a.charCodeAt(0) === MINUS ? "" : " "}${pair}`;
    [previousX, previousY] = [px, py];
  }
  return d;
}

/**
 * One column per step of any series (every k-th step when there are more than MAX_COLUMNS, and the
 * last), reaching halfway to its neighbours; its title lists each series' value at that step.
 */
function hoverColumns(series: Series[], finiteBySeries: Point[][], x: (step: number) => number, plot: Chart["plot"]): HoverColumn[] {
  const valueAt = finiteBySeries.map((points) => {
    const values = new Map<number, number>();
    for (const { step, value } of points) values.set(step, value);
    return values;
  });
  const unique = new Set<number>();
  for (const values of valueAt) for (const step of values.keys()) unique.add(step);
  const allSteps = [...unique].sort((a, b) => a - b);
  const every = Math.ceil(allSteps.length / MAX_COLUMNS);
  const steps = allSteps.filter((_, i) => i % every === 0 || i === allSteps.length - 1);
  const xs = steps.map(x);
  return steps.map((step, i) => {
    const left = i === 0 ? plot.left : (xs[i - 1] + xs[i]) / 2;
    const right = i === steps.length - 1 ? plot.right : (xs[i] + xs[i + 1]) / 2;
    let title = `step ${step}:`;
    let separator = " ";
    for (let k = 0; k < series.length; k++) {
      const value = valueAt[k].get(step);
      if (value === undefined) continue;
      title += `${separator}${series[k].label} ${formatMetric(value)}`;
      separator = ", ";
    }
    return { x: round(left), width: round(right - left), title };
  });
}

/**
 * The chart as one HTML string (a <figure> with inline SVG): built as text, not as components,
 * because the charts were most of the build time of 10,000 run pages. Every text is escaped.
 */
export function chartHtml(chart: Chart): string {
  const { plot } = chart;
  const id = `chart-${chart.title.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const skipped = chart.series.reduce((sum, s) => sum + s.skipped, 0);
  const seriesClass = (s: Series) => `${s.kind}${s.teacher ? " teacher" : ""}`;
  const legend = chart.series.map((s) => `<span class="key ${seriesClass(s)}">${escapeHtml(s.label)}</span>`).join("");
  const yAxis = chart.yTicks
    .map(
      (t) =>
        `<g><line class="grid" x1="${plot.left}" x2="${plot.right}" y1="${t.y}" y2="${t.y}"></line><text x="${plot.left - 4}" y="${t.y}" dy="0.32em" text-anchor="end">${t.label}</text></g>`,
    )
    .join("");
  const xAxis = chart.xTicks
    .map(
      (t) =>
        `<g><line class="tick" x1="${t.x}" x2="${t.x}" y1="${plot.bottom}" y2="${plot.bottom + 4}"></line><text x="${t.x}" y="${plot.bottom + 14}" text-anchor="middle">${t.label}</text></g>`,
    )
    .join("");
  const lines = chart.series.map((s) => `<g class="series ${seriesClass(s)}"><path class="line" d="${s.path}"></path></g>`).join("");
  const height = round(plot.bottom - plot.top);
  const columns = chart.columns.map((c) => `<rect x="${c.x}" y="${plot.top}" width="${c.width}" height="${height}"><title>${escapeHtml(c.title)}</title></rect>`).join("");
  return (
    `<figure class="chart" data-quantity="${escapeHtml(chart.title)}">` +
    `<figcaption id="${id}-caption"><strong>${escapeHtml(chart.title)}</strong><span class="legend">${legend}</span></figcaption>` +
    `<svg viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-labelledby="${id}-caption ${id}-desc">` +
    `<desc id="${id}-desc">${escapeHtml(chart.description)}</desc>` +
    `<g class="axis y" aria-hidden="true">${yAxis}</g>` +
    `<g class="axis x" aria-hidden="true"><line class="domain" x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}"></line>${xAxis}` +
    `<text class="label" x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 28}" text-anchor="middle">step</text></g>` +
    `${lines}<g class="hover">${columns}</g></svg>` +
    (skipped > 0 ? `<p class="axes">${skipped} NaN or infinite points not drawn.</p>` : "") +
    `</figure>`
  );
}
