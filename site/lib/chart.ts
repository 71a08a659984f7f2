/** A metric history as an SVG line chart, computed at build time (no client-side charting). */
import type { Point } from "./data.js";

export const CHART_WIDTH = 320;
export const CHART_HEIGHT = 140;
const PAD = { left: 8, right: 8, top: 10, bottom: 10 };
/** Longer histories are thinned to this many points: a 320 px chart cannot show more. */
const MAX_POINTS = 320;

export interface LineChart {
  /** The SVG path of the finite values, in step order. */
  path: string;
  /** Points drawn as dots (histories short enough to show each one). */
  dots: Array<{ x: number; y: number }>;
  minStep: number;
  maxStep: number;
  minValue: number;
  maxValue: number;
  /** Points left out because they are NaN or infinite. */
  skipped: number;
}

export function lineChart(points: Point[]): LineChart | undefined {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (finite.length === 0) return undefined;
  const drawn = thin(finite);
  const minStep = drawn[0].step;
  const maxStep = drawn[drawn.length - 1].step;
  let minValue = Infinity;
  let maxValue = -Infinity;
  for (const p of finite) {
    minValue = Math.min(minValue, p.value);
    maxValue = Math.max(maxValue, p.value);
  }
  const plotWidth = CHART_WIDTH - PAD.left - PAD.right;
  const plotHeight = CHART_HEIGHT - PAD.top - PAD.bottom;
  const x = (step: number) => PAD.left + (maxStep === minStep ? plotWidth / 2 : ((step - minStep) / (maxStep - minStep)) * plotWidth);
  const y = (value: number) => PAD.top + (maxValue === minValue ? plotHeight / 2 : (1 - (value - minValue) / (maxValue - minValue)) * plotHeight);
  const coords = drawn.map((p) => ({ x: round(x(p.step)), y: round(y(p.value)) }));
  return {
    path: coords.map((c, i) => `${i === 0 ? "M" : "L"}${c.x} ${c.y}`).join(""),
    dots: coords.length <= 40 ? coords : [],
    minStep,
    maxStep,
    minValue,
    maxValue,
    skipped: points.length - finite.length,
  };
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
