// The lag chart's model: per layer, the mean gradient norm against the lag in log10 units, its min–max band and
// the decay rate the regime rule measured.
import type { Report } from '../../engine/report/types';
import { decimateEnvelope, decimateMinMaxArrays, type XY } from '../decimate';
import { extent, log10Axis, MAX_SERIES_POINTS, present, type Log10Axis } from './axis';

/** One layer's curves on the lag chart, in log10 units. */
export interface LagSeries {
  layer: number;
  /** log10 of the mean norm per lag (lags whose norm is exactly 0 are left out). */
  mean: XY[];
  /** log10 of the min and max norm per lag: the band. */
  lower: XY[];
  upper: XY[];
  /** The measured geometric decay as a straight line from lag 0's log10_mean; null without a rate. */
  rate: XY[] | null;
  ratePerStep: number | null;
}

/** Everything the lag chart draws. */
export interface LagChartModel {
  series: LagSeries[];
  axis: Log10Axis;
  maxLag: number;
  /** Lag rows before decimation. */
  sourcePoints: number;
}

/** Shapes the per-layer lag tables into decimated log10 series with min–max bands and the decay-rate line. */
export function lagChartModel(report: Report, maxPoints = MAX_SERIES_POINTS): LagChartModel {
  let maxLag = 0;
  let sourcePoints = 0;
  const series = report.layers.map((layer): LagSeries => {
    const n = layer.lags.length;
    const meanX = new Float64Array(n);
    const meanY = new Float64Array(n);
    const xs = new Float64Array(n);
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    let nMean = 0;
    let nBand = 0;
    for (const e of layer.lags) {
      const lm = e.log10_mean;
      if (lm !== null && Number.isFinite(lm)) {
        meanX[nMean] = e.lag;
        meanY[nMean++] = lm;
      }
      const a = e.log10_min;
      const b = e.log10_max;
      if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) {
        xs[nBand] = e.lag;
        lo[nBand] = a;
        hi[nBand++] = b;
      }
      if (e.lag > maxLag) maxLag = e.lag;
    }
    sourcePoints += n;
    const band = decimateEnvelope(xs, lo, hi, maxPoints, nBand);
    const ratePerStep = layer.evidence?.log10_rate_per_step ?? null;
    const first = layer.lags[0];
    const last = layer.lags[n - 1];
    let rate: XY[] | null = null;
    if (present(ratePerStep) && first && last && present(first.log10_mean)) {
      rate = [
        { x: first.lag, y: first.log10_mean },
        { x: last.lag, y: first.log10_mean + ratePerStep * (last.lag - first.lag) },
      ];
    }
    return {
      layer: layer.layer,
      mean: decimateMinMaxArrays(meanX, meanY, nMean, maxPoints),
      lower: band.lower,
      upper: band.upper,
      rate,
      ratePerStep,
    };
  });
  const { lo, hi } = extent(series.flatMap((s) => [s.mean, s.lower, s.upper, ...(s.rate ? [s.rate] : [])]));
  return { series, axis: log10Axis(lo, hi), maxLag, sourcePoints };
}
