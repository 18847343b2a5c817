// What every chart of the report panel shares: the point budget of a series, and log10 axes whose ticks read
// as powers of ten. Pure (no DOM, no Chart.js): the webview maps the chart models to charts.
import type { XY } from '../decimate';

/** Above this many points a series is decimated (min/max kept per bucket): about two per pixel column of a panel. */
export const MAX_SERIES_POINTS = 600;

/** A y range in log10 units with integer-step ticks that read as powers of ten. */
export interface Log10Axis {
  min: number;
  max: number;
  stepSize: number;
}

/** Integer-aligned axis bounds around [lo, hi] (log10 units) with about `ticks` labelled steps. */
export function log10Axis(lo: number, hi: number, ticks = 6): Log10Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: -1, max: 1, stepSize: 1 };
  if (hi < lo) [lo, hi] = [hi, lo];
  let min = Math.floor(lo);
  let max = Math.ceil(hi);
  if (max === min) {
    min -= 1;
    max += 1;
  }
  const raw = (max - min) / ticks;
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];
  const stepSize = steps.find((s) => s >= raw) ?? Math.ceil(raw);
  min = Math.floor(min / stepSize) * stepSize;
  max = Math.ceil(max / stepSize) * stepSize;
  return { min, max, stepSize };
}

/** The lowest and highest y of some series. */
export function extent(series: readonly (readonly XY[])[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const p of s) {
      if (p.y < lo) lo = p.y;
      if (p.y > hi) hi = p.y;
    }
  }
  return { lo, hi };
}

/** A finite number (not null, undefined or non-finite). */
export function present(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}
