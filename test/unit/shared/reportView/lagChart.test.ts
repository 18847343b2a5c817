// Unit tests of the lag chart's model (and the log10 axes of axis.ts).
import * as assert from 'assert';
import { log10Axis, log10TickLabel, log10Ticks, MAX_SERIES_POINTS } from '../../../../src/shared/reportView/axis';
import { lagChartModel } from '../../../../src/shared/reportView/lagChart';
import { evidence, lag, layerOf, loadFixture, reportOf } from './fixtures';

describe('webview: lag chart shaping', () => {
  it('plots log10 values (far below 1e-308) and leaves out exact zeros', () => {
    const r = reportOf([layerOf([lag(0, 0), lag(1, -200), lag(2, -450), lag(3, null)])]);
    const m = lagChartModel(r);
    assert.deepStrictEqual(
      m.series[0].mean.map((p) => [p.x, p.y]),
      [
        [0, 0],
        [1, -200],
        [2, -450],
      ],
    );
    assert.deepStrictEqual(
      m.series[0].lower.map((p) => p.y),
      [-1, -201, -451],
    );
    assert.ok(m.axis.min <= -451 && m.axis.max >= 1, JSON.stringify(m.axis));
    assert.strictEqual(m.maxLag, 3);
  });

  it("a sampled table: the band is the 95% interval of the mean, not the sample's min–max", () => {
    const sampled = (l: number, m: number, half: number): ReturnType<typeof lag> => {
      const { min: _min, max: _max, log10_min: _lo, log10_max: _hi, ...rest } = lag(l, m);
      return { ...rest, sampled: true, log10_mean_ci95: [m - half, m + half], log10_min_sampled: m - 3 };
    };
    const m = lagChartModel(reportOf([layerOf([sampled(0, 0, 0.1), sampled(1, -2, 0.5), sampled(2, -4, 1)])]));
    assert.deepStrictEqual(
      m.series[0].lower.map((p) => p.y),
      [-0.1, -2.5, -5],
    );
    assert.deepStrictEqual(
      m.series[0].upper.map((p) => p.y),
      [0.1, -1.5, -3],
    );
  });

  it('draws the least-squares line the regime rule fitted (its intercept, not lag 0), over the lags it used', () => {
    const fit = { intercept: -0.9, slope: -0.2, from_lag: 0, to_lag: 8 };
    const layer = layerOf([lag(0, -0.5), lag(1, -0.7), lag(8, -2.5), lag(10, -2.9)], {
      evidence: evidence({ log10_rate_per_step: -0.2, log10_ratio: -2, measured_lag: 8, fit }),
    });
    const m = lagChartModel(reportOf([layer]));
    assert.deepStrictEqual(m.series[0].rate, [
      { x: 0, y: -0.9 },
      { x: 8, y: -0.9 + -0.2 * 8 },
    ]);
    assert.strictEqual(m.series[0].ratePerStep, -0.2);
    // A table cut at lag 1 (a display cap) shows the same line up to its last lag.
    const capped = layerOf([lag(0, -0.5), lag(1, -0.7)], { evidence: evidence({ fit }) });
    assert.deepStrictEqual(lagChartModel(reportOf([capped])).series[0].rate, [
      { x: 0, y: -0.9 },
      { x: 1, y: -1.1 },
    ]);
    // No fit (too short, or an exactly-zero signal): no line, even with a rate-looking number.
    const none = layerOf([lag(0, 0), lag(1, -1)], { evidence: evidence({ log10_rate_per_step: -1, fit: null }) });
    assert.strictEqual(lagChartModel(reportOf([none])).series[0].rate, null);
    assert.strictEqual(lagChartModel(reportOf([layerOf([lag(0, 0)])])).series[0].rate, null);
  });

  it('decimates a 10,000-lag report to a bounded number of points', () => {
    const large = loadFixture('large-10000.json');
    const m = lagChartModel(large);
    assert.strictEqual(m.sourcePoints, 20_000);
    for (const s of m.series) {
      assert.ok(
        s.mean.length <= MAX_SERIES_POINTS &&
          s.lower.length <= MAX_SERIES_POINTS &&
          s.upper.length <= MAX_SERIES_POINTS,
      );
      assert.strictEqual(s.mean[0].x, 0);
      assert.strictEqual(s.mean[s.mean.length - 1].x, 9999);
    }
    assert.ok(m.axis.min <= -400, `axis reaches 1e-400: ${m.axis.min}`);
  });

  it('log10 axes use integer steps that read as powers of ten', () => {
    assert.deepStrictEqual(log10Axis(-2.3, 0.4), { min: -3, max: 1, stepSize: 1, ticks: [-3, -2, -1, 0, 1] });
    const wide = log10Axis(-401, 0);
    assert.ok(
      Number.isInteger(wide.stepSize) &&
        wide.min <= -401 &&
        wide.max >= 0 &&
        (wide.max - wide.min) / wide.stepSize <= 10,
    );
    const fallback = log10Axis(NaN, 1);
    assert.deepStrictEqual([fallback.min, fallback.max, fallback.stepSize], [-1, 1, 1]);
  });

  it('log10 axes have at least 4 ticks: 2× and 5× each power of ten on one or two decades', () => {
    const near = (a: number[], b: number[]): void =>
      assert.ok(a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-12), `${a} vs ${b}`);
    // Less than a decade of data (exploding-tanh's contributions: 10^-2.47 .. 10^-2.04).
    const one = log10Axis(-2.47, -2.04);
    assert.deepStrictEqual([one.min, one.max], [-3, -2]);
    near(one.ticks ?? [], [-3, -3 + Math.log10(2), -3 + Math.log10(5), -2]);
    near(log10Ticks(-1, 1, 1), [-1, -1 + Math.log10(2), -1 + Math.log10(5), 0, Math.log10(2), Math.log10(5), 1]);
    // Three decades or more: the steps alone.
    assert.deepStrictEqual(log10Ticks(-7, -4, 1), [-7, -6, -5, -4]);
    for (let lo = -40; lo < 0; lo += 0.37)
      for (const span of [0.1, 0.9, 1.5, 2.9, 3.2, 7, 12.1, 30.5, 61, 151, 400]) {
        const a = log10Axis(lo, lo + span);
        assert.ok((a.ticks ?? []).length >= 4, `[${lo}, ${lo + span}]: ${JSON.stringify(a)}`);
        assert.ok(a.min <= lo && a.max >= lo + span);
      }
    assert.deepStrictEqual(
      [-3, -3 + Math.log10(2), -3 + Math.log10(5), -2, 0, Math.log10(2), 1 + Math.log10(5), 1, 4 + Math.log10(5)].map(
        log10TickLabel,
      ),
      ['10⁻³', '2×10⁻³', '5×10⁻³', '10⁻²', '1', '2', '50', '10', '5×10⁴'],
    );
  });
});
