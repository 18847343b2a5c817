// Unit tests (plain Node) of remedyLogic.ts: the panel's remedy buttons make the quick fixes' edits (W_hh rescaled to
// the target σ_max; the forget-gate bias set to 1.0) on the examples' files, or say why the file cannot express them.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { largestSingularValue } from '../../../src/engine/linalg';
import type { Report } from '../../../src/engine/report/types';
import { applyTextEdits } from '../../../src/extension/editLogic';
import { parseJsonc } from '../../../src/extension/jsonLocationLogic';
import { remedyEdits } from '../../../src/extension/remedyLogic';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const read = (name: string): string => fs.readFileSync(path.join(root, 'examples', name), 'utf8');

function weightsOf(text: string, key: string): unknown {
  const tree = parseJsonc(text);
  const weights = tree?.children?.find((p) => p.children?.[0].value === 'weights')?.children?.[1];
  const node = weights?.children?.find((p) => p.children?.[0].value === key)?.children?.[1];
  const value = (n: typeof node): unknown =>
    n?.type === 'array' ? (n.children ?? []).map((c) => value(c)) : (n?.value as unknown);
  return value(node);
}

function sigmaOf(text: string): number {
  const rows = weightsOf(text, 'weight_hh_l0') as number[][];
  return largestSingularValue(rows.length, rows[0].length, Float64Array.from(rows.flat()), () => undefined);
}

/** Just what remedyEdits reads of a report: the layer's σ_max. */
function reportWith(sigma: number): Report {
  return { layers: [{ layer: 0, direction: 'forward', sigma_max: sigma }] } as unknown as Report;
}

describe('remedy edits (remedyLogic)', () => {
  it('rescales weight_hh_l0 of examples/vanishing-sigmoid to σ_max 1/γ = 4', () => {
    const text = read('vanishing-sigmoid.rnn.json');
    const sigma = sigmaOf(text);
    assert.ok(Math.abs(sigma - 2) < 1e-3, `σ_max ${sigma}`);
    const result = remedyEdits(text, { kind: 'rescale', layer: 0, direction: 'forward', target: 4 }, reportWith(sigma));
    assert.strictEqual(result.kind, 'edits');
    const after = applyTextEdits(text, result.kind === 'edits' ? result.edits : []);
    assert.ok(Math.abs(sigmaOf(after) - 4) < 1e-8, `new σ_max ${sigmaOf(after)}`);
    assert.deepStrictEqual(weightsOf(after, 'weight_ih_l0'), weightsOf(text, 'weight_ih_l0'));
  });

  it('sets the forget-gate bias of examples/lstm-forget-closed to 1.0 (the quick fix’s edit)', () => {
    const text = read('lstm-forget-closed.rnn.json');
    const result = remedyEdits(text, { kind: 'forgetBias', layer: 0, direction: 'forward' }, undefined);
    assert.strictEqual(result.kind, 'edits');
    const after = applyTextEdits(text, result.kind === 'edits' ? result.edits : []);
    const ih = weightsOf(after, 'bias_ih_l0') as number[];
    const hh = weightsOf(after, 'bias_hh_l0') as number[];
    const h = ih.length / 4;
    for (let row = h; row < 2 * h; row++) assert.ok(Math.abs(ih[row] + hh[row] - 1) < 1e-12, `forget row ${row}`);
  });

  it('says why a checkpoint’s weight_hh or a report without the layer cannot be rescaled', () => {
    const text = '{ "cell": "rnn", "weights": "model.pt" }';
    const r = remedyEdits(text, { kind: 'rescale', layer: 0, direction: 'forward', target: 1 }, reportWith(0.5));
    assert.ok(r.kind === 'unavailable' && /model\.pt/.test(r.reason), JSON.stringify(r));
    const none = remedyEdits(text, { kind: 'rescale', layer: 1, direction: 'forward', target: 1 }, reportWith(0.5));
    assert.ok(none.kind === 'unavailable' && /σ_max/.test(none.reason), JSON.stringify(none));
  });
});
