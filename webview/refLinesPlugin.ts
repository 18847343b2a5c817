// A small Chart.js plugin that draws labelled reference lines (clip thresholds, 1/γ, lag cut-offs).
// It replaces chartjs-plugin-annotation: only straight lines with one text label are needed, and drawing
// them from plain objects keeps a 10,000-lag render inside its time budget.
import { layouts, type Chart, type ChartArea, type ChartType, type Plugin } from 'chart.js';
import { bandRows, layoutBand, layoutGutter, type BandBox } from '../src/shared/reportView/labelLayout';

/** One reference line across the plot area. */
export interface RefLine {
  /** Stable id (test hook, debugging). */
  id: string;
  /** 'y': a horizontal line at y = value; 'x': a vertical line at x = value. */
  axis: 'x' | 'y';
  value: number;
  colour: string;
  width: number;
  dash: number[];
  /** Drawn as text on the canvas (never parsed as HTML). */
  label: string;
  /** Where along the line the label sits. */
  position: 'start' | 'center' | 'end';
  labelColour: string;
  labelBackground: string;
  /** Rows drawn instead of `label` when the labels sit in the gutter (`label` stays the one-line text). */
  rows?: string[];
}

/** The plugin's options: the lines of one chart. */
export interface RefLinesOptions {
  lines: RefLine[];
  /**
   * Horizontal lines only: their labels go in a column right of the plot area, each box on its own line's y (lines
   * too close share one box, a row each), so no label covers the data. The chart reserves the column with
   * `layout.padding.right` = `width` (see gutterWidth).
   */
  gutter?: { width: number };
  /**
   * Vertical lines only: their labels go in rows above the plot area (layoutBand), each box starting or ending at its
   * line, which runs up to it; so no label covers the data. The plugin reserves the rows as a layout box.
   */
  band?: boolean;
}

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the augmentation must repeat chart.js's type parameter
  interface PluginOptionsByType<TType extends ChartType> {
    /** Labelled reference lines (webview/refLinesPlugin.ts). */
    refLines?: RefLinesOptions;
  }
}

function linesOf(chart: Chart): RefLine[] {
  const opts = (chart.options.plugins as { refLines?: RefLinesOptions } | undefined)?.refLines;
  return opts?.lines ?? [];
}

/** The lines configured on a chart (for the test hook). */
export function refLinesOf(chart: Chart): readonly RefLine[] {
  return linesOf(chart);
}

const PAD = 3;

/** A label box as drawn (canvas pixels), with the ids of the lines it labels (for the test hook). */
export interface DrawnLabel {
  ids: string[];
  x: number;
  y: number;
  w: number;
  h: number;
  /** The right end of the widest text row drawn in the box. */
  textRight: number;
}

const drawn = new WeakMap<Chart, DrawnLabel[]>();

/** The label boxes drawn on a chart at its last draw (for the test hook's geometry checks). */
export function drawnLabelsOf(chart: Chart): readonly DrawnLabel[] {
  return drawn.get(chart) ?? [];
}

/** The height of one row of gutter text at this font size. */
function rowHeight(size: number): number {
  return size + 4;
}

/** Space between the plot area and the gutter's boxes (the line runs across it to its box). */
const GUTTER_GAP = 8;

/** Width of the swatch (a short stretch of the line) in front of each gutter row. */
const SWATCH = 14;

let measureContext: CanvasRenderingContext2D | null = null;

/** The gutter width that fits these rows in this font (the chart reserves it with layout.padding.right). */
export function gutterWidth(rows: string[], font: string): number {
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (!measureContext || !rows.length) return 0;
  measureContext.font = font;
  const widest = Math.max(...rows.map((r) => measureContext!.measureText(r).width));
  return Math.ceil(widest + SWATCH + 4 * PAD + GUTTER_GAP + 2);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Moves a label box along the line's cross axis until it clears the labels already placed (a few tries). */
function place(
  box: Box,
  placed: Box[],
  horizontal: boolean,
  area: { top: number; bottom: number; left: number; right: number },
): Box {
  const step = horizontal ? box.h + 2 : box.w + 2;
  for (let k = 0; k < 12; k++) {
    // 0, −1, +1, −2, +2, …: try above/left first, then below/right.
    const shift = (k % 2 === 1 ? -1 : 1) * Math.ceil(k / 2) * step;
    const candidate = horizontal ? { ...box, y: box.y + shift } : { ...box, x: box.x + shift };
    const inside = horizontal
      ? candidate.y >= area.top - 1 && candidate.y + candidate.h <= area.bottom + 1
      : candidate.x >= area.left - 1 && candidate.x + candidate.w <= area.right + 1;
    if (inside && !placed.some((b) => overlaps(b, candidate))) return candidate;
  }
  return box;
}

/** Height of one band row's box, and the space between rows. */
function bandRowHeight(size: number): number {
  return size + 2 * PAD;
}
const BAND_ROW_GAP = 3;

/** The font of the labels (the chart's). */
function labelFont(chart: Chart): { size: number; css: string } {
  const font = chart.options.font ?? {};
  const size = typeof font.size === 'number' ? font.size : 12;
  return { size, css: `${size}px ${typeof font.family === 'string' ? font.family : 'sans-serif'}` };
}

/** The band's labels: the vertical lines with a label, their text widths, and x positions for a plot [left, right]. */
function bandItems(chart: Chart, left: number, right: number): { line: RefLine; x: number; width: number }[] {
  const lines = linesOf(chart).filter((l) => l.axis === 'x' && l.label);
  if (!lines.length) return [];
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (!measureContext) return [];
  measureContext.font = labelFont(chart).css;
  // While the layout is fitted the x scale has no pixels yet: place by its configured range over [left, right].
  const xOpts = (chart.options.scales?.x ?? {}) as { min?: unknown; max?: unknown };
  const min = typeof xOpts.min === 'number' ? xOpts.min : 0;
  const max = typeof xOpts.max === 'number' ? xOpts.max : 1;
  const out: { line: RefLine; x: number; width: number }[] = [];
  for (const line of lines) {
    if (line.value < min || line.value > max) continue;
    const x = left + ((line.value - min) / (max - min || 1)) * (right - left);
    out.push({ line, x, width: measureContext.measureText(line.label).width + 2 * PAD });
  }
  return out;
}

/** The layout box holding the band's rows above the plot, per chart. */
const bands = new WeakMap<Chart, BandLayoutBox>();

interface BandLayoutBox {
  position: 'top';
  weight: number;
  fullSize: boolean;
  /** Chart.js reads a box's stack options. */
  options: { display: boolean };
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  isHorizontal(): boolean;
  update(width: number, height: number): void;
  draw(area: ChartArea): void;
}

function bandBox(chart: Chart): BandLayoutBox {
  const box: BandLayoutBox = {
    position: 'top',
    // Nearest to the plot of the top boxes; as wide as the plot area (not the whole canvas).
    weight: 1000,
    fullSize: false,
    options: { display: true },
    width: 0,
    height: 0,
    left: 0,
    top: 0,
    right: 0,
    bottom: 0,
    isHorizontal: () => true,
    update(width) {
      const items = bandItems(chart, 0, width);
      const rows = bandRows(layoutBand(items, 0, width));
      const size = labelFont(chart).size;
      box.width = width;
      box.height = rows ? rows * (bandRowHeight(size) + BAND_ROW_GAP) + BAND_ROW_GAP : 0;
    },
    draw() {
      // The labels are drawn with their lines, after the datasets.
    },
  };
  return box;
}

/** Draws every configured line after the datasets, with its label in a filled box. */
export const refLinesPlugin: Plugin<ChartType> = {
  id: 'refLines',
  beforeUpdate(chart) {
    const want = (chart.options.plugins as { refLines?: RefLinesOptions } | undefined)?.refLines?.band === true;
    const box = bands.get(chart);
    if (want && !box) {
      const created = bandBox(chart);
      bands.set(chart, created);
      layouts.addBox(chart, created);
    } else if (!want && box) {
      layouts.removeBox(chart, box);
      bands.delete(chart);
    }
  },
  afterDatasetsDraw(chart) {
    const lines = linesOf(chart);
    if (!lines.length) return;
    const { ctx, chartArea: area } = chart;
    const font = chart.options.font ?? {};
    const size = typeof font.size === 'number' ? font.size : 12;
    ctx.save();
    ctx.font = `${size}px ${typeof font.family === 'string' ? font.family : 'sans-serif'}`;
    ctx.textBaseline = 'middle';
    const placed: Box[] = [];
    const labels: DrawnLabel[] = [];
    drawn.set(chart, labels);
    const gutter = (chart.options.plugins as { refLines?: RefLinesOptions } | undefined)?.refLines?.gutter;
    const inGutter = gutter
      ? drawGutter(
          chart,
          ctx,
          lines.filter((l) => l.axis === 'y'),
          gutter.width,
          size,
          labels,
        )
      : new Set<RefLine>();
    const inBand = bands.has(chart) ? drawBand(chart, ctx, size, labels) : new Set<RefLine>();
    for (const line of lines) {
      if (inGutter.has(line) || inBand.has(line)) continue;
      const scale = chart.scales[line.axis];
      if (!scale) continue;
      const p = scale.getPixelForValue(line.value);
      const horizontal = line.axis === 'y';
      if (
        !Number.isFinite(p) ||
        (horizontal ? p < area.top - 0.5 || p > area.bottom + 0.5 : p < area.left - 0.5 || p > area.right + 0.5)
      )
        continue;
      ctx.beginPath();
      ctx.setLineDash(line.dash);
      ctx.lineWidth = line.width;
      ctx.strokeStyle = line.colour;
      if (horizontal) {
        ctx.moveTo(area.left, p);
        ctx.lineTo(area.right, p);
      } else {
        ctx.moveTo(p, area.top);
        ctx.lineTo(p, area.bottom);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      if (!line.label) continue;
      const w = ctx.measureText(line.label).width + 2 * PAD;
      const h = size + 2 * PAD;
      let x: number;
      let y: number;
      if (horizontal) {
        x =
          line.position === 'start'
            ? area.left + 4
            : line.position === 'end'
              ? area.right - 4 - w
              : (area.left + area.right - w) / 2;
        y = p - h - 2 >= area.top ? p - h - 2 : p + 2;
      } else {
        x = p + 4 + w <= area.right ? p + 4 : p - 4 - w;
        y =
          line.position === 'start'
            ? area.top + 2
            : line.position === 'end'
              ? area.bottom - h - 2
              : (area.top + area.bottom - h) / 2;
      }
      const box = place({ x, y, w, h }, placed, horizontal, area);
      placed.push(box);
      labels.push({ ids: [line.id], ...box, textRight: box.x + w - PAD });
      ctx.fillStyle = line.labelBackground;
      ctx.fillRect(box.x, box.y, w, h);
      ctx.lineWidth = 1;
      ctx.strokeStyle = line.colour;
      ctx.strokeRect(box.x + 0.5, box.y + 0.5, w - 1, h - 1);
      ctx.fillStyle = line.labelColour;
      ctx.fillText(line.label, box.x + PAD, box.y + h / 2);
    }
    ctx.restore();
  },
};

function strokeLine(ctx: CanvasRenderingContext2D, line: RefLine, x0: number, x1: number, y: number): void {
  ctx.beginPath();
  ctx.setLineDash(line.dash);
  ctx.lineWidth = line.width;
  ctx.strokeStyle = line.colour;
  ctx.moveTo(x0, y);
  ctx.lineTo(x1, y);
  ctx.stroke();
  ctx.setLineDash([]);
}

/**
 * Draws horizontal lines with their labels in the gutter right of the plot area: each line runs across the plot and
 * on to its box, which holds the line's y. Returns the lines drawn.
 */
function drawGutter(
  chart: Chart,
  ctx: CanvasRenderingContext2D,
  lines: RefLine[],
  width: number,
  size: number,
  labels: DrawnLabel[],
): Set<RefLine> {
  const area = chart.chartArea;
  const scale = chart.scales.y;
  const row = rowHeight(size);
  const shown: { line: RefLine; y: number; rows: string[] }[] = [];
  for (const line of lines) {
    const y = scale?.getPixelForValue(line.value);
    if (y === undefined || !Number.isFinite(y) || y < area.top - 0.5 || y > area.bottom + 0.5) continue;
    shown.push({ line, y, rows: line.rows?.length ? line.rows : [line.label] });
  }
  const boxes = layoutGutter(
    shown.map((s) => ({ y: s.y, height: s.rows.length * row + 2 * PAD })),
    Math.max(0, area.top - row),
    Math.min(chart.height, area.bottom + row),
  );
  const x = area.right + GUTTER_GAP;
  const w = Math.max(0, Math.min(width - GUTTER_GAP - 2, chart.width - x - 1));
  for (const box of boxes) {
    // Each line across the plot and the gap, up to its box.
    for (const i of box.items) strokeLine(ctx, shown[i].line, area.left, x, shown[i].y);
    ctx.fillStyle = shown[box.items[0]].line.labelBackground;
    ctx.fillRect(x, box.top, w, box.height);
    ctx.lineWidth = 1;
    ctx.strokeStyle = shown[box.items[0]].line.colour;
    ctx.strokeRect(x + 0.5, box.top + 0.5, w - 1, box.height - 1);
    let rowTop = box.top + PAD;
    let textRight = x;
    for (const i of box.items) {
      const { line, rows } = shown[i];
      rows.forEach((text, r) => {
        const mid = rowTop + row / 2;
        if (r === 0) strokeLine(ctx, line, x + PAD, x + PAD + SWATCH, mid);
        ctx.fillStyle = line.labelColour;
        ctx.fillText(text, x + 2 * PAD + SWATCH, mid);
        textRight = Math.max(textRight, x + 2 * PAD + SWATCH + ctx.measureText(text).width);
        rowTop += row;
      });
    }
    labels.push({ ids: box.items.map((i) => shown[i].line.id), x, y: box.top, w, h: box.height, textRight });
  }
  return new Set(shown.map((s) => s.line));
}

/**
 * Draws vertical lines with their labels in the band above the plot area: each line runs from the plot's bottom up
 * to its box in the band (layoutBand keeps the boxes off each other and off other lines). Returns the lines drawn.
 */
function drawBand(chart: Chart, ctx: CanvasRenderingContext2D, size: number, labels: DrawnLabel[]): Set<RefLine> {
  const area = chart.chartArea;
  const scale = chart.scales.x;
  const items = bandItems(chart, area.left, area.right).map((item) => ({
    ...item,
    x: scale ? scale.getPixelForValue(item.line.value) : item.x,
  }));
  const boxes: BandBox[] = layoutBand(items, area.left, area.right);
  const h = bandRowHeight(size);
  items.forEach((item, i) => {
    const { line, x, width: w } = item;
    const b = boxes[i];
    const y = area.top - (b.row + 1) * (h + BAND_ROW_GAP);
    ctx.beginPath();
    ctx.setLineDash(line.dash);
    ctx.lineWidth = line.width;
    ctx.strokeStyle = line.colour;
    ctx.moveTo(x, area.bottom);
    ctx.lineTo(x, y + h);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = line.labelBackground;
    ctx.fillRect(b.left, y, w, h);
    ctx.lineWidth = 1;
    ctx.strokeStyle = line.colour;
    ctx.strokeRect(b.left + 0.5, y + 0.5, w - 1, h - 1);
    ctx.fillStyle = line.labelColour;
    ctx.fillText(line.label, b.left + PAD, y + h / 2);
    labels.push({ ids: [line.id], x: b.left, y, w, h, textRight: b.left + w - PAD });
  });
  return new Set(items.map((i) => i.line));
}
