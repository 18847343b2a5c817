// The contribution chart's model: per layer, the mean temporal contribution against the lag (log10), and the
// share of the summed contribution that comes from lags beyond 10, 50 and 100.
import type { LagEntry, LayerReport, Report } from '../../engine/report/types';
import { layerShort, layerTitle } from '../../engine/report/layers';
import { decimateMinMaxArrays, type XY } from '../decimate';
import { extent, log10Axis, MAX_SERIES_POINTS, present, type Log10Axis } from './axis';

/** The lag cut-offs of the "long-range" contribution shares. */
export const LONG_RANGE_CUTOFFS: readonly number[] = [10, 50, 100];

/** log10 of a lag's contribution_mean: the exact extra key when present, else from the plain figure (null for 0). */
export function log10Contribution(e: LagEntry): number | null {
  if (e.log10_contribution_mean !== undefined)
    return present(e.log10_contribution_mean) ? e.log10_contribution_mean : null;
  const c = e.contribution_mean;
  return c !== null && c > 0 && Number.isFinite(c) ? Math.log10(c) : null;
}

/** The share of a layer's summed contribution_mean that comes from lags beyond a cut-off. */
export interface LongRangeShare {
  cutoff: number;
  /** 0..1; null when the layer has no positive contribution at all. */
  share: number | null;
  /** Whether the table reaches beyond the cut-off at all (if not, the share is 0 for want of lags). */
  reached: boolean;
}

/**
 * Share of Σ_ℓ contribution_mean(ℓ) from lags ℓ > cutoff, for each cut-off. Sums in log space relative to the
 * largest term, so contributions far below the double range still count exactly where they matter.
 */
export function longRangeShares(layer: LayerReport, cutoffs: readonly number[] = LONG_RANGE_CUTOFFS): LongRangeShare[] {
  return sharesFromLogs(contributionLogs(layer), cutoffs);
}

/** A layer's lags with a known, positive contribution, and its log10 as parallel arrays. */
interface ContributionLogs {
  lags: Float64Array;
  log10: Float64Array;
  count: number;
  maxLag: number;
}

function contributionLogs(layer: LayerReport): ContributionLogs {
  const n = layer.lags.length;
  const lags = new Float64Array(n);
  const log10 = new Float64Array(n);
  let count = 0;
  let maxLag = -1;
  for (const e of layer.lags) {
    if (e.lag > maxLag) maxLag = e.lag;
    const v = log10Contribution(e);
    if (v === null) continue;
    lags[count] = e.lag;
    log10[count++] = v;
  }
  return { lags, log10, count, maxLag };
}

function sharesFromLogs(c: ContributionLogs, cutoffs: readonly number[]): LongRangeShare[] {
  let top = -Infinity;
  for (let i = 0; i < c.count; i++) if (c.log10[i] > top) top = c.log10[i];
  // Sum 10^(v − top) once, then the tail beyond each cut-off, all relative to the largest term.
  const terms = new Float64Array(c.count);
  let total = 0;
  for (let i = 0; i < c.count; i++) total += terms[i] = 10 ** (c.log10[i] - top);
  return cutoffs.map((cutoff) => {
    const reached = c.maxLag > cutoff;
    if (c.count === 0 || total === 0) return { cutoff, share: null, reached };
    let beyond = 0;
    for (let i = 0; i < c.count; i++) if (c.lags[i] > cutoff) beyond += terms[i];
    return { cutoff, share: beyond / total, reached };
  });
}

/** One layer's contribution curve. */
export interface ContributionSeries {
  layer: number;
  /** "Layer 0", "Layer 0 (reverse)"; and "L0", "L0 rev" where space is short. */
  label: string;
  short: string;
  log10: XY[];
  shares: LongRangeShare[];
}

/** Everything the contribution chart draws. */
export interface ContributionChartModel {
  series: ContributionSeries[];
  axis: Log10Axis;
  maxLag: number;
  sourcePoints: number;
}

/** Shapes contribution_mean per lag into decimated log10 series, with the long-range shares per layer. */
export function contributionChartModel(report: Report, maxPoints = MAX_SERIES_POINTS): ContributionChartModel {
  let maxLag = 0;
  let sourcePoints = 0;
  const series = report.layers.map((layer): ContributionSeries => {
    const logs = contributionLogs(layer);
    if (logs.maxLag > maxLag) maxLag = logs.maxLag;
    sourcePoints += layer.lags.length;
    return {
      layer: layer.layer,
      label: layerTitle(layer.layer, layer.direction),
      short: layerShort(layer.layer, layer.direction),
      log10: decimateMinMaxArrays(logs.lags, logs.log10, logs.count, maxPoints),
      shares: sharesFromLogs(logs, LONG_RANGE_CUTOFFS),
    };
  });
  const { lo, hi } = extent(series.map((s) => s.log10));
  return { series, axis: log10Axis(lo, hi), maxLag, sourcePoints };
}
