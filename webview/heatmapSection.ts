// The heatmap section of the report panel: one sequence's (t, j) map in a <details> that asks the host for the map
// when opened (it costs an extra pass of the engine), a layer picker, a colour legend and a hover readout.
import type { Report } from '../src/engine/report/types';
import { formatFromLog10 } from '../src/engine/report/format';
import { layerTitle } from '../src/engine/report/layers';
import {
  colourBarTicks,
  colourScale,
  heatmapModel,
  heatmapPixels,
  type HeatmapModel,
} from '../src/shared/reportView/heatmapChart';
import { heatmapChartConfig, upsertChart } from './charts';
import { ChartSection, type ChartSectionHost } from './chartSection';
import { button, el, table } from './dom';
import type { Theme } from './theme';

/** What the heatmap section asks of the panel. */
export interface HeatmapSectionHost extends ChartSectionHost {
  /** The report shown now, if any. */
  report(): Report | null;
  theme(): Theme;
  /** Asks the extension host for a re-analysis with the map. */
  requestHeatmap(): void;
  /** The open state or the layer changed (persisted in the webview state). */
  stateChanged(): void;
}

/** The heatmap section (its ChartSection inside a <details>). */
export class HeatmapSection {
  readonly section: ChartSection;
  /** The <details> the panel places on the page. */
  readonly details: HTMLDetailsElement;
  private readonly status = el('p', { className: 'status', attrs: { role: 'status' } });
  private readonly layerSelect = el('select', { attrs: { 'aria-label': 'Layer of the heatmap' } });
  private readonly legend = el('canvas', {
    className: 'colour-legend',
    attrs: { width: '318', height: '12', role: 'img' },
  });
  /** The colour bar's tick labels, under the bar at their places. */
  private readonly legendTicks = el('div', { className: 'colour-ticks' });
  private readonly legendTitle = el('span', { className: 'legend-title', text: '‖∂εₜ/∂sⱼ‖, log scale:' });
  private readonly hover = el('p', { className: 'hover-readout', attrs: { 'aria-live': 'polite' } });
  private readonly legendRow = el('div', { className: 'colour-legend-row' });
  /** The heatmap's pixels at one pixel per cell; the chart plugin scales it into the plot area. */
  private readonly image = document.createElement('canvas');
  private shown: HeatmapModel | null = null;
  private pending = false;
  private failedMessage: string | null = null;
  private layerIndex = 0;

  constructor(
    private readonly host: HeatmapSectionHost,
    open: boolean,
  ) {
    this.section = new ChartSection(
      'heatmap',
      'Heatmap of one sequence',
      'log10 ‖∂ε_t/∂s_j‖ for every pair of steps (t, j) of the first sequence, binned; empty above the diagonal (no gradient flows backwards in time). Computed on request: it costs an extra pass of the engine.',
      host,
      'h3',
    );
    this.layerSelect.addEventListener('change', () => {
      this.layerIndex = Number(this.layerSelect.value) || 0;
      this.render();
      this.host.stateChanged();
    });
    this.section.toolbar.prepend(this.layerSelect);
    this.section.notes.append(this.status, this.legendRow, this.hover);
    this.legendRow.append(this.legendTitle, el('div', { className: 'colour-bar' }, [this.legend, this.legendTicks]));
    this.section.canvas.addEventListener('mousemove', (e) => this.describeCell(e));
    this.details = el('details', { className: 'heatmap' }, [
      el('summary', { text: 'Heatmap of one sequence (t, j)' }),
      this.section.root,
    ]);
    this.details.open = open;
    this.details.addEventListener('toggle', () => {
      this.host.stateChanged();
      if (this.details.open) {
        this.failedMessage = null;
        this.render();
      }
    });
  }

  /** Whether the section is open. */
  get open(): boolean {
    return this.details.open;
  }

  /** Index into report.heatmaps of the layer shown. */
  get layer(): number {
    return this.layerIndex;
  }

  /** Which layer to show first (restored state). */
  setLayer(index: number): void {
    this.layerIndex = index;
  }

  /** The host could not compute the map. */
  failed(message: string): void {
    this.pending = false;
    this.failedMessage = message;
    this.render();
  }

  /**
   * A report is about to be shown: a request is no longer pending once a report carries maps, and a report of
   * another document starts afresh (no pending request, no failure).
   */
  reportArriving(report: Report, otherDocument: boolean): void {
    if (otherDocument) {
      this.pending = false;
      this.failedMessage = null;
    }
    if (report.heatmaps?.length) this.pending = false;
  }

  /** Draws the shown report's map (when the section is open), or asks the host for one. */
  render(): void {
    const report = this.host.report();
    if (!report || !this.details.open) return;
    const maps = report.heatmaps ?? [];
    const section = this.section;
    const showMap = (on: boolean): void => {
      section.setAvailable(on);
      this.legendRow.hidden = !on;
      this.hover.hidden = !on;
      if (!on) {
        section.chart?.destroy();
        section.chart = undefined;
        this.shown = null;
      }
    };
    if (!maps.length) {
      showMap(false);
      this.layerSelect.hidden = true;
      if (this.failedMessage !== null) {
        this.status.replaceChildren(
          el('span', { text: `The heatmap could not be computed: ${this.failedMessage} ` }),
          button('Retry', () => this.request(), { attrs: { 'data-focus-key': 'heatmap-retry' } }),
        );
      } else {
        this.status.textContent = 'Computing the (t, j) map for this model…';
        this.request();
      }
      return;
    }
    this.failedMessage = null;
    const options = maps.map((m, i) =>
      el('option', {
        text: `${layerTitle(m.layer, m.direction)}, sequence ${m.sequence + 1}`,
        attrs: { value: String(i) },
      }),
    );
    this.layerSelect.replaceChildren(...options);
    this.layerIndex = Math.min(this.layerIndex, maps.length - 1);
    this.layerSelect.value = String(this.layerIndex);
    this.layerSelect.hidden = maps.length < 2;
    const model = heatmapModel(maps[this.layerIndex]);
    this.shown = model;
    if (!model) {
      this.status.textContent = 'This heatmap holds no gradient (every cell is empty or zero).';
      showMap(false);
      return;
    }
    showMap(true);
    this.status.textContent = `${model.label}, sequence ${model.sequence + 1} of length ${model.length}; each cell covers ${model.bin}×${model.bin} steps and holds its largest norm.`;
    this.image.width = model.size;
    this.image.height = model.size;
    const ctx = this.image.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(heatmapPixels(model), model.size, model.size), 0, 0);
    this.paintLegend(model);
    section.chart?.destroy();
    section.chart = upsertChart(undefined, section.canvas, heatmapChartConfig(model, this.image, this.host.theme()));
    section.setTableBuilder(() => {
      const headers = ['t \\ j', ...Array.from({ length: model.size }, (_, k) => String(k * model.bin))];
      const rows: string[][] = [];
      for (let r = 0; r < model.size; r++) {
        const row = [String(r * model.bin)];
        for (let c = 0; c < model.size; c++) {
          const v = model.values[r * model.size + c];
          row.push(v === null ? '' : formatFromLog10(v));
        }
        rows.push(row);
      }
      return table('Largest ‖∂ε_t/∂s_j‖ per (t, j) cell; rows and columns start at the step shown', headers, rows);
    });
  }

  private request(): void {
    if (this.pending) return;
    this.pending = true;
    this.failedMessage = null;
    this.status.textContent = 'Computing the (t, j) map for this model…';
    this.host.requestHeatmap();
  }

  private paintLegend(model: HeatmapModel): void {
    const c = this.legend;
    const ctx = c.getContext('2d');
    if (ctx) {
      for (let x = 0; x < c.width; x++) {
        const [r, g, b] = colourScale(x / (c.width - 1));
        ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
        ctx.fillRect(x, 0, 1, c.height);
      }
    }
    const ticks = colourBarTicks(model.min, model.max);
    c.setAttribute(
      'aria-label',
      `Colour scale, log10 of the norm, from ${formatFromLog10(model.min)} to ${formatFromLog10(model.max)}; ticks at ${ticks.map((t) => t.label).join(', ')}`,
    );
    // Each label centred under its place on the bar (CSSOM styles: the page's CSP allows no inline style markup).
    this.legendTicks.replaceChildren(
      ...ticks.map((t) => {
        const tick = el('span', { className: 'legend-tick', text: t.label });
        tick.style.left = `${(t.at * 100).toFixed(3)}%`;
        tick.dataset.log10 = String(t.log10);
        return tick;
      }),
    );
  }

  private describeCell(e: MouseEvent): void {
    const chart = this.section.chart;
    const m = this.shown;
    if (!chart || !m) return;
    const rect = this.section.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const a = chart.chartArea;
    if (x < a.left || x > a.right || y < a.top || y > a.bottom) {
      this.hover.textContent = '';
      return;
    }
    const col = Math.min(m.size - 1, Math.floor(((x - a.left) / (a.right - a.left)) * m.size));
    const row = Math.min(m.size - 1, Math.floor(((y - a.top) / (a.bottom - a.top)) * m.size));
    const v = m.values[row * m.size + col];
    const span = (k: number): string => `${k * m.bin}–${(k + 1) * m.bin - 1}`;
    this.hover.textContent = `t ${span(row)}, j ${span(col)}: ${v === null ? 'no gradient' : formatFromLog10(v)}`;
  }
}
