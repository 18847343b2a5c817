// Unit tests of the heatmap's model: colour range and pixels.
import * as assert from 'assert';
import {
  colourBarTicks,
  colourScale,
  heatmapModel,
  heatmapPixels,
} from '../../../../src/shared/reportView/heatmapChart';

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

  it('colour bar ticks: powers of ten at their places on the log10 bar, at least two, evenly stepped', () => {
    const labels = (min: number, max: number): string[] => colourBarTicks(min, max).map((t) => t.label);
    assert.deepStrictEqual(labels(-6.3, 0.2), ['10⁻⁶', '10⁻⁴', '10⁻²', '1']);
    assert.deepStrictEqual(labels(-408.1, 0.25), ['10⁻⁴⁰⁰', '10⁻²⁰⁰', '1']);
    assert.deepStrictEqual(labels(-3.2, -0.1), ['10⁻³', '10⁻²', '10⁻¹']);
    // Under two decades: 2× and 5× too; a sliver of a decade: the range's ends.
    assert.deepStrictEqual(labels(-2.5, -1.1), ['5×10⁻³', '10⁻²', '2×10⁻²', '5×10⁻²']);
    assert.deepStrictEqual(labels(-2.05, -2.01), ['0.008913', '0.009772']);
    for (const t of colourBarTicks(-6.3, 0.2)) assert.ok(Math.abs(t.at - (t.log10 + 6.3) / 6.5) < 1e-12);
    for (let lo = -50; lo < 0; lo += 0.73)
      for (const span of [0.05, 0.4, 1.2, 2.5, 7, 33, 120, 410]) assert.ok(colourBarTicks(lo, lo + span).length >= 2);
  });
});
