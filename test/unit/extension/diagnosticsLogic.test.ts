// Unit tests (plain Node) of diagnosticsLogic.ts: findings and problems as diagnostics on their ranges.
import * as assert from 'assert';
import { diagnosticSpecs, forgetBiasLayerOfKey } from '../../../src/extension/diagnosticsLogic';
import { commented, report } from './fixtures';

describe('extension report logic', () => {
  it('maps findings and problems to diagnostic specs on their ranges', () => {
    const specs = diagnosticSpecs(commented, { ok: true, report: report() });
    assert.deepStrictEqual(
      specs.map((spec) => [spec.code, spec.severity, commented.substr(spec.span.offset, spec.span.length)]),
      [
        ['exploding-gradients', 'warning', '"weight_hh_l0"'],
        ['clip-never-triggers', 'info', '"clip_norm"'],
      ],
    );
    const problems = diagnosticSpecs(commented, {
      ok: false,
      problems: [{ severity: 'error', message: 'bad', path: ['cell'], range: { offset: 5, length: 3 } }],
    });
    assert.deepStrictEqual(
      problems.map((spec) => [spec.code, spec.span]),
      [['invalid-model', { offset: 5, length: 3 }]],
    );
  });

  it('adds a forget-bias-low diagnostic for LSTM files when the engine did not', () => {
    const text =
      '{"cell":"lstm","weights":{"weight_hh_l0":[[0],[0],[0],[0]],"weight_ih_l0":[[0],[0],[0],[0]],"bias_ih_l0":[0,0,0,0]}}';
    const base = report();
    const specs = diagnosticSpecs(text, {
      ok: true,
      report: { ...base, model: { ...base.model, cell: 'lstm' }, findings: [] },
    });
    assert.deepStrictEqual(
      specs.map((spec) => [spec.code, text.substr(spec.span.offset, spec.span.length)]),
      [['forget-bias-low', '"bias_ih_l0"']],
    );
    assert.deepStrictEqual(forgetBiasLayerOfKey('"bias_ih_l3"'), { layer: 3, direction: 'forward' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"weight_ih_l2"'), { layer: 2, direction: 'forward' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"bias_ih_l0_reverse"'), { layer: 0, direction: 'reverse' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"weight_ih_l1_reverse"'), { layer: 1, direction: 'reverse' });
    assert.strictEqual(forgetBiasLayerOfKey('"weight_hr_l0"'), undefined);
  });

  it('places the fallback forget-bias diagnostic of a reverse direction on its _reverse key', () => {
    const rows = '[[0],[0],[0],[0]]';
    const text = `{"cell":"lstm","bidirectional":true,"weights":{"weight_hh_l0":${rows},"weight_ih_l0":${rows},"bias_ih_l0":[0,1,0,0],"weight_hh_l0_reverse":${rows},"weight_ih_l0_reverse":${rows},"bias_ih_l0_reverse":[0,0.1,0,0]}}`;
    const base = report();
    const specs = diagnosticSpecs(text, {
      ok: true,
      report: { ...base, model: { ...base.model, cell: 'lstm', bidirectional: true }, findings: [] },
    });
    assert.deepStrictEqual(
      specs.map((spec) => [spec.code, text.substr(spec.span.offset, spec.span.length), spec.path.join('.')]),
      [['forget-bias-low', '"bias_ih_l0_reverse"', 'weights.bias_ih_l0_reverse']],
    );
    assert.match(specs[0].message, /^LSTM layer 0 \(reverse\): /);
  });
});
