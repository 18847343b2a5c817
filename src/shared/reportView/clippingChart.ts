// The clipping chart's model: the global gradient norm of each batch as bars, and each suggested clip_norm (and
// the file's current one) as a line with the share of batches it would clip.
import { clippedShare } from '../../engine/clipping';
import type { ClipSuggestion, Report } from '../../engine/report/types';
import { decimateMinMax, type XY } from '../decimate';
import { log10Axis, MAX_SERIES_POINTS } from './axis';

/** A horizontal line on the clipping chart. */
export interface ClipThreshold {
  /** Where it comes from: a suggestion method ("mean", "median", "autoclip_p10", …) or "current". */
  source: string;
  label: string;
  value: number;
  /** Share of the finite batch norms it would clip (engine/clipping.ts clippedShare, as in the report). */
  share: number | null;
  recommended: boolean;
}

const METHOD_LABELS: Record<string, string> = {
  mean: 'mean (Pascanu et al.)',
  median: 'median',
  autoclip_p10: 'AutoClip p10',
};

/** The label for a suggestion method. */
export function methodLabel(method: string): string {
  return METHOD_LABELS[method] ?? method;
}

/**
 * The thresholds drawn on the clipping chart: each suggestion (the engine's clipped_share when given, else
 * computed from batch_norms) and the file's current training.clip_norm.
 */
export function clipThresholds(report: Report, currentClipNorm: number | null): ClipThreshold[] {
  const norms = report.clipping.batch_norms;
  const rec = report.clipping.recommended;
  const out: ClipThreshold[] = report.clipping.suggestions
    .filter((s: ClipSuggestion) => Number.isFinite(s.clip_norm))
    .map((s) => ({
      source: s.method,
      label: methodLabel(s.method),
      value: s.clip_norm,
      share: s.clipped_share ?? clippedShare(norms, s.clip_norm),
      recommended: s.method === rec.method,
    }));
  if (currentClipNorm !== null && Number.isFinite(currentClipNorm) && currentClipNorm > 0) {
    out.push({
      source: 'current',
      label: 'current clip_norm',
      value: currentClipNorm,
      share: clippedShare(norms, currentClipNorm),
      recommended: false,
    });
  }
  return out;
}

/** Everything the clipping chart draws; values in log10 when `logScale`, else plain. */
export interface ClippingChartModel {
  bars: XY[];
  thresholds: (ClipThreshold & { y: number })[];
  logScale: boolean;
  yMin: number;
  yMax: number;
  /** Batches whose norm is null (overflowed), left out of the bars. */
  overflowed: number;
  sourcePoints: number;
}

/** Batch norms and thresholds spanning more than this ratio are drawn on a log axis. */
export const CLIP_LOG_AXIS_RATIO = 20;

/** Shapes batch norms into bars (batch numbers from 1) and thresholds; a log axis when they span over CLIP_LOG_AXIS_RATIO. */
export function clippingChartModel(
  report: Report,
  currentClipNorm: number | null,
  maxPoints = MAX_SERIES_POINTS,
): ClippingChartModel {
  const thresholds = clipThresholds(report, currentClipNorm);
  const values: number[] = [];
  const raw: XY[] = [];
  let overflowed = 0;
  report.clipping.batch_norms.forEach((n, i) => {
    if (n === null || !Number.isFinite(n)) overflowed++;
    else raw.push({ x: i + 1, y: n });
  });
  for (const p of raw) values.push(p.y);
  for (const t of thresholds) values.push(t.value);
  const positive = values.filter((v) => v > 0);
  const lo = positive.length ? Math.min(...positive) : 1;
  const hi = values.length ? Math.max(...values) : 1;
  const logScale = positive.length > 0 && hi / lo > CLIP_LOG_AXIS_RATIO;
  const tf = (v: number): number => (logScale ? (v > 0 ? Math.log10(v) : Math.log10(lo) - 1) : v);
  const bars = decimateMinMax(
    raw.map((p) => ({ x: p.x, y: tf(p.y) })),
    Math.max(4, maxPoints),
  );
  let yMin: number;
  let yMax: number;
  if (logScale) {
    const axis = log10Axis(tf(lo), tf(hi));
    yMin = axis.min;
    yMax = axis.max;
  } else {
    yMin = 0;
    yMax = hi > 0 ? niceCeiling(hi * 1.05) : 1;
  }
  return {
    bars,
    thresholds: thresholds.map((t) => ({ ...t, y: tf(t.value) })),
    logScale,
    yMin,
    yMax,
    overflowed,
    sourcePoints: raw.length,
  };
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above x (a round axis maximum). */
export function niceCeiling(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}
