// Report panel front end: receives reports from the extension host and renders them with Chart.js.
//
// Test hook (test-only, documented): when the page defines `window.__RNN_GRADIENTS_TEST__ = true` before this
// script runs (the browser test injects it with the stub acquireVsCodeApi; VS Code never does), the script exposes
// `window.rnnGradientsTest.charts()`: for each drawn chart its id, type, dataset labels and point counts, and its
// reference lines (thresholds, 1/γ, cut-offs) with their labels. Nothing else changes.
import { assertNever, isToWebviewMessage, type ToWebviewMessage } from '../src/shared/webviewProtocol';
import { ReportPanelView } from './reportPanelView';
import { refLinesOf } from './refLinesPlugin';
import { watchTheme } from './theme';
import { HostChannel } from './vscodeApi';

/** What the test hook reports about one chart. */
interface ChartSnapshot {
  id: string;
  type: string;
  /** Each dataset's label, point count and first and last points (x, y as drawn; null for non-XY data). */
  datasets: { label: string; points: number; ends: [XY, XY] | null }[];
  annotations: { id: string; label: string; value: number }[];
}

declare global {
  interface Window {
    __RNN_GRADIENTS_TEST__?: boolean;
    rnnGradientsTest?: { charts(): ChartSnapshot[] };
  }
}

interface XY {
  x: number;
  y: number;
}

/** The first and last points of a dataset whose points are {x, y}. */
function endsOf(data: readonly unknown[]): [XY, XY] | null {
  const isXY = (p: unknown): p is XY =>
    typeof p === 'object' && p !== null && typeof (p as XY).x === 'number' && typeof (p as XY).y === 'number';
  const first = data[0];
  const last = data[data.length - 1];
  return isXY(first) && isXY(last) ? [first, last] : null;
}

function start(): void {
  const host = new HostChannel();
  const saved = host.loadState();
  const app = document.getElementById('app');
  const progress = document.getElementById('progress');
  if (!app || !progress) return;
  const view = new ReportPanelView(host, app, progress, new Set(saved?.tables ?? []), saved?.heatmapOpen ?? false);
  view.setHeatmapLayer(saved?.heatmapLayer ?? 0);

  const handle = (message: ToWebviewMessage): void => {
    switch (message.type) {
      case 'report': {
        const t0 = performance.now();
        const charts = view.render(
          message.documentUri,
          message.report,
          message.currentClipNorm,
          message.seq,
          message.partial === true,
        );
        host.post({ type: 'rendered', seq: message.seq, charts, ms: performance.now() - t0 });
        break;
      }
      case 'progress':
        view.setProgress(message.fraction);
        break;
      case 'heatmapFailed':
        view.heatmapFailed(message.message);
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
      charts: () =>
        Object.entries(view.charts()).map(([id, chart]) => {
          return {
            id,
            type: (chart.config as { type?: string }).type ?? '',
            datasets: chart.data.datasets.map((d) => ({
              label: d.label ?? '',
              points: d.data.length,
              ends: endsOf(d.data),
            })),
            annotations: refLinesOf(chart).map((l) => ({ id: l.id, label: l.label, value: l.value })),
          };
        }),
    };
  }

  // A restored panel (window reload) shows its last report at once; the host may send a fresher one.
  if (saved?.report) {
    const charts = view.render(saved.documentUri, saved.report, saved.currentClipNorm, 0);
    host.post({ type: 'rendered', seq: 0, charts, ms: 0 });
  }
  host.post({ type: 'ready' });
}

start();
