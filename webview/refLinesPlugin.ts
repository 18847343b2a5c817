// A small Chart.js plugin that draws labelled reference lines (clip thresholds, 1/γ, lag cut-offs).
// It replaces chartjs-plugin-annotation: only straight lines with one text label are needed, and drawing
// them from plain objects keeps a 10,000-lag render inside its time budget.
import type { Chart, ChartType, Plugin } from 'chart.js';

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
}

/** The plugin's options: the lines of one chart. */
export interface RefLinesOptions {
  lines: RefLine[];
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

/** Draws every configured line after the datasets, with its label in a filled box. */
export const refLinesPlugin: Plugin<ChartType> = {
  id: 'refLines',
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
    for (const line of lines) {
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
