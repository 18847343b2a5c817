// The panel's labels of a bidirectional report: every chart model, table cell and the CSV name the direction,
// "Layer 0 (reverse)" next to "Layer 0", in the report's layer order.
import * as assert from 'assert';
import { contributionChartModel } from '../../../../src/shared/reportView/contributionChart';
import { lagTableCsv } from '../../../../src/shared/reportView/export';
import { heatmapModel } from '../../../../src/shared/reportView/heatmapChart';
import { lagChartModel } from '../../../../src/shared/reportView/lagChart';
import { pascanuRows } from '../../../../src/shared/reportView/pascanuChart';
import { layerCards } from '../../../../src/shared/reportView/summary';
import { layerCell, layerShort } from '../../../../src/engine/report/layers';
import { lag, layerOf, reportOf } from './fixtures';

function bidirectional() {
  const lags = [lag(0, 0), lag(1, -1), lag(2, -2)];
  const r = reportOf([
    layerOf(lags),
    layerOf(lags, { direction: 'reverse', sigma_max: 0.7 }),
    layerOf(lags, { layer: 1 }),
    layerOf(lags, { layer: 1, direction: 'reverse' }),
  ]);
  r.model.bidirectional = true;
  r.model.num_layers = 2;
  return r;
}

const LABELS = ['Layer 0', 'Layer 0 (reverse)', 'Layer 1', 'Layer 1 (reverse)'];

describe('webview: per-direction layer labels', () => {
  it('table cells and short labels', () => {
    assert.strictEqual(layerCell(0, 'forward'), '0');
    assert.strictEqual(layerCell(3, 'reverse'), '3 (reverse)');
    assert.strictEqual(layerCell(1, undefined), '1');
    assert.strictEqual(layerShort(0, 'forward'), 'L0');
    assert.strictEqual(layerShort(2, 'reverse'), 'L2 rev');
  });

  it('the lag, contribution and Pascanu charts and the layer cards label each direction', () => {
    const r = bidirectional();
    assert.deepStrictEqual(
      lagChartModel(r).series.map((s) => [s.label, s.direction]),
      LABELS.map((l) => [l, l.endsWith('(reverse)') ? 'reverse' : 'forward']),
    );
    const contributions = contributionChartModel(r).series;
    assert.deepStrictEqual(
      contributions.map((s) => s.label),
      LABELS,
    );
    assert.deepStrictEqual(
      contributions.map((s) => s.short),
      ['L0', 'L0 rev', 'L1', 'L1 rev'],
    );
    const pascanu = pascanuRows(r);
    assert.deepStrictEqual(
      pascanu.map((p) => p.label),
      LABELS,
    );
    assert.strictEqual(pascanu[1].sigmaMax, 0.7, 'the reverse row carries the reverse direction’s numbers');
    assert.deepStrictEqual(
      layerCards(r).map((c) => c.title),
      LABELS,
    );
  });

  it('a unidirectional report keeps its plain labels', () => {
    const r = reportOf([layerOf([lag(0, 0)]), layerOf([lag(0, 0)], { layer: 1 })]);
    assert.deepStrictEqual(
      lagChartModel(r).series.map((s) => s.label),
      ['Layer 0', 'Layer 1'],
    );
  });

  it('the heatmap of a reverse direction says so', () => {
    const m = heatmapModel({
      layer: 1,
      direction: 'reverse',
      sequence: 0,
      length: 2,
      bin: 1,
      size: 2,
      log10_norm: [0, -1, null, 0],
    });
    assert.strictEqual(m?.label, 'Layer 1 (reverse)');
  });

  it('the CSV lag table has a direction column', () => {
    const lines = lagTableCsv(bidirectional()).split('\r\n');
    assert.ok(lines[0].startsWith('layer,direction,lag,count,'), lines[0]);
    assert.deepStrictEqual(
      lines
        .slice(1, -1)
        .filter((l) => l.split(',')[2] === '0')
        .map((l) => l.split(',').slice(0, 2).join(',')),
      ['0,forward', '0,reverse', '1,forward', '1,reverse'],
    );
  });
});
