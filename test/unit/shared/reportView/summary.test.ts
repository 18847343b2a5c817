// Unit tests of summary.ts: the copyable clipping lines and the layer cards.
import * as assert from 'assert';
import { clipSnippets, layerCards } from '../../../../src/shared/reportView/summary';
import { engineReport, evidence, lag, layerOf, reportOf } from './fixtures';

describe('webview: clipping thresholds', () => {
  it('writes PyTorch and Keras lines with the recommended values rounded to three significant digits, as the quick fixes and buttons round them', () => {
    const s = clipSnippets(reportOf([layerOf([lag(0, 0)])]));
    assert.deepStrictEqual(
      s.map((x) => x.text),
      [
        'torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.5)',
        'clipnorm=2.5',
        'torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.123)',
        'clipvalue=0.123',
      ],
    );
    const none = reportOf([layerOf([lag(0, 0)])]);
    none.clipping.recommended = { clip_norm: null, clip_value: null, method: 'mean', rationale: '' };
    assert.deepStrictEqual(clipSnippets(none), []);
  });
});

describe("webview: Pascanu's condition, cards, heatmap", () => {
  it('cards show the gradient horizon, the borderline mark, and say why there is no rate', () => {
    const horizon = layerOf([lag(0, 0), lag(1, -2), lag(2, -4)], {
      evidence: evidence({ horizon: { lag: 2, kind: 'decay' }, borderline: true }),
    });
    const [card] = layerCards(reportOf([horizon]));
    assert.strictEqual(card.label, 'vanishing (borderline)');
    assert.strictEqual(card.borderline, true);
    assert.strictEqual(card.facts.find((f) => f.label === 'gradient horizon')?.text, 'lag 2 (below 10⁻³ of lag 0)');
    const none = layerOf([lag(0, 0), lag(1, -1)], { regime: 'stable', evidence: evidence({ horizon: null }) });
    assert.strictEqual(
      layerCards(reportOf([none]))[0].facts.find((f) => f.label === 'gradient horizon')?.text,
      'none up to lag 1',
    );
    const zero = layerOf([lag(0, 0), lag(1, null)], {
      evidence: evidence({ log10_rate_per_step: null, fit: null, zero_from_lag: 1 }),
    });
    assert.strictEqual(layerCards(reportOf([zero]))[0].facts[0].text, 'none: exactly zero from lag 1');
    const short = layerOf([lag(0, 0)], {
      regime: 'undetermined',
      evidence: evidence({ log10_rate_per_step: null, fit: null }),
    });
    assert.strictEqual(layerCards(reportOf([short]))[0].facts[0].text, 'none: too few lags to measure');
  });

  it('a card per layer carries the regime and the rule sentence', () => {
    const report = engineReport('small.rnn.json');
    const cards = layerCards(report);
    assert.strictEqual(cards.length, 1);
    assert.strictEqual(cards[0].regime, 'vanishing');
    assert.strictEqual(cards[0].rule, report.layers[0].evidence?.rule, "the engine's rule sentence, as written");
  });
});
