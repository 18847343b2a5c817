// Layer labels and the report version (src/engine/report/layers.ts).
import * as assert from 'assert';
import { layerLabel, layerTitle, nameSuffix, reportVersion } from '../../../../src/engine/report/layers';
import { analyzeModel } from '../../../../src/engine/analyze';
import { parsedModel } from '../../helpers/models';

describe('report/layers', () => {
  it('labels a layer and its reverse direction', () => {
    assert.strictEqual(layerLabel(0, 'forward'), 'layer 0');
    assert.strictEqual(layerLabel(2, 'reverse'), 'layer 2 (reverse)');
    assert.strictEqual(layerLabel(1, undefined), 'layer 1');
    assert.strictEqual(layerTitle(0, 'reverse'), 'Layer 0 (reverse)');
    assert.strictEqual(nameSuffix('reverse'), '_reverse');
    assert.strictEqual(nameSuffix('forward'), '');
  });

  it('report_version is 2 exactly when a version-2 feature is used; the version-2 fields are always there', () => {
    assert.strictEqual(reportVersion([]), 1);
    assert.strictEqual(reportVersion(['lengths']), 2);
    const v1 = JSON.stringify({
      cell: 'gru',
      input_size: 2,
      hidden_size: 3,
      init: { seed: 1 },
      data: { generate: { sequences: 2, length: 4 } },
    });
    const r1 = analyzeModel(parsedModel(v1), { file: 'a' });
    assert.strictEqual(r1.report_version, 1);
    assert.deepStrictEqual(
      [r1.model.bidirectional, r1.model.proj_size, r1.model.gru_reset, r1.model.source, r1.layers[0].direction],
      [false, 0, 'after', { format: 'json', module: '' }, 'forward'],
    );
    for (const extra of [{ gru_reset: 'after' }, { bidirectional: true }, { bidirectional: false }]) {
      const r2 = analyzeModel(parsedModel(JSON.stringify({ ...JSON.parse(v1), ...extra })), { file: 'a' });
      assert.strictEqual(r2.report_version, 2, JSON.stringify(extra));
    }
  });

  it('lengths: the shortest and longest sequence, next to sequences and steps', () => {
    const model = (inputs: number[][][]): string =>
      JSON.stringify({ cell: 'rnn', input_size: 1, hidden_size: 2, init: { seed: 1 }, data: { inputs } });
    const seq = (t: number): number[][] => Array.from({ length: t }, (_, i) => [Math.sin(i + t)]);
    const unequal = analyzeModel(parsedModel(model([seq(3), seq(7), seq(5)])), { file: 'a' });
    assert.deepStrictEqual([unequal.sequences, unequal.steps, unequal.lengths], [3, 15, { min: 3, max: 7 }]);
    const equal = analyzeModel(parsedModel(model([seq(4), seq(4)])), { file: 'a' });
    assert.deepStrictEqual([equal.sequences, equal.steps, equal.lengths], [2, 8, { min: 4, max: 4 }]);
  });

  it('findings on a reverse direction sit on its _reverse key and name it', () => {
    const model = parsedModel(
      JSON.stringify({
        cell: 'rnn',
        bidirectional: true,
        input_size: 2,
        hidden_size: 4,
        init: { scheme: 'orthogonal', gain: 1.5, seed: 3 },
        data: { generate: { sequences: 1, length: 60, seed: 2, scale: 0.01 } },
        nonlinearity: 'linear',
      }),
    );
    const report = analyzeModel(model, { file: 'a' });
    const reverse = report.findings.filter(
      (f) => f.code === 'exploding-gradients' && f.path[1] === 'weight_hh_l0_reverse',
    );
    assert.strictEqual(reverse.length, 1, JSON.stringify(report.findings.map((f) => f.path)));
    assert.match(reverse[0].message, /^Layer 0 \(reverse\): /);
    assert.strictEqual(reverse[0].data?.direction, 'reverse');
  });
});
