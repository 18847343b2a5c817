// The lag chart's model: per layer, the mean gradient norm against the lag in log10 units, its min–max band and
// the line the regime rule fitted (evidence.fit), over the lags it used.
import type { LayerReport, Report } from '../../engine/report/types';
import { layerTitle } from '../../engine/report/layers';
import { decimateEnvelope, decimateMinMaxArrays, type XY } from '../decimate';
import { extent, log10Axis, MAX_SERIES_POINTS, present, type Log10Axis } from './axis';

/** One layer's curves on the lag chart, in log10 units. */
export interface LagSeries {
  layer: number;
  direction: LayerReport['direction'];
  /** "Layer 0", "Layer 0 (reverse)". */
  label: string;
  /** log10 of the mean norm per lag (lags whose norm is exactly 0 are left out). */
  mean: XY[];
  /** log10 of the min and max norm per lag: the band. */
  lower: XY[];
  upper: XY[];
  /**
   * The least-squares line of the regime rule (log10_mean ≈ intercept + slope·lag) from the fit's first lag to its
   * last, or to the last lag shown when the table is cut shorter; null when the rule fitted no line.
   */
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
      // The band: min–max of an exact table, the 95% interval of the mean of a sampled one.
      const a = e.log10_mean_ci95 ? e.log10_mean_ci95[0] : (e.log10_min ?? null);
      const b = e.log10_mean_ci95 ? e.log10_mean_ci95[1] : (e.log10_max ?? null);
      if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) {
        xs[nBand] = e.lag;
        lo[nBand] = a;
        hi[nBand++] = b;
      }
      if (e.lag > maxLag) maxLag = e.lag;
    }
    sourcePoints += n;
    const band = decimateEnvelope(xs, lo, hi, maxPoints, nBand);
    const fit = layer.evidence?.fit ?? null;
    const ratePerStep = fit ? fit.slope : null;
    const lastShown = n ? layer.lags[n - 1].lag : 0;
    let rate: XY[] | null = null;
    if (fit && present(fit.intercept) && present(fit.slope) && fit.from_lag <= lastShown) {
      const to = Math.min(fit.to_lag, lastShown);
      rate = [
        { x: fit.from_lag, y: fit.intercept + fit.slope * fit.from_lag },
        { x: to, y: fit.intercept + fit.slope * to },
      ];
    }
    return {
      layer: layer.layer,
      direction: layer.direction,
      label: layerTitle(layer.layer, layer.direction),
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
