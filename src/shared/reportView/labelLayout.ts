// Lays out the labels of horizontal reference lines in a column beside the plot (the clipping chart's thresholds):
// each label box stays on its own line (the line's y lies inside the box), no two boxes overlap, and lines too
// close for separate boxes share one box with a row per line.

/** One line to label: its y (pixels, down) and the height its label box needs. */
export interface GutterItem {
  y: number;
  height: number;
}

/** One box of the laid-out column: the items (indices into the input) it labels, in y order, and its top. */
export interface GutterBox {
  items: number[];
  top: number;
  height: number;
}

/** Clearance kept between a line and its box's top or bottom edge, and between boxes. */
export const GUTTER_CLEARANCE = 2;

/**
 * Places one box per item, centred on its line where possible, inside [minTop, maxBottom]; boxes that would overlap
 * or leave their line are merged with their neighbour (the merged box is as tall as the sum of its rows).
 */
export function layoutGutter(items: GutterItem[], minTop: number, maxBottom: number): GutterBox[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a].y - items[b].y);
  let clusters: number[][] = order.map((i) => [i]);
  for (let round = 0; round <= items.length; round++) {
    const boxes = clusters.map((c) => place(c, items, minTop, maxBottom));
    let merged = false;
    const next: number[][] = [];
    for (let k = 0; k < boxes.length; k++) {
      const prev = next.length ? boxes[k - 1] : null;
      const box = boxes[k];
      const clash = prev !== null && box.top < prev.top + prev.height + GUTTER_CLEARANCE;
      if (clash && !merged) {
        next[next.length - 1] = [...next[next.length - 1], ...box.items];
        merged = true;
      } else next.push(box.items);
    }
    clusters = next;
    if (!merged) return boxes;
  }
  return clusters.map((c) => place(c, items, minTop, maxBottom));
}

/** A cluster's box: its rows' heights summed, centred on its lines' span, holding every line, inside the bounds. */
function place(cluster: number[], items: GutterItem[], minTop: number, maxBottom: number): GutterBox {
  const height = cluster.reduce((s, i) => s + items[i].height, 0);
  const ys = cluster.map((i) => items[i].y);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  let top = (lo + hi) / 2 - height / 2;
  // Keep every line inside the box (with clearance), as far as the box's height allows …
  top = Math.min(top, lo - GUTTER_CLEARANCE);
  top = Math.max(top, hi + GUTTER_CLEARANCE - height);
  // … and the box inside the bounds.
  top = Math.max(minTop, Math.min(top, maxBottom - height));
  return { items: cluster, top, height };
}

/** One vertical line to label in the band above the plot: its x (pixels) and its label's width. */
export interface BandItem {
  x: number;
  width: number;
}

/** Where a band label goes: its row (0 is the row next to the plot, counting upwards) and its left edge. */
export interface BandBox {
  row: number;
  left: number;
}

/** Space kept between two labels of one band row. */
export const BAND_GAP = 6;

/**
 * Lays out the labels of vertical lines in rows above the plot (the contribution chart's cut-offs): each label box
 * starts at its line (or ends at it, near the right edge), so the line runs up to its own box; boxes of a row do not
 * overlap, and no line runs up through another line's box (a line's box is never in a row above a box that spans
 * its x). Rows are filled from the plot upwards, lines from right to left. Bounds: [left, right] in pixels.
 */
export function layoutBand(items: BandItem[], left: number, right: number): BandBox[] {
  const out: BandBox[] = new Array<BandBox>(items.length);
  const placed: { row: number; left: number; right: number; x: number }[] = [];
  const order = items.map((_, i) => i).sort((a, b) => items[b].x - items[a].x);
  for (const i of order) {
    const { x, width } = items[i];
    const clamp = (l: number): number => Math.max(left, Math.min(l, right - width));
    const anchors = [clamp(x), clamp(x - width)];
    for (let row = 0; ; row++) {
      const fits = anchors.find(
        (l) =>
          placed.every((p) => {
            const r = l + width;
            if (p.row === row) return r + BAND_GAP <= p.left || p.right + BAND_GAP <= l;
            // No line through a box below its own: this line under a lower box, or a higher line under this one.
            // (A line on a box's edge, within half a pixel, does not cross it.)
            if (p.row < row) return !(p.left + 0.5 < x && x < p.right - 0.5);
            return !(l + 0.5 < p.x && p.x < r - 0.5);
          }) || row > items.length,
      );
      if (fits !== undefined) {
        out[i] = { row, left: fits };
        placed.push({ row, left: fits, right: fits + width, x });
        break;
      }
    }
  }
  return out;
}

/** How many rows a band layout uses. */
export function bandRows(boxes: BandBox[]): number {
  return boxes.reduce((n, b) => Math.max(n, b.row + 1), 0);
}
