// Unit tests of the clipping chart's model: thresholds, the share of batches each clips, the axis.
import * as assert from 'assert';
import {
  clippedShare,
  clippingChartModel,
  clipThresholds,
  niceCeiling,
} from '../../../../src/shared/reportView/clippingChart';
import { lag, layerOf, reportOf } from './fixtures';

describe('webview: clipping thresholds', () => {
  it('counts the share of batches above a threshold (an overflowed null norm always clips)', () => {
    assert.strictEqual(clippedShare([1, 2, 3, 4], 2.5), 0.5);
    assert.strictEqual(clippedShare([1, 2, 3, 4], 4), 0, 'norm equal to the threshold is not clipped');
    assert.strictEqual(clippedShare([1, 2, 3, 4], 0.5), 1);
    assert.strictEqual(clippedShare([1, null, 3, 4], 3.5), 0.5);
    assert.strictEqual(clippedShare([], 1), null);
  });

  it('lists each suggestion and the current clip_norm with its share, marking the recommended one', () => {
    const t = clipThresholds(reportOf([layerOf([lag(0, 0)])]), 3.5);
    assert.deepStrictEqual(
      t.map((x) => [x.source, x.value, x.share, x.recommended]),
      [
        ['mean', 2.5, 0.5, true],
        ['median', 2.5, 0.5, false],
        ['autoclip_p10', 1.3, 0.75, false],
        ['current', 3.5, 0.25, false],
      ],
    );
    assert.strictEqual(clipThresholds(reportOf([layerOf([lag(0, 0)])]), null).length, 3);
  });

  it("prefers the engine's clipped_share when the report carries it", () => {
    const r = reportOf([layerOf([lag(0, 0)])]);
    r.clipping.suggestions[0].clipped_share = 0.3;
    assert.strictEqual(clipThresholds(r, null)[0].share, 0.3);
  });

  it('shapes bars on a log axis when norms span more than 20×, with thresholds in the same units', () => {
    const r = reportOf([layerOf([lag(0, 0)])], [1, 2, 1000, null]);
    const m = clippingChartModel(r, 10);
    assert.ok(m.logScale);
    assert.strictEqual(m.overflowed, 1);
    assert.deepStrictEqual(
      m.bars.map((b) => b.x),
      [1, 2, 3],
    );
    assert.ok(Math.abs(m.bars[2].y - 3) < 1e-12);
    assert.ok(Math.abs(m.thresholds.find((x) => x.source === 'current')!.y - 1) < 1e-12);
    const linear = clippingChartModel(reportOf([layerOf([lag(0, 0)])]), null);
    assert.ok(!linear.logScale);
    assert.strictEqual(linear.yMin, 0);
    assert.strictEqual(linear.yMax, 5);
  });

  it('rounds axis maxima to 1, 2, 2.5 or 5 × 10^k', () => {
    assert.deepStrictEqual([0.7, 1, 1.3, 2.2, 3, 47, 0].map(niceCeiling), [1, 1, 2, 2.5, 5, 50, 1]);
  });
});
