// Unit tests (plain Node) of reportLogic.ts: documentation links, the worst layer, clip suggestions, the hover.
import * as assert from 'assert';
import { clipSuggestions, findingDocUrl, weightHhHover, worstLayer } from '../../../src/extension/reportLogic';
import { report } from './fixtures';

describe('extension report logic', () => {
  it('links finding codes to README anchors', () => {
    assert.strictEqual(
      findingDocUrl('https://example.invalid/rnn-gradients.git', 'exploding-gradients'),
      'https://example.invalid/rnn-gradients#finding-exploding-gradients',
    );
  });

  it('picks the worst layer and rounded clip suggestions', () => {
    assert.strictEqual(worstLayer(report())?.layer, 1);
    assert.deepStrictEqual(clipSuggestions(report()), { clip_norm: 4.15, clip_value: 0.5 });
    const base = report();
    const none = {
      ...base,
      clipping: { ...base.clipping, recommended: { ...base.clipping.recommended, clip_norm: null, clip_value: null } },
    };
    assert.deepStrictEqual(clipSuggestions(none, { data: { suggested: 2 } }), { clip_norm: 2, clip_value: undefined });
  });

  it('explains weight_hh with Pascanu condition and the measured rate', () => {
    const vanishing = weightHhHover(report(), 0) ?? '';
    assert.match(vanishing, /shape \[4\]\[4\]/);
    assert.match(vanishing, /sufficient for vanishing/);
    assert.match(vanishing, /decays by a factor 0\.05012 per step/);
    assert.match(vanishing, /Regime: \*\*vanishing\*\*/);
    const exploding = weightHhHover(report(), 1) ?? '';
    assert.match(exploding, /necessary for exploding/);
    assert.strictEqual(weightHhHover(report(), 5), undefined);
  });
});
