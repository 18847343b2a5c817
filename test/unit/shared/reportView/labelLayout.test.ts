// Unit tests of shared/reportView/labelLayout.ts: the clipping chart's label column keeps each box on its line and
// no two boxes overlapping, whatever the spacing of the lines.
import * as assert from 'assert';
import fc from 'fast-check';
import {
  BAND_GAP,
  bandRows,
  layoutBand,
  layoutGutter,
  type BandItem,
  type GutterItem,
} from '../../../../src/shared/reportView/labelLayout';

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

  it('band above the plot: each label starts or ends at its line, none overlaps another or sits on another line', () => {
    const checkBand = (items: BandItem[], left: number, right: number): void => {
      const boxes = layoutBand(items, left, right);
      const placed = boxes.map((b, i) => ({ ...b, right: b.left + items[i].width, x: items[i].x }));
      placed.forEach((b, i) => {
        const where = JSON.stringify({ items, placed });
        if (items[i].width <= right - left) {
          assert.ok(b.left >= left - 1e-9 && b.right <= right + 1e-9, `outside: ${where}`);
          if (b.x >= left && b.x <= right)
            assert.ok(
              Math.abs(b.left - b.x) < 1e-9 || Math.abs(b.right - b.x) < 1e-9 || b.left === left || b.right === right,
              `off its line: ${where}`,
            );
        }
        placed.forEach((o, j) => {
          if (i === j) return;
          if (o.row === b.row)
            assert.ok(b.right + BAND_GAP <= o.left + 1e-9 || o.right + BAND_GAP <= b.left + 1e-9, `overlap: ${where}`);
          // Line j runs from the plot up to row o.row: it must not cross a box in a lower row. A line on the box's
          // edge (within half a pixel, as layoutBand allows: a box placed right-aligned has left = right − width)
          // touches it, not crosses it.
          if (b.row < o.row)
            assert.ok(!(b.left + 0.5 < o.x && o.x < b.right - 0.5), `line ${j} crosses box ${i}: ${where}`);
        });
      });
    };
    // The 10,000-lag chart: cut-offs 10, 50 and 100 a pixel apart at the left edge.
    const crowded = [10, 50, 100].map((c) => ({ x: 60 + (c / 10000) * 900, width: 150 }));
    checkBand(crowded, 60, 960);
    assert.strictEqual(bandRows(layoutBand(crowded, 60, 960)), 3);
    // Far apart: one row.
    assert.strictEqual(
      bandRows(
        layoutBand(
          [10, 50].map((c) => ({ x: (c / 99) * 900, width: 110 })),
          0,
          900,
        ),
      ),
      1,
    );
    assert.strictEqual(bandRows(layoutBand([], 0, 900)), 0);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            x: fc.double({ min: 0, max: 800, noNaN: true }),
            width: fc.double({ min: 20, max: 300, noNaN: true }),
          }),
          {
            maxLength: 5,
          },
        ),
        (items) => checkBand(items, 0, 800),
      ),
      { numRuns: 1000 },
    );
    // Found by the property: two lines at the same x (to 1e-13) by the right edge.
    checkBand(
      [
        { x: 766.860476727326, width: 20 },
        { x: 766.8604767273262, width: 33.13952327267401 },
      ],
      0,
      800,
    );
  });
});
