// Unit tests of the clipping chart's model: thresholds, the share of batches each clips, the axis.
import * as assert from 'assert';
import { clippedShare, suggestClipping } from '../../../../src/engine/clipping';
import { clippingChartModel, clipThresholds, niceCeiling } from '../../../../src/shared/reportView/clippingChart';
import { lag, layerOf, reportOf } from './fixtures';

describe('webview: clipping thresholds', () => {
  it('counts the share of batches above a threshold; overflowed (null) norms are left out of both counts', () => {
    assert.strictEqual(clippedShare([1, 2, 3, 4], 2.5), 0.5);
    assert.strictEqual(clippedShare([1, 2, 3, 4], 4), 0, 'norm equal to the threshold is not clipped');
    assert.strictEqual(clippedShare([1, 2, 3, 4], 0.5), 1);
    assert.strictEqual(clippedShare([1, null, 3, 4], 3.5), 1 / 3);
    assert.strictEqual(clippedShare([null, null], 1), null);
    assert.strictEqual(clippedShare([], 1), null);
  });

  it("the panel's shares are the engine's, overflowed batches included (one function for both)", () => {
    // Batch norms of unequal sizes with two overflowed batches: the engine's suggestions carry clipped_share;
    // the panel computes the share of a suggestion without one, and of the file's current clip_norm, itself.
    const norms = [0.5, null, 1.5, 2, 8, 3, null, 0.9, 4.5, 1.1, 2.6, 0.7];
    const maxAbs = norms.map((n) => (n === null ? null : n / 3));
    const clipping = suggestClipping(norms, maxAbs);
    const r = reportOf([layerOf([lag(0, 0)])], norms);
    r.clipping = clipping;
    const stripped = reportOf([layerOf([lag(0, 0)])], norms);
    stripped.clipping = {
      ...clipping,
      suggestions: clipping.suggestions.map(({ method, clip_norm }) => ({ method, clip_norm })),
    };
    const fromPanel = clipThresholds(stripped, clipping.recommended.clip_norm);
    for (const s of clipping.suggestions) {
      assert.strictEqual(fromPanel.find((t) => t.source === s.method)?.share, s.clipped_share, s.method);
      assert.strictEqual(clipThresholds(r, null).find((t) => t.source === s.method)?.share, s.clipped_share);
    }
    // The current clip_norm at the mean: the same share as the engine's mean suggestion (4 of 10 finite norms).
    assert.strictEqual(fromPanel.find((t) => t.source === 'current')?.share, 0.4);
    assert.strictEqual(clipping.suggestions.find((s) => s.method === 'mean')?.clipped_share, 0.4);
    assert.match(clipping.recommended.rationale, /rescales 40% of the 10 batches/);
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
