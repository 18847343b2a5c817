// Unit tests (plain Node) of editLogic.ts: edits that keep formatting and comments (clip_norm, clip_value, the
// LSTM forget-gate bias).
import * as assert from 'assert';
import {
  applyTextEdits,
  clipEdits,
  forgetBiasEdits,
  forgetBiases,
  lowForgetBiasLayers,
} from '../../../src/extension/editLogic';
import { numberAt } from '../../../src/extension/jsonLocationLogic';
import { commented } from './fixtures';

describe('extension edit logic', () => {
  it('replaces an existing clip_norm in place, keeping comments, trailing commas and indentation', () => {
    const edits = clipEdits(commented, 'clip_norm', 4.15, { insertSpaces: true, tabSize: 4, eol: '\n' });
    const result = applyTextEdits(commented, edits);
    assert.strictEqual(result, commented.replace('"clip_norm": 10,', '"clip_norm": 4.15,'));
  });

  it('inserts clip_value next to the existing keys with the file indentation', () => {
    const result = applyTextEdits(
      commented,
      clipEdits(commented, 'clip_value', 0.5, { insertSpaces: true, tabSize: 4, eol: '\n' }),
    );
    assert.ok(result.includes('// my model') && result.includes('/* inline */') && result.includes('// too high?'));
    assert.match(result, /\n {8}"clip_value": 0\.5/);
    assert.strictEqual(numberAt(result, ['training', 'clip_value']), 0.5);
    assert.strictEqual(numberAt(result, ['training', 'clip_norm']), 10);
  });

  it('creates training when the file has none', () => {
    const text = '{\n  "cell": "rnn" // c\n}\n';
    const result = applyTextEdits(text, clipEdits(text, 'clip_norm', 2));
    assert.strictEqual(numberAt(result, ['training', 'clip_norm']), 2);
    assert.ok(result.includes('// c'));
  });

  const lstm = (bih: string, bhh: string | undefined): string => `{
  "cell": "lstm", // gates i f g o
  "weights": {
    "weight_ih_l0": [[1], [1], [1], [1], [1], [1], [1], [1]],
    "weight_hh_l0": [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
    "bias_ih_l0": ${bih}${bhh === undefined ? '' : `,\n    "bias_hh_l0": ${bhh}`}
  },
  "data": { "inputs": [[[1]]] }
}`;

  it('finds a low forget-gate bias from the f block (rows H..2H) of both biases', () => {
    const text = lstm('[0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4]', '[0, 0, 0.1, 0.1, 0, 0, 0, 0]');
    assert.deepStrictEqual(
      forgetBiases(text).map((info) => ({ ...info, mean: Number(info.mean.toFixed(6)) })),
      [{ layer: 0, direction: 'forward', hiddenSize: 2, mean: 0.3 }],
    );
    assert.strictEqual(lowForgetBiasLayers(text).length, 1);
    const high = lstm('[0, 0, 1, 1, 0, 0, 0, 0]', undefined);
    assert.strictEqual(lowForgetBiasLayers(high).length, 0);
  });

  it('sets the f block of bias_ih to 1 and of bias_hh to 0, element by element, keeping the rest byte for byte', () => {
    const text = lstm('[0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4]', '[0, 0, 0.1, 0.1, 0, 0, 0, 0]');
    const edits = forgetBiasEdits(text, 0);
    assert.ok(edits);
    const result = applyTextEdits(text, edits);
    assert.strictEqual(result, lstm('[0.1, 0.1, 1, 1, 0.3, 0.3, 0.4, 0.4]', '[0, 0, 0, 0, 0, 0, 0, 0]'));
    assert.strictEqual(lowForgetBiasLayers(result).length, 0);
  });

  it('edits the _reverse biases of a reverse direction and leaves the forward ones alone', () => {
    const text = `{
  "cell": "lstm",
  "bidirectional": true,
  "weights": {
    "weight_ih_l0": [[1], [1], [1], [1]],
    "weight_hh_l0": [[0], [0], [0], [0]],
    "bias_ih_l0": [0, 0.2, 0, 0],
    "weight_ih_l0_reverse": [[1], [1], [1], [1]],
    "weight_hh_l0_reverse": [[0], [0], [0], [0]],
    "bias_ih_l0_reverse": [0, 0.1, 0, 0],
    "bias_hh_l0_reverse": [0, 0.3, 0, 0]
  }
}`;
    assert.deepStrictEqual(
      forgetBiases(text).map((info) => [info.layer, info.direction, Number(info.mean.toFixed(6))]),
      [
        [0, 'forward', 0.2],
        [0, 'reverse', 0.4],
      ],
    );
    const result = applyTextEdits(text, forgetBiasEdits(text, 0, undefined, 'reverse') ?? []);
    assert.strictEqual(
      result,
      text
        .replace('"bias_ih_l0_reverse": [0, 0.1, 0, 0]', '"bias_ih_l0_reverse": [0, 1, 0, 0]')
        .replace('"bias_hh_l0_reverse": [0, 0.3, 0, 0]', '"bias_hh_l0_reverse": [0, 0, 0, 0]'),
    );
    const forward = applyTextEdits(text, forgetBiasEdits(text, 0) ?? []);
    assert.strictEqual(forward, text.replace('"bias_ih_l0": [0, 0.2, 0, 0]', '"bias_ih_l0": [0, 1, 0, 0]'));
  });

  it('creates bias_ih when the file has no biases', () => {
    const text = `{
  "cell": "lstm",
  "weights": {
    "weight_ih_l0": [[1], [1], [1], [1]],
    "weight_hh_l0": [[0], [0], [0], [0]]
  },
  "data": { "inputs": [[[1]]] }
}`;
    assert.strictEqual(lowForgetBiasLayers(text).length, 1);
    const result = applyTextEdits(text, forgetBiasEdits(text, 0) ?? []);
    assert.deepStrictEqual(forgetBiases(result)[0].mean, 1);
    assert.ok(result.includes('"bias_ih_l0"'));
  });

  it('sets init.forget_bias when the biases come from init', () => {
    const text = '{\n  "cell": "lstm",\n  "hidden_size": 4,\n  "init": { "scheme": "pytorch" } // seeded\n}\n';
    const result = applyTextEdits(text, forgetBiasEdits(text, 0) ?? []);
    assert.strictEqual(numberAt(result, ['init', 'forget_bias']), 1);
    assert.ok(result.includes('// seeded'));
  });

  it('ignores non-LSTM files and weights given as a path', () => {
    assert.deepStrictEqual(forgetBiases(commented), []);
    assert.deepStrictEqual(forgetBiases('{"cell": "lstm", "weights": "w.safetensors"}'), []);
  });
});
