// The regime rule: vanishing, exploding or stable, from how the measured mean lag norms decay or grow,
// with Pascanu's σ_max-versus-1/γ condition as supporting evidence.
import { formatShort, formatShortFromLog10 } from './report/format';
import type { LagEntry, Regime, RegimeEvidence } from './report/types';

/** Thresholds of the regime rule (log10 change of the mean lag norm per step); unset ones take the defaults. */
export interface RegimeThresholds {
  vanishingLog10PerStep?: number;
  explodingLog10PerStep?: number;
}

/** Default thresholds on the fitted log10 change of the mean lag norm per step. */
export const DEFAULT_THRESHOLDS = {
  /** At or below: vanishing (−0.03: the signal falls 1000-fold within 100 steps). */
  vanishingLog10PerStep: -0.03,
  /** At or above: exploding (+0.01: the signal grows 10-fold within 100 steps). */
  explodingLog10PerStep: 0.01,
};

/** Lags with at least this share of lag 0's pairs take part in the fit (enough pairs to average). */
const MIN_COUNT_SHARE = 0.25;

/**
 * Classifies one layer. The rate is the least-squares slope of log10(mean norm) against the lag over
 * lags 0..L*, where L* is the last lag with at least a quarter of lag 0's pairs.
 */
export function classifyRegime(
  lags: LagEntry[],
  sigmaMax: number,
  gamma: number | null,
  thresholds: Required<RegimeThresholds>,
): { regime: Regime; evidence: RegimeEvidence } {
  const bound = gamma === null ? null : sigmaMax * gamma;
  const pascanu =
    bound === null
      ? ''
      : bound < 1
        ? ` Pascanu's condition σ_max·γ = ${formatShort(bound)} < 1 guarantees vanishing.`
        : ` σ_max·γ = ${formatShort(bound)} ≥ 1, so explosion is possible (Pascanu's necessary condition).`;
  const base = lags.length ? lags[0].count : 0;
  const points: [number, number][] = [];
  for (const e of lags) {
    if (e.count < Math.max(1, MIN_COUNT_SHARE * base)) break;
    if (e.log10_mean === null) {
      // An exact zero: the signal is gone entirely.
      points.push([e.lag, -400]);
      continue;
    }
    points.push([e.lag, e.log10_mean]);
  }
  const measuredLag = points.length ? points[points.length - 1][0] : 0;
  if (points.length < 3) {
    const regime: Regime = bound !== null && bound < 1 ? 'vanishing' : 'stable';
    return {
      regime,
      evidence: {
        log10_rate_per_step: null,
        log10_ratio: null,
        measured_lag: measuredLag,
        pascanu_bound: bound,
        rule: `The sequences are too short to measure a trend (fewer than 3 lags with enough pairs); ${
          regime === 'vanishing' ? "vanishing by Pascanu's sufficient condition." : 'no evidence of a problem.'
        }${pascanu}`,
      },
    };
  }
  const rate = slope(points);
  const ratio = points[points.length - 1][1] - points[0][1];
  let regime: Regime = 'stable';
  let rule: string;
  const perStep = `${formatShort(10 ** rate)}× per step`;
  if (rate <= thresholds.vanishingLog10PerStep) {
    regime = 'vanishing';
    rule = `The mean gradient norm falls ${perStep} (log10 slope ${formatShort(rate)} ≤ ${formatShort(thresholds.vanishingLog10PerStep)}), to ${formatShortFromLog10(ratio)} of its lag-0 value at lag ${measuredLag}.`;
  } else if (rate >= thresholds.explodingLog10PerStep) {
    regime = 'exploding';
    rule = `The mean gradient norm grows ${perStep} (log10 slope ${formatShort(rate)} ≥ ${formatShort(thresholds.explodingLog10PerStep)}), to ${formatShortFromLog10(ratio)} its lag-0 value at lag ${measuredLag}.`;
  } else {
    rule = `The mean gradient norm changes ${perStep} (log10 slope ${formatShort(rate)}, between ${formatShort(thresholds.vanishingLog10PerStep)} and ${formatShort(thresholds.explodingLog10PerStep)}): signal survives ${measuredLag} steps.`;
  }
  return {
    regime,
    evidence: {
      log10_rate_per_step: rate,
      log10_ratio: ratio,
      measured_lag: measuredLag,
      pascanu_bound: bound,
      rule: rule + pascanu,
    },
  };
}

/** Least-squares slope of y against x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx === 0 ? 0 : sxy / sxx;
}
