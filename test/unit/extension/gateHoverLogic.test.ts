// Unit tests (plain Node) of gateHoverLogic.ts: the key parser and the bias_ih hover on analyzed reports (a
// bidirectional LSTM with projections and a saturated reverse output gate; a relu rnn with dead units).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseModel } from '../../../src/engine/model/parse';
import { analyzeModel } from '../../../src/engine/analyze';
import { formatHoverNumber, formatShare } from '../../../src/engine/report/format';
import type { Report } from '../../../src/engine/report/types';
import { biasIhLayer, gatesHover } from '../../../src/extension/gateHoverLogic';
import { REPO_ROOT } from '../helpers/cli';

function analyzed(name: string): Report {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/generated-v2', `${name}.rnn.json`), 'utf8');
  const parsed = parseModel(text);
  assert.ok(parsed.model);
  return analyzeModel(parsed.model, { file: name });
}

describe('bias_ih hover (gateHoverLogic)', () => {
  it('reads the layer and direction of bias_ih keys only', () => {
    assert.deepStrictEqual(biasIhLayer('bias_ih_l2'), { layer: 2, direction: 'forward' });
    assert.deepStrictEqual(biasIhLayer('bias_ih_l0_reverse'), { layer: 0, direction: 'reverse' });
    assert.strictEqual(biasIhLayer('bias_hh_l0'), undefined);
    assert.strictEqual(biasIhLayer('weight_ih_l0'), undefined);
    assert.strictEqual(biasIhLayer('bias_ih_l0_rev'), undefined);
  });

  it("shows each gate's mean and saturated shares of the hovered direction, then the units", () => {
    const report = analyzed('find-bilstm-proj-mixed');
    const md = gatesHover(report, 1, 'reverse') ?? '';
    assert.match(md, /^\*\*bias_ih_l1_reverse\*\* — lstm layer 1 \(reverse\)/);
    const layer = report.layers.find((l) => l.layer === 1 && l.direction === 'reverse');
    assert.ok(layer?.gates?.output && layer.units);
    const out = layer.gates.output;
    assert.ok(
      md.includes(
        `| output | ${formatHoverNumber(out.mean)} | ${formatShare(out.saturated_low)} (< 0.05) | ${formatShare(out.saturated_high)} (> 0.95) |`,
      ),
      md,
    );
    assert.match(md, /\| cell \| [^|]+ \| [^|]+ \(< −0\.95\) \|/);
    const rows = md.split('\n').filter((l) => /^\| (input|forget|cell|output) \|/.test(l));
    assert.strictEqual(rows.length, 4);
    assert.match(md, /Units \(o ⊙ tanh\(c\)\): saturated \S+ of unit-steps, dead 0 of 4, mean \|value\| /);
    assert.match(md, /Projected h: saturated \S+ of unit-steps, dead 0 of 2/);
    // The forward direction of the same layer has other figures.
    const forward = gatesHover(report, 1, 'forward') ?? '';
    assert.match(forward, /^\*\*bias_ih_l1\*\* — lstm layer 1\n/);
    assert.notStrictEqual(forward.split('\n').slice(1).join('\n'), md.split('\n').slice(1).join('\n'));
    assert.strictEqual(gatesHover(report, 2, 'forward'), undefined);
  });

  it('an rnn layer has no gates; the dead units are counted', () => {
    const md = gatesHover(analyzed('find-rnn-relu-dead'), 0) ?? '';
    assert.match(md, /An rnn cell has no gates\./);
    assert.match(md, /Units \(h\): saturated 0% of unit-steps, dead 3 of 6/);
  });
});
