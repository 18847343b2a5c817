// Unit tests of summary.ts: the copyable clipping lines and the layer cards.
import * as assert from 'assert';
import { clipSnippets, layerCards } from '../../../../src/shared/reportView/summary';
import { lag, layerOf, loadFixture, reportOf } from './fixtures';

describe('webview: clipping thresholds', () => {
  it('writes PyTorch and Keras lines with the recommended values rounded to 4 digits', () => {
    const s = clipSnippets(reportOf([layerOf([lag(0, 0)])]));
    assert.deepStrictEqual(
      s.map((x) => x.text),
      [
        'torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.5)',
        'clipnorm=2.5',
        'torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1235)',
        'clipvalue=0.1235',
      ],
    );
    const none = reportOf([layerOf([lag(0, 0)])]);
    none.clipping.recommended = { clip_norm: null, clip_value: null, method: 'mean', rationale: '' };
    assert.deepStrictEqual(clipSnippets(none), []);
  });
});

describe("webview: Pascanu's condition, cards, heatmap", () => {
  it('a card per layer carries the regime and the rule sentence', () => {
    const cards = layerCards(loadFixture('small.json'));
    assert.strictEqual(cards.length, 1);
    assert.strictEqual(cards[0].regime, 'vanishing');
    assert.match(cards[0].rule, /decades per step/);
  });
});
