// The regime rule (README "The regime rule"): vanishing, exploding, stable or undetermined, from how the
// measured mean lag norms decay or grow over the first lags, with the gradient horizon, a borderline mark
// near the thresholds, and Pascanu's σ_max-versus-1/γ condition as supporting evidence.
import { formatShort, formatShortFromLog10 } from './report/format';
import type { GradientHorizon, LagEntry, Regime, RegimeEvidence, RegimeFit } from './report/types';

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

/**
 * The verdict looks at lags 0..VERDICT_LAGS at most, whatever lag cap the table is shown with: the analysis
 * always computes at least these lags (computedMaxLag), so a display cap never changes the verdict. 64 lags
 * measure rates well below the thresholds (at the vanishing threshold the signal falls 83-fold within them).
 */
export const VERDICT_LAGS = 64;

/** Lags with at least this share of lag 0's pairs take part in the fit (enough pairs to average). */
const MIN_COUNT_SHARE = 0.25;

/** Fewer usable lags than this: no trend can be measured (the regime is undetermined). */
export const MIN_FIT_LAGS = 3;

/** The gradient horizon: the first lag whose mean norm is below 10^−3 (or above 10^3) of lag 0's. */
export const HORIZON_LOG10 = 3;

/** A slope within this share of a threshold's magnitude from it is a borderline verdict. */
export const BORDERLINE_SHARE = 0.1;

/** The longest lag an analysis computes for a display cap (null: none) and the longest sequence's length. */
export function computedMaxLag(cap: number | null | undefined, longest: number): number {
  const full = Math.max(0, longest - 1);
  if (cap === null || cap === undefined) return full;
  return Math.min(Math.max(cap, VERDICT_LAGS), full);
}

/** What the rule decided for one layer. */
export interface Verdict {
  regime: Regime;
  evidence: RegimeEvidence;
}

/**
 * Classifies one layer from its lag table (as computed: it may run past the shown table's cap). The rate is
 * the least-squares slope of log10(mean norm) against the lag over lags 0..L, where L is the last lag up to
 * VERDICT_LAGS with at least a quarter of lag 0's pairs.
 */
export function classifyRegime(
  lags: LagEntry[],
  sigmaMax: number,
  gamma: number | null,
  thresholds: Required<RegimeThresholds>,
): Verdict {
  const bound = gamma === null ? null : sigmaMax * gamma;
  const pascanu = pascanuSentence(bound);
  const window = fitWindow(lags);
  const horizon = gradientHorizon(lags);
  const zero = window.find((e) => e.log10_mean === null);
  if (zero) return zeroVerdict(lags, zero.lag, horizon, bound, pascanu);
  const measuredLag = window.length ? window[window.length - 1].lag : 0;
  if (window.length < MIN_FIT_LAGS) {
    return {
      regime: 'undetermined',
      evidence: {
        log10_rate_per_step: null,
        log10_ratio: null,
        measured_lag: measuredLag,
        pascanu_bound: bound,
        fit: null,
        horizon,
        borderline: false,
        zero_from_lag: null,
        rule: `${tooShortSentence(window.length)}${horizon ? ` ${horizonSentence(horizon)}` : ''}` + pascanu,
      },
    };
  }
  const fit = leastSquares(window.map((e) => [e.lag, e.log10_mean as number]));
  const rate = fit.slope;
  const ratio = (window[window.length - 1].log10_mean as number) - (window[0].log10_mean as number);
  const regime: Regime =
    rate <= thresholds.vanishingLog10PerStep
      ? 'vanishing'
      : rate >= thresholds.explodingLog10PerStep
        ? 'exploding'
        : 'stable';
  const near = borderlineThreshold(rate, thresholds);
  const evidence: RegimeEvidence = {
    log10_rate_per_step: rate,
    log10_ratio: ratio,
    measured_lag: measuredLag,
    pascanu_bound: bound,
    fit: { ...fit, from_lag: window[0].lag, to_lag: measuredLag },
    horizon,
    borderline: near !== null,
    zero_from_lag: null,
    rule: '',
  };
  evidence.rule = ruleSentence(regime, evidence, thresholds, near, lags) + pascanu;
  return { regime, evidence };
}

/** The lags the fit may use: 0..VERDICT_LAGS, up to the last with at least a quarter of lag 0's pairs. */
function fitWindow(lags: LagEntry[]): LagEntry[] {
  const base = lags.length ? lags[0].count : 0;
  const out: LagEntry[] = [];
  for (const e of lags) {
    if (e.lag > VERDICT_LAGS || e.count < Math.max(1, MIN_COUNT_SHARE * base)) break;
    out.push(e);
  }
  return out;
}

/**
 * The first lag whose mean norm is below 10^−3 of lag 0's (an exact zero counts) or above 10^3 of it, over the
 * whole table given; null when lag 0's norm is zero or the table never leaves that range.
 */
export function gradientHorizon(lags: LagEntry[]): GradientHorizon | null {
  const first = lags[0]?.log10_mean;
  if (first === null || first === undefined) return null;
  for (const e of lags) {
    if (e.log10_mean === null || e.log10_mean - first < -HORIZON_LOG10) return { lag: e.lag, kind: 'decay' };
    if (e.log10_mean - first > HORIZON_LOG10) return { lag: e.lag, kind: 'growth' };
  }
  return null;
}

/** The threshold a slope is within BORDERLINE_SHARE of, or null. */
function borderlineThreshold(rate: number, t: Required<RegimeThresholds>): 'vanishing' | 'exploding' | null {
  const near = (threshold: number): boolean => Math.abs(rate - threshold) <= BORDERLINE_SHARE * Math.abs(threshold);
  if (near(t.vanishingLog10PerStep)) return 'vanishing';
  if (near(t.explodingLog10PerStep)) return 'exploding';
  return null;
}

/** A signal that is exactly zero at some lag of the fit window: vanishing, with no rate to report. */
function zeroVerdict(
  lags: LagEntry[],
  zeroLag: number,
  horizon: GradientHorizon | null,
  bound: number | null,
  pascanu: string,
): Verdict {
  return {
    regime: 'vanishing',
    evidence: {
      log10_rate_per_step: null,
      log10_ratio: null,
      measured_lag: zeroLag,
      pascanu_bound: bound,
      fit: null,
      horizon,
      borderline: false,
      zero_from_lag: zeroLag,
      rule: `${zeroSentence(lags, zeroLag)}${horizon && horizon.lag < zeroLag ? ` ${horizonSentence(horizon)}` : ''}${pascanu}`,
    },
  };
}

/** "The mean gradient norm is exactly zero from lag ℓ on …" (or "at lag ℓ" when later lags are not all zero). */
export function zeroSentence(lags: LagEntry[], zeroLag: number): string {
  const allAfter = lags.every((e) => e.lag < zeroLag || e.log10_mean === null);
  const where = allAfter ? `from lag ${zeroLag} on` : `at lag ${zeroLag}`;
  return zeroLag === 0
    ? `The mean gradient norm is exactly zero ${where}: no gradient reaches this layer's state.`
    : `The mean gradient norm is exactly zero ${where}: no gradient signal reaches further back, so there is no rate to fit.`;
}

function tooShortSentence(usable: number): string {
  return `Too few lags to measure a trend: ${usable} lag${usable === 1 ? '' : 's'} with at least a quarter of lag 0's pairs, and the rule needs ${MIN_FIT_LAGS}.`;
}

/** "It falls below 10⁻³ of its lag-0 value at lag h (the gradient horizon)." */
export function horizonSentence(h: GradientHorizon): string {
  return h.kind === 'decay'
    ? `It falls below 10⁻³ of its lag-0 value at lag ${h.lag} (the gradient horizon).`
    : `It rises above 10³ times its lag-0 value at lag ${h.lag} (the gradient horizon).`;
}

/** The sentence of a fitted verdict: the rate, the window, the horizon (or where the measurement ends), borderline. */
function ruleSentence(
  regime: Regime,
  ev: RegimeEvidence,
  t: Required<RegimeThresholds>,
  near: 'vanishing' | 'exploding' | null,
  lags: LagEntry[],
): string {
  const rate = ev.log10_rate_per_step as number;
  const fit = ev.fit as RegimeFit;
  const verb = trendVerb(rate);
  const window = `fitted over lags ${fit.from_lag}–${fit.to_lag}`;
  const cmp =
    regime === 'vanishing'
      ? `≤ ${formatShort(t.vanishingLog10PerStep)}`
      : regime === 'exploding'
        ? `≥ ${formatShort(t.explodingLog10PerStep)}`
        : `between ${formatShort(t.vanishingLog10PerStep)} and ${formatShort(t.explodingLog10PerStep)}`;
  let out = `The mean gradient norm ${verb} ${formatShort(10 ** rate)}× per step (log10 slope ${formatShort(rate)} ${cmp}, ${window}); at lag ${ev.measured_lag} it is ${formatShortFromLog10(ev.log10_ratio as number)}× its lag-0 value.`;
  const last = lags.length ? lags[lags.length - 1].lag : 0;
  out += ev.horizon
    ? ` ${horizonSentence(ev.horizon)}`
    : ` It stays within 10⁻³ to 10³ times its lag-0 value up to lag ${last}, the last lag measured.`;
  if (near) {
    const threshold = near === 'vanishing' ? t.vanishingLog10PerStep : t.explodingLog10PerStep;
    out += ` The verdict is borderline: the slope is within ${Math.round(100 * BORDERLINE_SHARE)}% of the ${near} threshold ${formatShort(threshold)}.`;
  }
  return out;
}

/** "falls", "grows", or "stays level at" when the per-step factor prints as 1 (texts show it to 3 digits). */
export function trendVerb(rate: number): string {
  if (formatShort(10 ** rate) === '1') return 'stays level at';
  return rate < 0 ? 'falls' : 'grows';
}

function pascanuSentence(bound: number | null): string {
  if (bound === null) return '';
  return bound < 1
    ? ` Pascanu's sufficient condition for vanishing holds: σ_max·γ = ${formatShort(bound)} < 1, so each step back through the recurrence multiplies the gradient norm by at most ${formatShort(bound)}.`
    : ` σ_max·γ = ${formatShort(bound)} ≥ 1, so explosion is possible (Pascanu's necessary condition).`;
}

/** Least-squares line y = intercept + slope·x through the points (at least two distinct x). */
function leastSquares(points: [number, number][]): { intercept: number; slope: number } {
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
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: my - slope * mx, slope };
}
