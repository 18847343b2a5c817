// Unit tests of the Pascanu chart's model: σ_max against 1/γ, with the verdict.
import * as assert from 'assert';
import { pascanuRows } from '../../../../src/shared/reportView/pascanuChart';
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
    assert.match(row.verdict, /for rnn cells/);
  });
});
