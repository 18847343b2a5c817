// Unit tests (plain Node) of the editor's pure logic: edits that keep formatting and comments, key ranges,
// forget-gate bias detection, settings, debounce, hover text.
import * as assert from 'assert';
import {
  applyTextEdits,
  clipEdits,
  forgetBiasEdits,
  forgetBiases,
  lowForgetBiasLayers,
} from '../../src/extension/editLogic';
import { keyPathAtOffset, numberAt, spanOfPath } from '../../src/extension/jsonLocationLogic';
import { diagnosticSpecs, forgetBiasLayerOfKey } from '../../src/extension/diagnosticsLogic';
import { KeyedDebouncer } from '../../src/extension/keyedDebouncer';
import { normalizeSettings } from '../../src/extension/settingsLogic';
import { clipSuggestions, findingDocUrl, weightHhHover, worstLayer } from '../../src/extension/reportLogic';
import type { Report } from '../../src/engine/report/types';
import { roundSuggestion } from '../../src/engine/report/format';

const commented = `{
    // my model
    "cell": "rnn",
    "weights": { "weight_hh_l0": [[0.5]], "weight_ih_l0": [[1]] }, /* inline */
    "data": { "inputs": [[[1]]] },
    "training": {
        "clip_norm": 10, // too high?
        "batch_size": 2,
    }
}
`;

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

  it('rounds suggestions to three significant digits', () => {
    assert.strictEqual(roundSuggestion(4.153217), 4.15);
    assert.strictEqual(roundSuggestion(0.00012345), 0.000123);
    assert.strictEqual(roundSuggestion(12345), 12300);
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
      [{ layer: 0, hiddenSize: 2, mean: 0.3 }],
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

  it('tells which key the pointer is on', () => {
    const offset = commented.indexOf('weight_hh_l0') + 3;
    assert.deepStrictEqual(keyPathAtOffset(commented, offset), ['weights', 'weight_hh_l0']);
    assert.strictEqual(keyPathAtOffset(commented, commented.indexOf('0.5')), undefined);
  });
});

/** A small report for logic tests. */
function report(overrides: Partial<Report> = {}): Report {
  return {
    report_version: 1,
    file: 'm.rnn.json',
    model: {
      cell: 'rnn',
      form: 'elman',
      nonlinearity: 'tanh',
      input_size: 1,
      hidden_size: 4,
      num_layers: 2,
      output_size: 4,
    },
    sequences: 1,
    steps: 40,
    loss: 1,
    grad_norm: 1,
    gradients: {},
    layers: [
      {
        layer: 0,
        sigma_max: 0.05,
        spectral_radius: 0.05,
        gamma: 1,
        regime: 'vanishing',
        evidence: {
          log10_rate_per_step: -1.3,
          log10_ratio: -50.7,
          measured_lag: 39,
          pascanu_bound: 0.05,
          rule: 'decays',
        },
        lags: [],
      },
      { layer: 1, sigma_max: 1.08, spectral_radius: 1.08, gamma: 1, regime: 'exploding', lags: [] },
    ],
    clipping: {
      batch_norms: [3, 5],
      suggestions: [],
      recommended: { clip_norm: 4.153, clip_value: 0.5, method: 'mean', rationale: '' },
    },
    findings: [
      { severity: 'warning', code: 'exploding-gradients', message: 'explodes', path: ['weights', 'weight_hh_l0'] },
      { severity: 'info', code: 'clip-never-triggers', message: 'never', path: ['training', 'clip_norm'] },
    ],
    ...overrides,
  };
}

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
    assert.strictEqual(forgetBiasLayerOfKey('"bias_ih_l3"'), 3);
    assert.strictEqual(forgetBiasLayerOfKey('"weight_ih_l2"'), 2);
  });

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

describe('extension settings and debounce', () => {
  it('normalizes settings, leaving thresholds to the engine by default', () => {
    assert.deepStrictEqual(normalizeSettings({}), {
      analyzeOnSave: true,
      maxLag: null,
      thresholds: {},
      modelFiles: '**/*.rnn.json',
      timeoutMs: 120000,
    });
    const custom = normalizeSettings({
      analyzeOnSave: false,
      maxLag: 10.7,
      vanishingLog10PerStep: -0.05,
      timeoutSeconds: 0,
      modelFiles: 'models/*.json',
    });
    assert.deepStrictEqual(custom, {
      analyzeOnSave: false,
      maxLag: 10,
      thresholds: { vanishingLog10PerStep: -0.05 },
      modelFiles: 'models/*.json',
      timeoutMs: 0,
    });
    assert.strictEqual(normalizeSettings({ maxLag: -1, timeoutSeconds: 'x' }).maxLag, null);
  });

  it('runs once per key after the last of quick calls', async () => {
    const runs: string[] = [];
    const debouncer = new KeyedDebouncer<string>(30, (key) => runs.push(key));
    for (let i = 0; i < 10; i++) {
      debouncer.schedule('a');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    debouncer.schedule('b');
    debouncer.schedule('c');
    debouncer.cancel('c');
    assert.ok(debouncer.isPending('a'));
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepStrictEqual(runs.sort(), ['a', 'b']);
    debouncer.dispose();
  });
});
