// Unit tests (plain Node) of diagnosticsLogic.ts: findings and problems as diagnostics on their ranges.
import * as assert from 'assert';
import { diagnosticSpecs, forgetBiasLayerOfKey } from '../../../src/extension/diagnosticsLogic';
import { parseModel } from '../../../src/engine/model/parse';
import { analyzeModel } from '../../../src/engine/analyze';
import { commented, report } from './fixtures';
import { applyTextEdits, didYouMeanEdit } from '../../../src/extension/editLogic';

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

  it("shows at most one syntax error of ours: none beside VS Code's JSON service, except a non-JSON number", () => {
    // One deleted "}" and a missing comma: the reader reports several syntax errors.
    const text = '{"cell": "rnn", "init": {"seed": 1 "data": {"generate": {"sequences": 1, "length": 2}}, "x": [1 2]';
    const parsed = parseModel(text);
    const syntax = parsed.problems.filter((p) => p.message.startsWith('syntax error'));
    assert.ok(syntax.length >= 2, `expected several syntax errors from the reader, got ${syntax.length}`);
    const result = { ok: false as const, problems: parsed.problems };
    assert.deepStrictEqual(diagnosticSpecs(text, result, { jsonValidates: true }), []);
    const alone = diagnosticSpecs(text, result, { jsonValidates: false });
    assert.deepStrictEqual(
      alone.map((spec) => spec.message),
      [syntax[0].message],
    );
    const nan = '{"cell": "rnn", "init": {"seed": 1}, "data": {"inputs": [[[NaN]]]}}';
    const nanResult = { ok: false as const, problems: parseModel(nan).problems };
    assert.deepStrictEqual(
      diagnosticSpecs(nan, nanResult, { jsonValidates: true }).map((spec) => spec.message),
      ['syntax error: NaN is not a JSON number (numbers must be finite)'],
    );
  });

  it("a misspelt key's problem carries the name to change it to, and the edit renames only that key", () => {
    const text =
      '{\n  "cell": "rnn",\n  "input_size": 2,\n  "hiddn_size": 16, // typo\n  "init": {"seed": 1},\n  "data": {"generate": {"sequences": 1, "length": 3}}\n}';
    const parsed = parseModel(text);
    const [problem] = parsed.problems.filter((p) => p.severity === 'error');
    assert.ok(
      problem && parsed.problems.filter((p) => p.severity === 'error').length === 1,
      JSON.stringify(parsed.problems),
    );
    const fix = didYouMeanEdit(text, problem.range, problem.message);
    assert.ok(fix);
    assert.deepStrictEqual([fix.from, fix.to], ['hiddn_size', 'hidden_size']);
    const fixed = applyTextEdits(text, [fix.edit]);
    assert.strictEqual(fixed, text.replace('"hiddn_size"', '"hidden_size"'));
    assert.ok(parseModel(fixed).model, 'the fixed file parses');
    assert.strictEqual(didYouMeanEdit(text, problem.range, 'unknown key; expected one of …'), undefined);
  });

  it("shows the engine's forget-bias-low finding only: no copy recomputed from the text", () => {
    // An LSTM text with a zero forget bias, and a report without the finding: an engine regression must show.
    const text =
      '{"cell":"lstm","weights":{"weight_hh_l0":[[0],[0],[0],[0]],"weight_ih_l0":[[0],[0],[0],[0]],"bias_ih_l0":[0,0,0,0]}}';
    const base = report();
    const specs = diagnosticSpecs(text, {
      ok: true,
      report: { ...base, model: { ...base.model, cell: 'lstm' }, findings: [] },
    });
    assert.deepStrictEqual(specs, []);
  });

  /** A one-unit LSTM with the given bias keys (forget rows at 0.1), analyzed by the engine. */
  function lstmSpecs(biases: Record<string, number[]>): [string, string][] {
    const text = JSON.stringify({
      cell: 'lstm',
      weights: {
        weight_ih_l0: [[0.3], [-0.2], [0.1], [0.4]],
        weight_hh_l0: [[0.5], [0.1], [-0.3], [0.2]],
        ...biases,
      },
      data: { inputs: [[[1], [0.5], [-0.5], [0.2]]] },
      loss: 'sum',
    });
    const parsed = parseModel(text);
    assert.ok(parsed.model, JSON.stringify(parsed.problems));
    const r = analyzeModel(parsed.model, { file: 'x.rnn.json' });
    return diagnosticSpecs(text, { ok: true, report: r })
      .filter((spec) => spec.code === 'forget-bias-low')
      .map((spec) => [spec.code, text.substr(spec.span.offset, spec.span.length)]);
  }

  it("puts the engine's forget-bias-low on bias_ih_l{k}, else bias_hh_l{k}, else weight_ih_l{k} (README)", () => {
    const bias = [0, 0.1, 0, 0];
    assert.deepStrictEqual(lstmSpecs({ bias_ih_l0: bias, bias_hh_l0: bias }), [['forget-bias-low', '"bias_ih_l0"']]);
    assert.deepStrictEqual(lstmSpecs({ bias_hh_l0: bias }), [['forget-bias-low', '"bias_hh_l0"']]);
    assert.deepStrictEqual(lstmSpecs({}), [['forget-bias-low', '"weight_ih_l0"']]);
    assert.deepStrictEqual(lstmSpecs({ bias_ih_l0: [0, 1, 0, 0] }), []);
    assert.deepStrictEqual(forgetBiasLayerOfKey('"bias_ih_l3"'), { layer: 3, direction: 'forward' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"bias_hh_l1"'), { layer: 1, direction: 'forward' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"weight_ih_l2"'), { layer: 2, direction: 'forward' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"bias_ih_l0_reverse"'), { layer: 0, direction: 'reverse' });
    assert.deepStrictEqual(forgetBiasLayerOfKey('"weight_ih_l1_reverse"'), { layer: 1, direction: 'reverse' });
    assert.strictEqual(forgetBiasLayerOfKey('"weight_hr_l0"'), undefined);
  });

  it("places the engine's forget-bias-low of a reverse direction on its _reverse key", () => {
    const ih = [[0.3], [-0.2], [0.1], [0.4]];
    const hh = [[0.5], [0.1], [-0.3], [0.2]];
    const text = JSON.stringify({
      cell: 'lstm',
      bidirectional: true,
      weights: {
        weight_ih_l0: ih,
        weight_hh_l0: hh,
        bias_ih_l0: [0, 1, 0, 0],
        weight_ih_l0_reverse: ih,
        weight_hh_l0_reverse: hh,
        bias_ih_l0_reverse: [0, 0.1, 0, 0],
      },
      data: { inputs: [[[1], [0.5], [-0.5], [0.2]]] },
      loss: 'sum',
    });
    const parsed = parseModel(text);
    assert.ok(parsed.model, JSON.stringify(parsed.problems));
    const specs = diagnosticSpecs(text, {
      ok: true,
      report: analyzeModel(parsed.model, { file: 'x.rnn.json' }),
    }).filter((spec) => spec.code === 'forget-bias-low');
    assert.deepStrictEqual(
      specs.map((spec) => [text.substr(spec.span.offset, spec.span.length), spec.path.join('.')]),
      [['"bias_ih_l0_reverse"', 'weights.bias_ih_l0_reverse']],
    );
    assert.match(specs[0].message, /^Layer 0 \(reverse\): /);
  });
});
