// Min/max-preserving decimation of long series, so a 10,000-lag report draws in a few milliseconds
// without hiding a spike: every bucket keeps its extreme points, and the first and last points stay.

/** One plotted point. */
export interface XY {
  x: number;
  y: number;
}

/**
 * Reduces `points` (sorted by x) to at most `maxPoints` points: the first and last points, and for each
 * bucket of consecutive points its minimum and maximum (in x order). Returns a copy when already small enough.
 */
export function decimateMinMax(points: readonly XY[], maxPoints: number): XY[] {
  const n = points.length;
  if (maxPoints < 4) throw new RangeError('decimateMinMax: maxPoints must be at least 4');
  if (n <= maxPoints) return points.slice();
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = points[i].x;
    ys[i] = points[i].y;
  }
  return decimateMinMaxArrays(xs, ys, n, maxPoints);
}

/**
 * The same decimation over parallel arrays (the first `n` entries of `xs` and `ys`), so long series need not be
 * built as objects first: only the kept points become {x, y}.
 */
export function decimateMinMaxArrays(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, maxPoints: number): XY[] {
  if (maxPoints < 4) throw new RangeError('decimateMinMax: maxPoints must be at least 4');
  if (n <= maxPoints) {
    const all: XY[] = new Array<XY>(n);
    for (let i = 0; i < n; i++) all[i] = { x: xs[i], y: ys[i] };
    return all;
  }
  const buckets = Math.floor((maxPoints - 2) / 2);
  const interior = n - 2;
  const out: XY[] = [{ x: xs[0], y: ys[0] }];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * interior) / buckets);
    const end = 1 + Math.floor(((b + 1) * interior) / buckets);
    if (end <= start) continue;
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      const y = ys[i];
      if (y < ys[iMin]) iMin = i;
      if (y > ys[iMax]) iMax = i;
    }
    const first = iMin < iMax ? iMin : iMax;
    const second = iMin < iMax ? iMax : iMin;
    out.push({ x: xs[first], y: ys[first] });
    if (second !== first) out.push({ x: xs[second], y: ys[second] });
  }
  out.push({ x: xs[n - 1], y: ys[n - 1] });
  return out;
}

/** The lower and upper edges of a band, each as points. */
export interface Envelope {
  lower: XY[];
  upper: XY[];
}

/**
 * Reduces a band (lower ≤ upper at each x; the first `n` entries of aligned arrays sorted by x) to at most `maxPoints` points per edge:
 * each bucket becomes two points, at its first and last x, holding the bucket's lowest lower and highest upper
 * value, so the drawn band always contains the original one. First and last x are kept.
 */
export function decimateEnvelope(
  xs: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  maxPoints: number,
  n: number = xs.length,
): Envelope {
  if (lower.length < n || upper.length < n || xs.length < n)
    throw new RangeError('decimateEnvelope: arrays shorter than n');
  if (maxPoints < 2) throw new RangeError('decimateEnvelope: maxPoints must be at least 2');
  if (n <= maxPoints) {
    const lo: XY[] = new Array<XY>(n);
    const hi: XY[] = new Array<XY>(n);
    for (let i = 0; i < n; i++) {
      lo[i] = { x: xs[i], y: lower[i] };
      hi[i] = { x: xs[i], y: upper[i] };
    }
    return { lower: lo, upper: hi };
  }
  const buckets = Math.floor(maxPoints / 2);
  const lo: XY[] = [];
  const hi: XY[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    if (end <= start) continue;
    let min = lower[start];
    let max = upper[start];
    for (let i = start + 1; i < end; i++) {
      if (lower[i] < min) min = lower[i];
      if (upper[i] > max) max = upper[i];
    }
    const x0 = xs[start];
    const x1 = xs[end - 1];
    lo.push({ x: x0, y: min });
    hi.push({ x: x0, y: max });
    if (x1 !== x0) {
      lo.push({ x: x1, y: min });
      hi.push({ x: x1, y: max });
    }
  }
  return { lower: lo, upper: hi };
}
