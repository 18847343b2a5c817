// The "Gates and units" model on analyzed reports: one row per gate of every layer and direction with the
// report's figures, the histogram as shares summing to 1 with its edges over the activation's range, the
// unsaturated rest, the units rows (projected h too), and an rnn report without gates.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseModel } from '../../../../src/engine/model/parse';
import { analyzeModel } from '../../../../src/engine/analyze';
import { formatShare } from '../../../../src/engine/report/format';
import type { Report } from '../../../../src/engine/report/types';
import { gatesChartModel, unitsNote } from '../../../../src/shared/reportView/gatesChart';
import { REPO_ROOT } from '../../helpers/cli';

function analyzed(rel: string): Report {
  const parsed = parseModel(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8'));
  assert.ok(parsed.model);
  return analyzeModel(parsed.model, { file: rel });
}

describe('gates chart model', () => {
  it('a bidirectional 2-layer lstm with projections: 16 gate rows, 8 units rows, figures from the report', () => {
    const report = analyzed('test/fixtures/generated-v2/find-bilstm-proj-mixed.rnn.json');
    const m = gatesChartModel(report);
    assert.ok(m.hasGates);
    assert.strictEqual(m.gates.length, 16);
    assert.deepStrictEqual(
      m.gates.slice(0, 4).map((g) => g.label),
      ['layer 0 input', 'layer 0 forget', 'layer 0 cell', 'layer 0 output'],
    );
    const out = m.gates.find((g) => g.label === 'layer 1 (reverse) output');
    const ref = report.layers[3].gates?.output;
    assert.ok(out && ref);
    assert.strictEqual(out.mean, ref.mean);
    assert.strictEqual(out.saturatedLow, ref.saturated_low);
    assert.strictEqual(out.saturatedHigh, ref.saturated_high);
    assert.strictEqual(out.weightHhGradNorm, ref.weight_hh_grad_norm);
    for (const g of m.gates) {
      assert.strictEqual(g.shares.length, 20);
      assert.strictEqual(g.edges.length, 21);
      assert.ok(Math.abs(g.shares.reduce((a, b) => a + b, 0) - 1) < 1e-12, g.label);
      assert.deepStrictEqual([g.edges[0], g.edges[20]], g.activation === 'tanh' ? [-1, 1] : [0, 1]);
      assert.ok(g.unsaturated !== null && Math.abs(g.unsaturated + g.saturatedLow! + g.saturatedHigh! - 1) < 1e-12);
      assert.strictEqual(g.lowCut, g.gate === 'cell' ? -0.95 : 0.05);
    }
    // Each histogram agrees with the saturated shares: the share above 0.95 is within the top bin.
    for (const g of m.gates) assert.ok(g.saturatedHigh! <= g.shares[19] + 1e-12, g.label);
    assert.strictEqual(m.units.length, 8);
    assert.deepStrictEqual(
      m.units.slice(0, 2).map((u) => [u.label, u.what, u.width]),
      [
        ['layer 0', 'o ⊙ tanh(c)', 4],
        ['layer 0', 'projected h', 2],
      ],
    );
  });

  it('a relu rnn: no gates, the dead units in the note', () => {
    const m = gatesChartModel(analyzed('test/fixtures/generated-v2/find-rnn-relu-dead.rnn.json'));
    assert.ok(!m.hasGates);
    assert.strictEqual(m.gates.length, 0);
    assert.strictEqual(m.units.length, 1);
    assert.strictEqual(
      unitsNote(m.units[0], formatShare),
      `layer 0 (h): 3 of 6 units dead (${m.units[0].deadIndices.join(', ')}); 0% of unit-steps saturated.`,
    );
  });
});
