// The heatmap's model: one sequence's (t, j) map of log10 norms, its colour range, and its pixels (viridis).
import type { HeatmapReport } from '../../engine/report/types';
import { layerTitle } from '../../engine/report/layers';
import { formatFromLog10 } from '../../engine/report/format';
import { log10TickLabel } from './axis';

/** A heatmap ready to paint: size×size cells (row t-bin, column j-bin), log10 values, and their range. */
export interface HeatmapModel {
  layer: number;
  /** "Layer 0", "Layer 0 (reverse)" (a reverse direction's pairs are t ≤ j: the upper triangle). */
  label: string;
  sequence: number;
  size: number;
  bin: number;
  length: number;
  values: (number | null)[];
  min: number;
  max: number;
}

/** Validates a report heatmap and finds its colour range (null when it holds no cell). */
export function heatmapModel(h: HeatmapReport): HeatmapModel | null {
  if (h.size <= 0 || h.log10_norm.length !== h.size * h.size) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const v of h.log10_norm) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return null;
  if (max === min) max = min + 1;
  return {
    layer: h.layer,
    label: layerTitle(h.layer, h.direction),
    sequence: h.sequence,
    size: h.size,
    bin: h.bin,
    length: h.length,
    values: h.log10_norm,
    min,
    max,
  };
}

const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** A perceptually even colour (viridis) for t in 0..1, as [r, g, b]. */
export function colourScale(t: number): [number, number, number] {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(c));
  const f = c - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** RGBA pixels (size×size, row 0 = first t-bin) for a heatmap; transparent where there is no gradient. */
export function heatmapPixels(m: HeatmapModel): Uint8ClampedArray<ArrayBuffer> {
  const px = new Uint8ClampedArray(m.size * m.size * 4);
  const span = m.max - m.min;
  for (let i = 0; i < m.values.length; i++) {
    const v = m.values[i];
    if (v === null || !Number.isFinite(v)) continue;
    const [r, g, b] = colourScale((v - m.min) / span);
    px[i * 4] = r;
    px[i * 4 + 1] = g;
    px[i * 4 + 2] = b;
    px[i * 4 + 3] = 255;
  }
  return px;
}

/** One labelled tick of the heatmap's colour bar: its log10 value, its place along the bar (0..1) and its label. */
export interface ColourTick {
  log10: number;
  at: number;
  label: string;
}

/**
 * The colour bar's ticks: the bar is linear in log10 from min to max, so its ticks are powers of ten ("10⁻⁶" …
 * "1"), every decade or every 2, 5, 10, 20, 25, 50, 100, … decades (at most about `target` + 1 ticks); on a range
 * of less than two decades also 2× and 5× each power of ten; and when that still leaves fewer than two ticks, the
 * range's ends as figures.
 */
export function colourBarTicks(min: number, max: number, target = 4): ColourTick[] {
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return [];
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];
  const step = steps.find((s) => s >= span / target) ?? Math.ceil(span / target);
  const values: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + 1e-9; v += step) values.push(v);
  if (values.length < 3 && step === 1) {
    values.length = 0;
    for (let k = Math.floor(min); k <= Math.ceil(max); k++)
      for (const v of [k, k + Math.log10(2), k + Math.log10(5)]) if (v >= min - 1e-9 && v <= max + 1e-9) values.push(v);
  }
  const ticks = values.map((v) => ({ log10: v, at: (v - min) / span, label: log10TickLabel(v) }));
  if (ticks.length >= 2) return ticks;
  return [
    { log10: min, at: 0, label: formatFromLog10(min) },
    ...ticks.filter((t) => t.at > 0.15 && t.at < 0.85),
    { log10: max, at: 1, label: formatFromLog10(max) },
  ];
}
