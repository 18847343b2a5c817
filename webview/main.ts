// Report panel front end: receives reports from the extension host and renders them with Chart.js.
//
// Test hook (test-only, documented): when the page defines `window.__RNN_GRADIENTS_TEST__ = true` before this
// script runs (the browser test injects it with the stub acquireVsCodeApi; VS Code never does), the script exposes
// `window.rnnGradientsTest.charts()`: for each drawn chart its id, type, dataset labels and point counts, and its
// reference lines (thresholds, 1/γ, cut-offs) with their labels. Nothing else changes.
import { assertNever, isToWebviewMessage, type ToWebviewMessage } from '../src/shared/webviewProtocol';
import { ReportPanelView } from './reportPanelView';
import { TimelinePanelView } from './timelineView';
import { drawnLabelsOf, refLinesOf, type DrawnLabel } from './refLinesPlugin';
import { watchTheme } from './theme';
import { HostChannel } from './vscodeApi';
import type { Chart } from './charts';

/** What the test hook reports about one chart. */
interface ChartSnapshot {
  id: string;
  type: string;
  /** Each dataset's label, point count and first and last points (x, y as drawn; null for non-XY data). */
  datasets: { label: string; points: number; ends: [XY, XY] | null; values?: (number | null)[] }[];
  /** The category labels (bar charts). */
  labels?: string[];
  annotations: { id: string; label: string; value: number }[];
}

declare global {
  interface Window {
    __RNN_GRADIENTS_TEST__?: boolean;
    rnnGradientsTest?: {
      charts(): ChartSnapshot[];
      /** Where a chart's point is drawn, in client (CSS) pixels: the browser test clicks it. */
      pointAt?(chart: string, dataset: number, index: number): { x: number; y: number } | undefined;
      /** Where a chart drew its plot area, reference lines, label boxes and bars (chart pixels). */
      geometry?(chart: string): ChartGeometry | undefined;
    };
  }
}

interface XY {
  x: number;
  y: number;
}

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A drawn chart's geometry, read from Chart.js and the reference-line plugin (for the browser test). */
interface ChartGeometry {
  width: number;
  height: number;
  area: Rect;
  /** Each reference line's pixel position on its axis (y for horizontal lines, x for vertical ones). */
  lines: { id: string; axis: 'x' | 'y'; at: number }[];
  labels: DrawnLabel[];
  /** The first dataset's bars (bar charts). */
  bars: Rect[];
  /** Every dataset's points (line charts), in pixels. */
  points: XY[][];
  /** The y axis's tick values. */
  yTicks: number[];
  /** The y axis's title as drawn. */
  yTitle: string;
  /** The y axis's ticks as drawn (after Chart.js skipped any): value and label. */
  yTickLabels: { value: number; label: string; at: number }[];
  /** The legend's items: text, swatch style (point style, dash) and where Chart.js drew the item (swatch + text). */
  legend: { text: string; pointStyle: string; lineDash: number[]; box: Rect | null }[];
  /** The legend's font (CSS font shorthand), to measure an item's text. */
  legendFont: string;
}

/** A string option as text ('' for anything else, e.g. an image point style). */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The CSS font the legend draws its text with (its labels' font, else the chart's). */
function legendFontOf(chart: Chart): string {
  const f = ((chart.legend?.options as { labels?: { font?: unknown } } | undefined)?.labels?.font ?? {}) as {
    size?: number;
    family?: string;
    style?: string;
    weight?: string | number | null;
  };
  const size = f.size ?? chart.options.font?.size ?? 12;
  const family = f.family ?? chart.options.font?.family ?? 'sans-serif';
  return `${f.style && f.style !== 'normal' ? `${f.style} ` : ''}${f.weight ? `${f.weight} ` : ''}${size}px ${family}`;
}

function geometryOf(chart: Chart): ChartGeometry {
  const a = chart.chartArea;
  const bars: Rect[] = [];
  const points: XY[][] = [];
  const type = (chart.config as { type?: string }).type;
  chart.data.datasets.forEach((_, i) => {
    const meta = chart.getDatasetMeta(i);
    if (type === 'bar' && i === 0)
      for (const e of meta.data) {
        const p = e.getProps(['x', 'y', 'base', 'width'], true) as {
          x: number;
          y: number;
          base: number;
          width: number;
        };
        bars.push({
          left: p.x - p.width / 2,
          right: p.x + p.width / 2,
          top: Math.min(p.y, p.base),
          bottom: Math.max(p.y, p.base),
        });
      }
    if (type === 'line') points.push(meta.data.map((e) => ({ x: e.x, y: e.y })));
  });
  return {
    width: chart.width,
    height: chart.height,
    area: { left: a.left, top: a.top, right: a.right, bottom: a.bottom },
    lines: refLinesOf(chart).map((l) => ({
      id: l.id,
      axis: l.axis,
      at: chart.scales[l.axis]?.getPixelForValue(l.value) ?? NaN,
    })),
    labels: [...drawnLabelsOf(chart)],
    bars,
    points,
    yTicks: (chart.scales.y?.ticks ?? []).map((t) => t.value),
    yTitle: textOf((chart.options.scales?.y as { title?: { text?: unknown } } | undefined)?.title?.text),
    yTickLabels: (chart.scales.y?.ticks ?? []).map((t, i) => ({
      value: t.value,
      label: Array.isArray(t.label) ? t.label.join(' ') : String(t.label ?? ''),
      at: chart.scales.y.getPixelForTick(i),
    })),
    legend: (chart.legend?.legendItems ?? []).map((i, k) => {
      // Chart.js keeps where it drew each item in legendHitBoxes (not in its typings).
      const hits = (chart.legend as { legendHitBoxes?: { left: number; top: number; width: number; height: number }[] })
        ?.legendHitBoxes;
      const hit = hits?.[k];
      return {
        text: i.text,
        pointStyle: textOf(i.pointStyle),
        lineDash: [...(i.lineDash ?? [])],
        box: hit ? { left: hit.left, top: hit.top, right: hit.left + hit.width, bottom: hit.top + hit.height } : null,
      };
    }),
    legendFont: legendFontOf(chart),
  };
}

/** The first and last points of a dataset whose points are {x, y}. */
function endsOf(data: readonly unknown[]): [XY, XY] | null {
  const isXY = (p: unknown): p is XY =>
    typeof p === 'object' && p !== null && typeof (p as XY).x === 'number' && typeof (p as XY).y === 'number';
  const first = data[0];
  const last = data[data.length - 1];
  return isXY(first) && isXY(last) ? [first, last] : null;
}

function snapshot(charts: Record<string, Chart | undefined>): ChartSnapshot[] {
  return Object.entries(charts)
    .filter((e): e is [string, Chart] => e[1] !== undefined)
    .map(([id, chart]) => ({
      id,
      type: (chart.config as { type?: string }).type ?? '',
      datasets: chart.data.datasets.map((d) => ({
        label: d.label ?? '',
        points: d.data.length,
        ends: endsOf(d.data),
        // Plain numbers (bar charts of a few categories): the values as drawn.
        ...(d.data.length <= 200 && d.data.every((v) => v === null || typeof v === 'number') ? { values: d.data } : {}),
      })),
      ...(chart.data.labels ? { labels: chart.data.labels.map(String) } : {}),
      annotations: refLinesOf(chart).map((l) => ({ id: l.id, label: l.label, value: l.value })),
    }));
}

/** The timeline panel (a page built with mode "timeline"). */
function startTimeline(host: HostChannel, app: HTMLElement): void {
  const saved = host.loadTimelineState();
  const view = new TimelinePanelView(host, app, new Set(saved?.tables ?? []));
  const handle = (message: ToWebviewMessage): void => {
    if (message.type !== 'timeline') return; // the timeline page takes timelines only
    const t0 = performance.now();
    const charts = view.render(message);
    host.post({ type: 'rendered', seq: message.seq, charts, ms: performance.now() - t0 });
  };
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isToWebviewMessage(event.data)) handle(event.data);
  });
  watchTheme(() => view.retheme());
  if (window.__RNN_GRADIENTS_TEST__ === true) {
    window.rnnGradientsTest = {
      charts: () => snapshot(view.charts()),
      pointAt: (id, dataset, index) => {
        const chart = (view.charts() as Record<string, Chart | undefined>)[id];
        const el = chart?.getDatasetMeta(dataset)?.data[index];
        if (!chart || !el) return undefined;
        const box = chart.canvas.getBoundingClientRect();
        return { x: box.left + el.x, y: box.top + el.y };
      },
    };
  }
  if (saved?.timeline) {
    const charts = view.render({ ...saved, timeline: saved.timeline, running: null });
    host.post({ type: 'rendered', seq: 0, charts, ms: 0 });
  }
  host.post({ type: 'ready' });
}

function start(): void {
  const host = new HostChannel();
  const app = document.getElementById('app');
  const progress = document.getElementById('progress');
  if (!app || !progress) return;
  if (app.dataset.mode === 'timeline') {
    startTimeline(host, app);
    return;
  }
  const saved = host.loadState();
  const view = new ReportPanelView(host, app, progress, new Set(saved?.tables ?? []), saved?.heatmapOpen ?? false);
  view.setHeatmapLayer(saved?.heatmapLayer ?? 0);

  const handle = (message: ToWebviewMessage): void => {
    switch (message.type) {
      case 'report': {
        const t0 = performance.now();
        const charts = view.render(
          message.documentUri,
          message.report,
          { clip_norm: message.currentClipNorm, clip_value: message.currentClipValue ?? null },
          message.seq,
          message.partial === true,
        );
        const ms = performance.now() - t0;
        host.post({ type: 'rendered', seq: message.seq, charts, ms, text: view.renderedText() });
        break;
      }
      case 'progress':
        view.setProgress(message.fraction);
        break;
      case 'heatmapFailed':
        view.heatmapFailed(message.message);
        break;
      case 'timeline':
        break; // the report page takes reports only
      case 'stopped':
        view.stopped(message.message, message.previous);
        break;
      default:
        assertNever(message);
    }
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isToWebviewMessage(event.data)) handle(event.data);
  });
  watchTheme(() => view.retheme());

  if (window.__RNN_GRADIENTS_TEST__ === true) {
    window.rnnGradientsTest = {
      charts: () => snapshot(view.charts()),
      geometry: (id) => {
        const chart = (view.charts() as Record<string, Chart | undefined>)[id];
        return chart ? geometryOf(chart) : undefined;
      },
    };
  }

  // A restored panel (window reload) shows its last report at once; the host may send a fresher one.
  if (saved?.report) {
    const charts = view.render(
      saved.documentUri,
      saved.report,
      { clip_norm: saved.currentClipNorm, clip_value: saved.currentClipValue ?? null },
      0,
    );
    host.post({ type: 'rendered', seq: 0, charts, ms: 0, text: view.renderedText() });
  }
  host.post({ type: 'ready' });
}

start();
