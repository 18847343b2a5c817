// Unit tests of the heatmap's model: colour range and pixels.
import * as assert from 'assert';
import { colourScale, heatmapModel, heatmapPixels } from '../../../../src/shared/reportView/heatmapChart';

describe("webview: Pascanu's condition, cards, heatmap", () => {
  it('finds the colour range of a heatmap and paints empty cells transparent', () => {
    const m = heatmapModel({
      layer: 0,
      direction: 'forward' as const,
      sequence: 0,
      length: 4,
      bin: 2,
      size: 2,
      log10_norm: [0, null, -3, -1],
    })!;
    assert.deepStrictEqual([m.min, m.max], [-3, 0]);
    const px = heatmapPixels(m);
    assert.strictEqual(px.length, 16);
    assert.strictEqual(px[7], 0, 'the null cell is transparent');
    assert.deepStrictEqual(Array.from(px.slice(8, 11)), colourScale(0));
    assert.deepStrictEqual(Array.from(px.slice(0, 3)), colourScale(1));
    assert.strictEqual(
      heatmapModel({
        layer: 0,
        direction: 'forward' as const,
        sequence: 0,
        length: 4,
        bin: 2,
        size: 2,
        log10_norm: [null, null, null, null],
      }),
      null,
    );
    assert.strictEqual(
      heatmapModel({
        layer: 0,
        direction: 'forward' as const,
        sequence: 0,
        length: 4,
        bin: 2,
        size: 2,
        log10_norm: [1],
      }),
      null,
      'wrong cell count',
    );
  });
});
