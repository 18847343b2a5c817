// What every chart of the report panel shares: the point budget of a series, and log10 axes whose ticks read
// as powers of ten. Pure (no DOM, no Chart.js): the webview maps the chart models to charts.
import type { XY } from '../decimate';
import { formatPowerOfTen } from '../../engine/report/format';

/** Above this many points a series is decimated (min/max kept per bucket): about two per pixel column of a panel. */
export const MAX_SERIES_POINTS = 600;

/** A y range in log10 units with integer-step ticks that read as powers of ten. */
export interface Log10Axis {
  min: number;
  max: number;
  stepSize: number;
  /**
   * The tick positions (log10 units), when set: the multiples of stepSize, or on a range of one or two decades
   * also 2× and 5× each power of ten (so the axis has at least 4 labelled ticks; see log10Ticks).
   */
  ticks?: number[];
}

/** Every axis has at least this many labelled ticks. */
export const MIN_LOG10_TICKS = 4;

const LOG2 = Math.log10(2);
const LOG5 = Math.log10(5);

/**
 * Ticks of a log10 range [min, max] with integer bounds: the multiples of `stepSize`, and when those are fewer
 * than MIN_LOG10_TICKS (a range of one or two decades), 1, 2 and 5 times each power of ten inside it.
 */
export function log10Ticks(min: number, max: number, stepSize: number): number[] {
  const ticks: number[] = [];
  for (let v = Math.ceil(min / stepSize) * stepSize; v <= max + 1e-9; v += stepSize) ticks.push(v);
  if (ticks.length >= MIN_LOG10_TICKS || stepSize !== 1) return ticks;
  const minor: number[] = [];
  for (let k = Math.floor(min); k <= Math.ceil(max); k++)
    for (const v of [k, k + LOG2, k + LOG5]) if (v >= min - 1e-9 && v <= max + 1e-9) minor.push(v);
  return minor;
}

/**
 * A tick label of a log10 axis: a power of ten ("10⁻³", "1", "10"); 2 or 5 times one as plain digits from 2 to 50,
 * else as mantissa × power of ten ("2×10⁻³", "5×10⁴").
 */
export function log10TickLabel(v: number): string {
  const k = Math.floor(v + 1e-9);
  const mantissa = Math.round(10 ** (v - k));
  if (mantissa === 1 || mantissa === 10) return formatPowerOfTen(Math.round(v));
  if (k === 0 || k === 1) return String(mantissa * 10 ** k);
  return `${mantissa}×${formatPowerOfTen(k)}`;
}

/** Integer-aligned axis bounds around [lo, hi] (log10 units) with about `ticks` labelled steps. */
export function log10Axis(lo: number, hi: number, ticks = 6): Log10Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    return { min: -1, max: 1, stepSize: 1, ticks: log10Ticks(-1, 1, 1) };
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
  return { min, max, stepSize, ticks: log10Ticks(min, max, stepSize) };
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
