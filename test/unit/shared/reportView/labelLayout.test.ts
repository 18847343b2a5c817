// Unit tests of shared/reportView/labelLayout.ts: the clipping chart's label column keeps each box on its line and
// no two boxes overlapping, whatever the spacing of the lines.
import * as assert from 'assert';
import fc from 'fast-check';
import { layoutGutter, type GutterItem } from '../../../../src/shared/reportView/labelLayout';

function check(items: GutterItem[], minTop: number, maxBottom: number): void {
  const boxes = layoutGutter(items, minTop, maxBottom);
  const seen = boxes.flatMap((b) => b.items).sort((a, b) => a - b);
  assert.deepStrictEqual(
    seen,
    items.map((_, i) => i),
  );
  for (const b of boxes) {
    for (const i of b.items) {
      assert.ok(b.top <= items[i].y && items[i].y <= b.top + b.height, `item ${i} off its box`);
    }
  }
  const sorted = [...boxes].sort((a, b) => a.top - b.top);
  for (let k = 1; k < sorted.length; k++)
    assert.ok(sorted[k].top >= sorted[k - 1].top + sorted[k - 1].height, 'boxes overlap');
}

describe('labelLayout', () => {
  it('keeps lines far apart in boxes of their own, centred on them', () => {
    const boxes = layoutGutter(
      [
        { y: 100, height: 20 },
        { y: 20, height: 20 },
      ],
      0,
      200,
    );
    assert.strictEqual(boxes.length, 2);
    assert.deepStrictEqual(
      boxes.map((b) => [b.items, b.top]),
      [
        [[1], 10],
        [[0], 90],
      ],
    );
  });

  it('merges near-equal lines into one box holding both', () => {
    const boxes = layoutGutter(
      [
        { y: 100, height: 20 },
        { y: 104, height: 20 },
        { y: 30, height: 20 },
      ],
      0,
      200,
    );
    assert.strictEqual(boxes.length, 2);
    assert.deepStrictEqual(boxes[1].items, [0, 1]);
    assert.strictEqual(boxes[1].height, 40);
  });

  it('holds every line in its box and never overlaps boxes (random lines inside the bounds)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ y: fc.double({ min: 10, max: 290, noNaN: true }), height: fc.integer({ min: 12, max: 40 }) }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (items) => check(items, 0, 300 + items.reduce((s, i) => s + i.height, 0)),
      ),
    );
  });
});
