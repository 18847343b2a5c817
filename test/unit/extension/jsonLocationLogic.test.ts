// Unit tests (plain Node) of jsonLocationLogic.ts: key ranges, the key under the pointer, a string value under it.
import * as assert from 'assert';
import { keyPathAtOffset, spanOfPath, stringValueSpanAt } from '../../../src/extension/jsonLocationLogic';
import { commented } from './fixtures';

describe('extension key ranges', () => {
  it('puts a key path on the property key, an index on the element, a missing key on its nearest parent', () => {
    const keySpan = spanOfPath(commented, ['weights', 'weight_hh_l0']);
    assert.strictEqual(commented.substr(keySpan.offset, keySpan.length), '"weight_hh_l0"');
    const element = spanOfPath(commented, ['weights', 'weight_hh_l0', 0]);
    assert.strictEqual(commented.substr(element.offset, element.length), '[0.5]');
    const missing = spanOfPath(commented, ['training', 'clip_value']);
    assert.strictEqual(commented.substr(missing.offset, missing.length), '"training"');
    const none = spanOfPath(commented, ['readout', 'weight']);
    assert.deepStrictEqual(none, { offset: 0, length: 1 });
  });

  it('puts a tensor of a checkpoint-backed model file on the weights value (the checkpoint path)', () => {
    const text = '{\n  "weights": "model.pt",\n  "data": { "inputs": "b.npz#x" }\n}';
    const at = (path: (string | number)[]): string => {
      const span = spanOfPath(text, path);
      return text.slice(span.offset, span.offset + span.length);
    };
    assert.strictEqual(at(['weights', 'weight_hh_l0']), '"model.pt"');
    assert.strictEqual(at(['weights', 'weight_hh_l0_reverse', 3]), '"model.pt"');
    assert.strictEqual(at(['weights']), '"weights"');
    assert.strictEqual(at(['data', 'inputs', 0]), '"b.npz#x"');
  });

  it('tells which key the pointer is on', () => {
    const offset = commented.indexOf('weight_hh_l0') + 3;
    assert.deepStrictEqual(keyPathAtOffset(commented, offset), ['weights', 'weight_hh_l0']);
    assert.strictEqual(keyPathAtOffset(commented, commented.indexOf('0.5')), undefined);
  });

  it('tells when the pointer is on a string value (the weights path of a checkpoint-backed model file)', () => {
    const text = '{\n  "weights": "model.pt", // the checkpoint\n  "module": "rnn"\n}';
    const start = text.indexOf('"model.pt"');
    for (const offset of [start, start + 4, start + '"model.pt"'.length])
      assert.deepStrictEqual(stringValueSpanAt(text, ['weights'], offset), { offset: start, length: 10 });
    assert.strictEqual(stringValueSpanAt(text, ['weights'], start - 1), undefined);
    assert.strictEqual(stringValueSpanAt(text, ['weights'], text.indexOf('"rnn"') + 1), undefined);
    assert.strictEqual(stringValueSpanAt(text, ['weights'], text.indexOf('weights')), undefined);
    const inline = '{ "weights": { "weight_hh_l0": [[0.5]] } }';
    assert.strictEqual(stringValueSpanAt(inline, ['weights'], inline.indexOf('weight_hh')), undefined);
  });
});
