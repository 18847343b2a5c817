// The heatmap's model: one sequence's (t, j) map of log10 norms, its colour range, and its pixels (viridis).
import type { HeatmapReport } from '../../engine/report/types';
import { layerTitle } from '../../engine/report/layers';

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
