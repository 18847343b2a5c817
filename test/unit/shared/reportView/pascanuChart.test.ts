// Unit tests of the Pascanu chart's model: σ_max against 1/γ, with the verdict.
import * as assert from 'assert';
import { gatedExplanation, pascanuRows } from '../../../../src/shared/reportView/pascanuChart';
import { lag, layerOf, reportOf } from './fixtures';

describe("webview: Pascanu's condition, cards, heatmap", () => {
  it('compares σ_max with 1/γ for rnn layers and explains lstm/gru layers', () => {
    const rnn = pascanuRows(
      reportOf([
        layerOf([lag(0, 0)], { sigma_max: 0.5, gamma: 1 }),
        layerOf([lag(0, 0)], { layer: 1, sigma_max: 1.5, gamma: 1 }),
      ]),
    );
    assert.strictEqual(rnn[0].threshold, 1);
    assert.match(rnn[0].verdict, /must vanish/);
    assert.match(rnn[1].verdict, /exploding gradients are possible/);
    const lstm = reportOf([layerOf([lag(0, 0)], { gamma: null, spectral_radius: null })]);
    lstm.model.cell = 'lstm';
    const [row] = pascanuRows(lstm);
    assert.strictEqual(row.threshold, null);
    assert.strictEqual(rnn[0].reference, null);
  });

  it('gated layers: a reference line at σ_max = 1, a verdict that agrees with the figure, and an explanation', () => {
    for (const [sigma, words] of [
      [1.341, /σ_max\(W_hh\) = 1\.341, above 1/],
      [0.905, /= 0\.905, below 1/],
      [1.00001, /= 1, at 1/],
    ] as const) {
      const report = reportOf([layerOf([lag(0, 0)], { sigma_max: sigma, gamma: null, spectral_radius: null })]);
      report.model.cell = 'gru';
      const [row] = pascanuRows(report);
      assert.strictEqual(row.threshold, null);
      assert.strictEqual(row.reference, 1);
      assert.match(row.verdict, words);
      assert.match(row.verdict, /no 1\/γ bound for a gru layer/);
      // The figure alone proves nothing for a gated cell: no text may claim vanishing or exploding from it.
      assert.doesNotMatch(row.verdict, /must vanish|exploding gradients are possible/);
    }
    const gru = gatedExplanation('gru');
    assert.match(gru, /1\/γ bound is for rnn cells/);
    assert.match(gru, /update gate/);
    assert.match(gru, /Gates and units/);
    assert.match(gatedExplanation('lstm'), /forget gate/);
    assert.doesNotMatch(gru + gatedExplanation('lstm'), /[_^][{]/, 'no TeX');
  });
});
