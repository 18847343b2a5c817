// Unit tests of decimate.ts: series bounded for drawing, keeping every bucket's extremes.
import * as assert from 'assert';
import { decimateEnvelope, decimateMinMax, decimateMinMaxArrays, type XY } from '../../../src/shared/decimate';

/** A seeded PRNG so the random series are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('webview: decimation', () => {
  const rand = prng(7);
  const series: XY[] = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: Math.sin(i / 50) + rand() }));
  series[4321].y = 99; // a spike
  series[8765].y = -99; // a dip

  it('keeps a series that is already small', () => {
    const small = series.slice(0, 50);
    assert.deepStrictEqual(decimateMinMax(small, 100), small);
  });

  it('bounds the point count and keeps first, last, the global min and max', () => {
    for (const max of [4, 5, 100, 600, 1001]) {
      const out = decimateMinMax(series, max);
      assert.ok(out.length <= max, `${out.length} > ${max}`);
      assert.deepStrictEqual(out[0], series[0]);
      assert.deepStrictEqual(out[out.length - 1], series[series.length - 1]);
      assert.ok(
        out.some((p) => p.y === 99 && p.x === 4321),
        `spike lost at max=${max}`,
      );
      assert.ok(
        out.some((p) => p.y === -99 && p.x === 8765),
        `dip lost at max=${max}`,
      );
    }
  });

  it('keeps every bucket extreme: each original point lies within the range of kept points around it', () => {
    const out = decimateMinMax(series, 200);
    for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, 'x order kept, no duplicates');
    const outYs = out.map((p) => p.y);
    assert.strictEqual(Math.max(...outYs), Math.max(...series.map((p) => p.y)));
    assert.strictEqual(Math.min(...outYs), Math.min(...series.map((p) => p.y)));
  });

  it('the array form agrees with the object form', () => {
    const xs = Float64Array.from(series, (p) => p.x);
    const ys = Float64Array.from(series, (p) => p.y);
    assert.deepStrictEqual(decimateMinMaxArrays(xs, ys, xs.length, 300), decimateMinMax(series, 300));
  });

  it('rejects too small a budget', () => {
    assert.throws(() => decimateMinMax(series, 3), RangeError);
  });

  it('an envelope keeps the band: every original lower/upper lies inside the decimated band', () => {
    const n = 5000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const lower = xs.map((i) => -i / 10 - rand() * 3);
    const upper = xs.map((i) => -i / 10 + rand() * 3);
    const env = decimateEnvelope(xs, lower, upper, 400);
    assert.ok(env.lower.length <= 400 && env.upper.length <= 400);
    assert.strictEqual(env.lower.length, env.upper.length);
    assert.strictEqual(env.lower[0].x, 0);
    assert.strictEqual(env.lower[env.lower.length - 1].x, n - 1);
    // Each bucket contributes points at its first and last x; an original x falls in a bucket [x0, x1].
    for (let k = 0; k + 1 < env.lower.length; k += 2) {
      const x0 = env.lower[k].x;
      const x1 = env.lower[k + 1].x;
      for (let i = x0; i <= x1; i++) {
        assert.ok(lower[i] >= env.lower[k].y && upper[i] <= env.upper[k].y, `x=${i} outside the band`);
      }
    }
  });
});
