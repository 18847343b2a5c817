// Numbers carried as m·2^e (a double mantissa and an integer exponent), so that gradient norms of
// 1e-400 or 1e+400 keep their exact logarithm, and per-lag statistics accumulated in that form.

const LOG10_2 = Math.log10(2);

/** m·2^e as a double: 0 below the double range, Infinity above it. */
export function ldexp(m: number, e: number): number {
  if (m === 0) return 0;
  let x = m;
  let k = e;
  while (k > 1000) {
    x *= 2 ** 1000;
    k -= 1000;
    if (!Number.isFinite(x)) return x;
  }
  while (k < -1000) {
    x *= 2 ** -1000;
    k += 1000;
    if (x === 0) return 0;
  }
  return x * 2 ** k;
}

/** log10(m·2^e), or null for 0. */
export function log10Of(m: number, e: number): number | null {
  return m > 0 ? Math.log10(m) + e * LOG10_2 : null;
}

/** log2(m·2^e) for ordering; −Infinity for 0. */
function log2Of(m: number, e: number): number {
  return m > 0 ? Math.log2(m) + e : -Infinity;
}

/** A running sum of non-negative m·2^e terms. */
export class ScaledSum {
  m = 0;
  e = 0;

  add(m: number, e: number): void {
    if (m === 0) return;
    if (this.m === 0) {
      this.m = m;
      this.e = e;
    } else if (e > this.e) {
      this.m = this.m * 2 ** (this.e - e) + m;
      this.e = e;
    } else {
      this.m += m * 2 ** (e - this.e);
    }
    if (this.m > 2 ** 500 || this.m < 2 ** -500) {
      const k = Math.floor(Math.log2(this.m));
      this.m *= 2 ** -k;
      this.e += k;
    }
  }
}

/** Count, sum, min, max of norms and sum of contributions for every lag 0..maxLag of one layer. */
export class LagStats {
  readonly count: Float64Array;
  private readonly sums: ScaledSum[];
  private readonly contributions: ScaledSum[];
  private readonly minM: Float64Array;
  private readonly minE: Float64Array;
  private readonly maxM: Float64Array;
  private readonly maxE: Float64Array;

  constructor(readonly lags: number) {
    this.count = new Float64Array(lags);
    this.sums = Array.from({ length: lags }, () => new ScaledSum());
    this.contributions = Array.from({ length: lags }, () => new ScaledSum());
    this.minM = new Float64Array(lags).fill(Infinity);
    this.minE = new Float64Array(lags);
    this.maxM = new Float64Array(lags).fill(-1);
    this.maxE = new Float64Array(lags);
  }

  /** Adds one pair's norm m·2^e at this lag. */
  add(lag: number, m: number, e: number): void {
    this.count[lag]++;
    this.sums[lag].add(m, e);
    const l2 = log2Of(m, e);
    if (this.minM[lag] === Infinity || l2 < log2Of(this.minM[lag], this.minE[lag])) {
      this.minM[lag] = m;
      this.minE[lag] = e;
    }
    if (this.maxM[lag] < 0 || l2 > log2Of(this.maxM[lag], this.maxE[lag])) {
      this.maxM[lag] = m;
      this.maxE[lag] = e;
    }
  }

  /** Adds one pair's temporal contribution m·2^e at this lag. */
  addContribution(lag: number, m: number, e: number): void {
    this.contributions[lag].add(m, e);
  }

  /** Doubles per lag in the packed form (see pack). */
  static readonly PACKED_PER_LAG = 9;

  /**
   * The statistics as doubles (for another thread): per lag count, sum m, sum e, contribution m,
   * contribution e, min m, min e, max m, max e. Written into `out` at `offset` when given.
   */
  pack(
    out: Float64Array<ArrayBufferLike> = new Float64Array(this.lags * LagStats.PACKED_PER_LAG),
    offset = 0,
  ): Float64Array<ArrayBufferLike> {
    for (let lag = 0; lag < this.lags; lag++) {
      const o = offset + lag * LagStats.PACKED_PER_LAG;
      out[o] = this.count[lag];
      out[o + 1] = this.sums[lag].m;
      out[o + 2] = this.sums[lag].e;
      out[o + 3] = this.contributions[lag].m;
      out[o + 4] = this.contributions[lag].e;
      out[o + 5] = this.minM[lag];
      out[o + 6] = this.minE[lag];
      out[o + 7] = this.maxM[lag];
      out[o + 8] = this.maxE[lag];
    }
    return out;
  }

  /** The statistics packed by pack(). */
  static unpack(lags: number, data: Float64Array<ArrayBufferLike>, offset = 0): LagStats {
    const s = new LagStats(lags);
    for (let lag = 0; lag < lags; lag++) {
      const o = offset + lag * LagStats.PACKED_PER_LAG;
      s.count[lag] = data[o];
      s.sums[lag].m = data[o + 1];
      s.sums[lag].e = data[o + 2];
      s.contributions[lag].m = data[o + 3];
      s.contributions[lag].e = data[o + 4];
      s.minM[lag] = data[o + 5];
      s.minE[lag] = data[o + 6];
      s.maxM[lag] = data[o + 7];
      s.maxE[lag] = data[o + 8];
    }
    return s;
  }

  /** Adds another set of pairs (the same lags, e.g. other columns of the table) to these statistics. */
  merge(other: LagStats): void {
    const lags = Math.min(this.lags, other.lags);
    for (let lag = 0; lag < lags; lag++) {
      if (other.count[lag] === 0) {
        this.contributions[lag].add(other.contributions[lag].m, other.contributions[lag].e);
        continue;
      }
      this.count[lag] += other.count[lag];
      this.sums[lag].add(other.sums[lag].m, other.sums[lag].e);
      this.contributions[lag].add(other.contributions[lag].m, other.contributions[lag].e);
      const oMin = log2Of(other.minM[lag], other.minE[lag]);
      if (this.minM[lag] === Infinity || oMin < log2Of(this.minM[lag], this.minE[lag])) {
        this.minM[lag] = other.minM[lag];
        this.minE[lag] = other.minE[lag];
      }
      const oMax = log2Of(other.maxM[lag], other.maxE[lag]);
      if (this.maxM[lag] < 0 || oMax > log2Of(this.maxM[lag], this.maxE[lag])) {
        this.maxM[lag] = other.maxM[lag];
        this.maxE[lag] = other.maxE[lag];
      }
    }
  }

  /** Lags up to the last one with any pair. */
  get measuredLags(): number {
    let n = this.lags;
    while (n > 0 && this.count[n - 1] === 0) n--;
    return n;
  }

  /** The statistics of one lag as plain doubles and exact log10s. */
  entry(lag: number): {
    count: number;
    mean: number;
    min: number;
    max: number;
    contribution: number;
    log10Mean: number | null;
    log10Min: number | null;
    log10Max: number | null;
    log10Contribution: number | null;
  } {
    const count = this.count[lag];
    const s = this.sums[lag];
    const c = this.contributions[lag];
    const lc = Math.log10(count || 1);
    const logMean = log10Of(s.m, s.e);
    const logContribution = log10Of(c.m, c.e);
    return {
      count,
      mean: count ? ldexp(s.m / count, s.e) : 0,
      min: count ? ldexp(this.minM[lag], this.minE[lag]) : 0,
      max: count ? ldexp(this.maxM[lag], this.maxE[lag]) : 0,
      contribution: count ? ldexp(c.m / count, c.e) : 0,
      log10Mean: count && logMean !== null ? logMean - lc : null,
      log10Min: count ? log10Of(this.minM[lag], this.minE[lag]) : null,
      log10Max: count ? log10Of(this.maxM[lag], this.maxE[lag]) : null,
      log10Contribution: count && logContribution !== null ? logContribution - lc : null,
    };
  }
}

/**
 * Rescales the row G[off, off+width) whose largest |entry| is `max` to about 1 when `max` left
 * [range.small, range.big], and returns the power of two it divided by (0 when the row stays as it is, also for
 * a zero or non-finite row). Two factors, so that 2^−e never overflows for subnormal rows.
 */
export function rescaleRow(
  G: Float64Array,
  off: number,
  width: number,
  max: number,
  range: { big: number; small: number },
): number {
  if (max === 0 || !Number.isFinite(max) || (max < range.big && max > range.small)) return 0;
  const e = Math.floor(Math.log2(max));
  const half = Math.trunc(e / 2);
  const f1 = 2 ** -half;
  const f2 = 2 ** (half - e);
  for (let i = off; i < off + width; i++) G[i] = G[i] * f1 * f2;
  return e;
}
