// Unit tests of the contribution chart's model: long-range shares beyond 10, 50 and 100 lags.
import * as assert from 'assert';
import { contributionChartModel, longRangeShares } from '../../../../src/shared/reportView/contributionChart';
import { engineReport, lag, layerOf } from './fixtures';

describe('webview: contribution shares beyond 10, 50 and 100 lags', () => {
  it('computes the share of the summed contribution_mean from lags beyond each cut-off', () => {
    // contribution 1 at every lag 0..199: 189 of 200 lags are > 10, 149 > 50, 99 > 100.
    const lags = Array.from({ length: 200 }, (_, i) => lag(i, 0));
    const shares = longRangeShares(layerOf(lags));
    assert.deepStrictEqual(
      shares.map((s) => [s.cutoff, s.reached]),
      [
        [10, true],
        [50, true],
        [100, true],
      ],
    );
    assert.ok(Math.abs(shares[0].share! - 189 / 200) < 1e-12);
    assert.ok(Math.abs(shares[1].share! - 149 / 200) < 1e-12);
    assert.ok(Math.abs(shares[2].share! - 99 / 200) < 1e-12);
  });

  it('uses log10_contribution_mean when the plain figure underflowed to 0', () => {
    // All contributions below the double range: plain figures 0, log10 −400 and −401.
    const lags = Array.from({ length: 20 }, (_, i) =>
      lag(i, null, { contribution_mean: 0, log10_contribution_mean: i <= 10 ? -401 : -400 }),
    );
    const [beyond10] = longRangeShares(layerOf(lags));
    // 9 lags (11..19) at 10× the weight of 11 lags (0..10): 90 / (90 + 11).
    assert.ok(Math.abs(beyond10.share! - 90 / 101) < 1e-12, String(beyond10.share));
  });

  it('says when the table does not reach a cut-off, and null when nothing contributes', () => {
    const short = longRangeShares(layerOf(Array.from({ length: 12 }, (_, i) => lag(i, -i))));
    assert.deepStrictEqual(
      short.map((s) => s.reached),
      [true, false, false],
    );
    assert.strictEqual(short[1].share, 0);
    const zero = longRangeShares(layerOf([lag(0, null, { contribution_mean: 0, log10_contribution_mean: null })]));
    assert.strictEqual(zero[0].share, null);
  });

  it('an engine report: the last lag contributes exactly 0 (the state before step 0 is 0), so it is not plotted and nothing comes from lags > 10 of 12 steps', () => {
    const report = engineReport('small.rnn.json');
    const lags = report.layers[0].lags;
    assert.strictEqual(lags.length, 12);
    assert.strictEqual(lags[11].contribution_mean, 0);
    const m = contributionChartModel(report);
    assert.strictEqual(m.series[0].shares[0].share, 0);
    assert.strictEqual(m.series[0].log10.length, 11, 'the zero contribution is not plotted');
  });
});
