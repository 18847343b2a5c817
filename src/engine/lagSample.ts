// Sampled lag tables: when the exact table costs more than the caller's budget, each lag's mean norm is
// estimated from a seeded random sample of loss terms (columns: a sequence b and an end point t), with a 95%
// confidence interval for log10 of the mean.
//
// Design (documented in docs/report-format.md, "Sampled lag tables"):
// - The population is every column (b, t) of the table. Columns are stratified by t into equal-width bins
//   (a column's norms depend mostly on where it ends), and each stratum h of N_h columns gets a simple random
//   sample of n_h = max(2, round(f·N_h)) columns without replacement (all of them when N_h ≤ 2), where f is
//   the budget's share of the exact table's work. The sampling uses SeededRandom (xoshiro128**) from `seed`.
// - Each sampled column gives at most one norm y per lag and layer (the pair (t, t − ℓ)). The mean at lag ℓ is
//   estimated by the stratified (combined) ratio estimator R = Σ_h w_h Y_h / Σ_h w_h Z_h, with w_h = N_h/n_h,
//   Y_h the sum of the stratum's sampled norms at lag ℓ and Z_h their number.
// - Its variance is the linearised (Taylor) variance of that ratio under stratified sampling without
//   replacement: v = Σ_h N_h² (1 − n_h/N_h) s_h²/n_h / N̂², with s_h² the sample variance of e = y − R·z over the
//   stratum's n_h columns (z = 1 when the column has a pair at lag ℓ). This is the design variance: it holds
//   whatever the correlation between the lags of one end point or between the end points of one sequence.
// - The interval is log10 R ± q·√v/(R·ln 10), the delta method on the log scale (norms spread over orders of
//   magnitude, so the error of R is multiplicative), with q Student's t quantile at n_ℓ − 1 degrees of freedom
//   (n_ℓ sampled pairs at the lag). Lags with fewer than two sampled pairs are left out of the table.
// - Sums are carried as m·2^e (logscale.ts), so norms outside the double range keep exact logarithms.
import type { ColumnSubset, LagSink } from './lags';
import { LagStats, ldexp } from './logscale';
import { SeededRandom } from './model/random';
import { columnWork, type StackShape } from './stackLags';

/** Default budget of lag-table work (seconds) of the CLI and the extension before the table is sampled. */
export const DEFAULT_LAG_BUDGET_SECONDS = 2;

/** Default seed of the sample (reports are reproducible; --lag-seed changes it). */
export const DEFAULT_LAG_SEED = 1;

/** Most strata over t. */
const MAX_STRATA = 64;

/** Sampled columns per stratum, on average, at least (so that each stratum has a variance). */
const MIN_PER_STRATUM = 4;

/** Lags on either side whose spread of log norms is pooled with a lag's (see estimate). */
const LOG_WINDOW = 8;

/** Fewest sampled pairs at a lag for it to appear in a sampled table. */
export const MIN_SAMPLED_PAIRS = 2;

/** The sample of one analysis: which columns of each sequence, and the strata they were drawn from. */
export interface LagSample {
  seed: number;
  /** Strata bounds over t: stratum h holds t ∈ [edges[h], edges[h+1]). */
  edges: number[];
  /** Columns (b, t) in each stratum. */
  population: number[];
  /** Sampled columns in each stratum. */
  sampled: number[];
  /** The sampled columns of each sequence (a mask over t), only for sequences with some. */
  masks: Map<number, Uint8Array>;
  /** Sampled columns in all. */
  endpoints: number;
  /** Work of the sample and of the exact table (row-steps of sequenceLagWork). */
  work: number;
  exactWork: number;
}

/** The column subset of sequence b in a sample: its mask, or null when none of its columns was drawn. */
export function sampleSubset(sample: LagSample, b: number): ColumnSubset | null {
  const mask = sample.masks.get(b);
  return mask ? { stride: 1, offset: 0, mask } : null;
}

/**
 * Draws a sample of columns whose work is about `budgetWork` row-steps (see the file comment). Returns null
 * when the exact table's work is within the budget (no sampling).
 */
export function drawLagSample(
  lengths: number[],
  shape: StackShape,
  maxLag: number,
  budgetWork: number,
  seed: number,
): LagSample | null {
  const longest = Math.max(0, ...lengths);
  const work = (T: number, t: number): number => columnWork(shape, T, maxLag, t);
  let exactWork = 0;
  for (const T of lengths) for (let t = 0; t < T; t++) exactWork += work(T, t);
  if (exactWork <= budgetWork || longest === 0) return null;
  const f = Math.max(0, budgetWork / exactWork);
  // Sequences by length, longest first: the ones longer than t are a prefix.
  const order = lengths.map((_, b) => b).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const longer = new Int32Array(longest); // longer[t] = number of sequences with length > t
  for (const T of lengths) if (T > 0) longer[T - 1]++;
  for (let t = longest - 2; t >= 0; t--) longer[t] += longer[t + 1];
  const totalColumns = lengths.reduce((a, T) => a + T, 0);
  const strata = Math.max(1, Math.min(MAX_STRATA, longest, Math.floor((f * totalColumns) / MIN_PER_STRATUM)));
  const edges = Array.from({ length: strata + 1 }, (_, h) => Math.round((h * longest) / strata));
  const rng = new SeededRandom(seed);
  const masks = new Map<number, Uint8Array>();
  const population: number[] = [];
  const sampled: number[] = [];
  let endpoints = 0;
  let sampleWork = 0;
  for (let h = 0; h < strata; h++) {
    const [a, z] = [edges[h], edges[h + 1]];
    // Cumulative column counts of the stratum's t, to map an index to (t, b).
    const cumulative = new Float64Array(z - a + 1);
    for (let t = a; t < z; t++) cumulative[t - a + 1] = cumulative[t - a] + longer[t];
    const N = cumulative[z - a];
    const n = N <= 2 ? N : Math.min(N, Math.max(2, Math.round(f * N)));
    population.push(N);
    sampled.push(n);
    for (const index of distinctIndices(rng, N, n)) {
      // The t whose block of columns holds `index`, then the sequence within it.
      let lo = 0;
      let hi = z - a - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (cumulative[mid] <= index) lo = mid;
        else hi = mid - 1;
      }
      const t = a + lo;
      const b = order[index - cumulative[lo]];
      let mask = masks.get(b);
      if (!mask) {
        mask = new Uint8Array(lengths[b]);
        masks.set(b, mask);
      }
      mask[t] = 1;
      endpoints++;
      sampleWork += work(lengths[b], t);
    }
  }
  return { seed, edges, population, sampled, masks, endpoints, work: sampleWork, exactWork };
}

/** n distinct integers in [0, N), by Floyd's algorithm (n draws whatever N is). */
function distinctIndices(rng: SeededRandom, N: number, n: number): number[] {
  if (n >= N) return Array.from({ length: N }, (_, i) => i);
  const chosen = new Set<number>();
  for (let j = N - n; j < N; j++) {
    const r = Math.floor(rng.uniform() * (j + 1));
    chosen.add(chosen.has(r) ? j : r);
  }
  return [...chosen].sort((x, y) => x - y);
}

/** One lag's estimate from a sample. */
export interface LagEstimate {
  /** Sampled pairs at this lag. */
  count: number;
  /** The estimated mean norm (0 below the double range, Infinity above). */
  mean: number;
  log10Mean: number | null;
  /** The 95% interval of log10 of the mean; nulls when every sampled norm is 0. */
  ci95: [number | null, number | null];
  contribution: number;
  log10Contribution: number | null;
  /** Smallest and largest sampled norm. */
  min: number;
  max: number;
  log10Min: number | null;
  log10Max: number | null;
}

/**
 * Per-stratum sums of a sampled lag table of one layer (a LagSink: the recursion adds each sampled pair with
 * its column t), and the estimates of its lags.
 */
export class SampledLagStats implements LagSink {
  /** Pairs, min and max over the whole sample (for counts and the sample's bounds). */
  readonly all: LagStats;
  private readonly strata: number;
  private readonly stratumOf: Int32Array;
  // Per stratum and lag (index h·lags + lag): pair count, Σy and Σy² as m·2^e, Σ contribution as m·2^e.
  private readonly count: Float64Array;
  private readonly sumM: Float64Array;
  private readonly sumE: Float64Array;
  private readonly sqM: Float64Array;
  private readonly sqE: Float64Array;
  private readonly contM: Float64Array;
  private readonly contE: Float64Array;
  // Per stratum and lag: Σ ln y and Σ (ln y)² of the non-zero norms, and their number.
  private readonly logSum: Float64Array;
  private readonly logSq: Float64Array;
  private readonly logCount: Float64Array;

  constructor(
    readonly lags: number,
    private readonly sample: LagSample,
  ) {
    this.all = new LagStats(lags);
    this.strata = sample.population.length;
    const longest = sample.edges[this.strata];
    this.stratumOf = new Int32Array(longest);
    for (let h = 0; h < this.strata; h++) this.stratumOf.fill(h, sample.edges[h], sample.edges[h + 1]);
    const size = this.strata * lags;
    this.count = new Float64Array(size);
    this.sumM = new Float64Array(size);
    this.sumE = new Float64Array(size);
    this.sqM = new Float64Array(size);
    this.sqE = new Float64Array(size);
    this.contM = new Float64Array(size);
    this.contE = new Float64Array(size);
    this.logSum = new Float64Array(size);
    this.logSq = new Float64Array(size);
    this.logCount = new Float64Array(size);
  }

  add(lag: number, m: number, e: number, t: number): void {
    this.all.add(lag, m, e);
    const i = this.stratumOf[t] * this.lags + lag;
    this.count[i]++;
    addScaled(this.sumM, this.sumE, i, m, e);
    // y² = m²·2^(2e), with m renormalised first so that m² stays in range.
    if (m > 0) {
      const k = Math.floor(Math.log2(m));
      const mm = m * 2 ** -k;
      addScaled(this.sqM, this.sqE, i, mm * mm, 2 * (e + k));
      const ln = Math.log(m) + e * Math.LN2;
      this.logSum[i] += ln;
      this.logSq[i] += ln * ln;
      this.logCount[i]++;
    }
  }

  addContribution(lag: number, m: number, e: number, t: number): void {
    this.all.addContribution(lag, m, e);
    addScaled(this.contM, this.contE, this.stratumOf[t] * this.lags + lag, m, e);
  }

  /** Lags 0 .. last with at least MIN_SAMPLED_PAIRS sampled pairs (the table stops before the first without). */
  get measuredLags(): number {
    let n = 0;
    while (n < this.lags && this.all.count[n] >= MIN_SAMPLED_PAIRS) n++;
    return n;
  }

  /** The estimate of one lag (see the file comment). */
  estimate(lag: number): LagEstimate {
    const { population: N, sampled: n } = this.sample;
    const e = this.all.entry(lag);
    // A common power of two for the lag: the largest exponent among the strata's sums.
    let ref = -Infinity;
    for (let h = 0; h < this.strata; h++) {
      const i = h * this.lags + lag;
      if (this.sumM[i] > 0) ref = Math.max(ref, this.sumE[i] + Math.floor(Math.log2(this.sumM[i])));
    }
    let Yhat = 0;
    let Zhat = 0;
    let Chat = 0;
    let refC = -Infinity;
    for (let h = 0; h < this.strata; h++) {
      const i = h * this.lags + lag;
      if (this.contM[i] > 0) refC = Math.max(refC, this.contE[i] + Math.floor(Math.log2(this.contM[i])));
    }
    for (let h = 0; h < this.strata; h++) {
      if (n[h] === 0) continue;
      const i = h * this.lags + lag;
      const w = N[h] / n[h];
      Zhat += w * this.count[i];
      if (ref > -Infinity) Yhat += w * ldexp(this.sumM[i], this.sumE[i] - ref);
      if (refC > -Infinity) Chat += w * ldexp(this.contM[i], this.contE[i] - refC);
    }
    const contribution = Zhat > 0 && refC > -Infinity ? ldexp(Chat / Zhat, refC) : 0;
    const log10Contribution = Zhat > 0 && Chat > 0 ? Math.log10(Chat / Zhat) + refC * Math.LOG10E * Math.LN2 : null;
    const bounds = {
      min: e.min,
      max: e.max,
      log10Min: e.log10Min,
      log10Max: e.log10Max,
    };
    if (Zhat === 0 || Yhat === 0) {
      return {
        count: e.count,
        mean: 0,
        log10Mean: null,
        ci95: [null, null],
        contribution,
        log10Contribution,
        ...bounds,
      };
    }
    const R = Yhat / Zhat; // relative to 2^ref
    let v = 0;
    let dfDenominator = 0;
    for (let h = 0; h < this.strata; h++) {
      const nh = n[h];
      if (nh < 2 || nh >= N[h]) continue;
      const i = h * this.lags + lag;
      const Y = this.sumM[i] > 0 ? ldexp(this.sumM[i], this.sumE[i] - ref) : 0;
      const Q = this.sqM[i] > 0 ? ldexp(this.sqM[i], this.sqE[i] - 2 * ref) : 0;
      const Z = this.count[i];
      const sumE = Y - R * Z;
      const sumE2 = Math.max(0, Q - 2 * R * Y + R * R * Z);
      const s2 = Math.max(0, (sumE2 - (sumE * sumE) / nh) / (nh - 1));
      const part = ((N[h] * N[h] * (1 - nh / N[h])) / nh) * s2;
      v += part;
      dfDenominator += (part * part) / (nh - 1);
    }
    // Satterthwaite's effective degrees of freedom of the stratified variance (few strata may carry it).
    const df = dfDenominator > 0 ? Math.min(e.count - 1, (v * v) / dfDenominator) : e.count - 1;
    // The relative error of the mean of log-normal norms with the sample's spread in orders of magnitude
    // (pooled within strata): a floor, because a small sample of a heavy-tailed lag rarely holds the few
    // large norms that carry the mean, and then underestimates its own variance.
    // The spread is pooled over neighbouring lags (±LOG_WINDOW), which share their end points' dynamics, so
    // that lags with few sampled pairs still get a stable figure.
    let logSS = 0;
    let logDf = 0;
    for (let l = Math.max(0, lag - LOG_WINDOW); l <= Math.min(this.lags - 1, lag + LOG_WINDOW); l++) {
      for (let h = 0; h < this.strata; h++) {
        const i = h * this.lags + l;
        const k = this.logCount[i];
        if (k < 2) continue;
        logSS += this.logSq[i] - (this.logSum[i] * this.logSum[i]) / k;
        logDf += k - 1;
      }
    }
    let share = 0;
    for (let h = 0; h < this.strata; h++) share += this.count[h * this.lags + lag] * (1 - n[h] / N[h]);
    const sigma2 = logDf > 0 ? Math.max(0, logSS / logDf) : 0;
    const lognormalRel2 = e.count > 0 ? (Math.expm1(Math.min(sigma2, 700)) * (share / e.count)) / e.count : 0;
    const rel = Math.max(Math.sqrt(v) / Zhat / R, Math.sqrt(lognormalRel2));
    const log10Mean = Math.log10(R) + ref * Math.LOG10E * Math.LN2;
    const half = (studentT975(Math.max(1, df)) * rel) / Math.LN10;
    return {
      count: e.count,
      mean: ldexp(R, ref),
      log10Mean,
      ci95: [log10Mean - half, log10Mean + half],
      contribution,
      log10Contribution,
      ...bounds,
    };
  }
}

/** Adds m·2^e into the scaled sum at index i of (M, E). */
function addScaled(M: Float64Array, E: Float64Array, i: number, m: number, e: number): void {
  if (m === 0) return;
  if (M[i] === 0) {
    M[i] = m;
    E[i] = e;
  } else if (e > E[i]) {
    M[i] = M[i] * 2 ** Math.max(-1100, E[i] - e) + m;
    E[i] = e;
  } else {
    M[i] += m * 2 ** Math.max(-1100, e - E[i]);
  }
  if (M[i] > 2 ** 500 || M[i] < 2 ** -500) {
    const k = Math.floor(Math.log2(M[i]));
    M[i] *= 2 ** -k;
    E[i] += k;
  }
}

/** Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Student's t 97.5% quantile at df degrees of freedom (table to 30, rounded down; then 1.96 + 2.4/df, within 0.3%). */
export function studentT975(df: number): number {
  if (df < 30) return T975[Math.max(1, Math.floor(df)) - 1];
  return 1.96 + 2.4 / df;
}
