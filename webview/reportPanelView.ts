// The report panel view: builds the page once, then renders each report into it (charts updated in place).
import type { Report } from '../src/engine/report/types';
import { formatFromLog10, formatNumber, formatShare, roundForConfig } from '../src/engine/report/format';
import {
  clippingChartModel,
  clipSnippets,
  clipThresholds,
  contributionChartModel,
  exportStem,
  heatmapModel,
  heatmapPixels,
  lagChartModel,
  lagTableCsv,
  layerCards,
  log10Contribution,
  modelTitle,
  pascanuRows,
  colourScale,
  type HeatmapModel,
} from '../src/shared/reportView';
import type { ClipKey, PersistedPanelState } from '../src/shared/webviewProtocol';
import {
  applyThemeDefaults,
  clippingChartConfig,
  contributionChartConfig,
  heatmapChartConfig,
  lagChartConfig,
  pascanuChartConfig,
  upsertChart,
  type Chart,
  type ChartId,
} from './charts';
import { BandLayer } from './bandLayer';
import { ChartSection } from './chartSection';
import { button, el, table } from './dom';
import { readTheme, type Theme } from './theme';
import type { HostChannel } from './vscodeApi';

/** What the panel currently shows. */
interface Shown {
  documentUri: string;
  report: Report;
  currentClipNorm: number | null;
  seq: number;
  partial: boolean;
}

/** The panel: one instance per page. */
export class ReportPanelView {
  private shown: Shown | null = null;
  private theme: Theme = readTheme();
  private readonly app: HTMLElement;
  private readonly progressBar: HTMLElement;
  private readonly header = el('header', { className: 'report-header' });
  private readonly summary = el('section', { className: 'summary', attrs: { 'aria-labelledby': 'summary-title' } });
  private readonly findings = el('section', { className: 'findings', attrs: { 'aria-labelledby': 'findings-title' } });
  private readonly sections: Record<Exclude<ChartId, 'heatmap'>, ChartSection>;
  private readonly heatmapSection: ChartSection;
  private readonly heatmapDetails: HTMLDetailsElement;
  private readonly heatmapStatus = el('p', { className: 'status', attrs: { role: 'status' } });
  private readonly heatmapLayerSelect = el('select', { attrs: { 'aria-label': 'Layer of the heatmap' } });
  private readonly heatmapLegend = el('canvas', {
    className: 'colour-legend',
    attrs: { width: '240', height: '12', role: 'img' },
  });
  private readonly heatmapLegendMin = el('span', { className: 'legend-label' });
  private readonly heatmapLegendMax = el('span', { className: 'legend-label' });
  private readonly heatmapHover = el('p', { className: 'hover-readout', attrs: { 'aria-live': 'polite' } });
  private readonly heatmapLegendRow = el('div', { className: 'colour-legend-row' });
  /** The heatmap's pixels at one pixel per cell; the chart plugin scales it into the plot area. */
  private readonly heatmapImage = document.createElement('canvas');
  private heatmapShown: HeatmapModel | null = null;
  private heatmapPending = false;
  private heatmapFailedMessage: string | null = null;
  private heatmapLayer = 0;
  /** The lag chart's min–max bands (its plugin is attached once, at creation). */
  private readonly lagBands = new BandLayer();
  private readonly waiting = el('p', {
    className: 'placeholder waiting',
    text: 'Waiting for an analysis…',
    attrs: { role: 'status' },
  });
  private saveTimer: number | undefined;

  constructor(
    private readonly host: HostChannel,
    root: HTMLElement,
    progressBar: HTMLElement,
    private tables = new Set<string>(),
    heatmapOpen = false,
  ) {
    this.app = root;
    this.progressBar = progressBar;
    applyThemeDefaults(this.theme);
    const sectionHost = {
      tableToggled: (id: ChartId, on: boolean) => {
        if (on) this.tables.add(id);
        else this.tables.delete(id);
        this.scheduleSave();
      },
      exportPng: (id: ChartId, canvas: HTMLCanvasElement) => this.exportPng(id, canvas),
    };
    this.sections = {
      lags: new ChartSection(
        'lags',
        'Gradient norm across lags',
        'Mean ‖∂ε_t/∂s_{t−ℓ}‖ against the lag ℓ for each layer (log scale), the min–max band over all (t, ℓ) pairs, and the decay rate the regime rule measured (dashed).',
        sectionHost,
      ),
      contributions: new ChartSection(
        'contributions',
        'Temporal contributions',
        'Mean norm of the temporal contribution of step t−ℓ to ∂ε_t/∂W_hh (log scale), and how much of the total comes from long lags: does the model learn long-range dependencies at all?',
        sectionHost,
      ),
      clipping: new ChartSection(
        'clipping',
        'Gradient clipping',
        'The global gradient norm of each batch, with each suggested clip_norm and the file’s current one; each line says which share of batches it would clip (norm > threshold).',
        sectionHost,
      ),
      pascanu: new ChartSection(
        'pascanu',
        'Pascanu’s condition',
        'Largest singular value σ_max of W_hh (and its spectral radius) per layer against 1/γ, with γ = sup|σ′|: σ_max < 1/γ means long-range gradients must vanish; σ_max > 1/γ is needed for them to explode.',
        sectionHost,
      ),
    };
    const csv = button('Save lag table (CSV)', () => this.exportCsv(), {
      className: 'secondary',
      attrs: { 'data-focus-key': 'csv' },
    });
    this.sections.lags.toolbar.appendChild(csv);
    this.heatmapSection = new ChartSection(
      'heatmap',
      'Heatmap of one sequence',
      'log10 ‖∂ε_t/∂s_j‖ for every pair of steps (t, j) of the first sequence, binned; empty above the diagonal (no gradient flows backwards in time). Computed on request: it costs an extra pass of the engine.',
      sectionHost,
      'h3',
    );
    this.heatmapLayerSelect.addEventListener('change', () => {
      this.heatmapLayer = Number(this.heatmapLayerSelect.value) || 0;
      this.renderHeatmap();
      this.scheduleSave();
    });
    this.heatmapSection.toolbar.prepend(this.heatmapLayerSelect);
    this.heatmapSection.notes.append(this.heatmapStatus, this.heatmapLegendRow, this.heatmapHover);
    this.heatmapLegendRow.append(this.heatmapLegendMin, this.heatmapLegend, this.heatmapLegendMax);
    this.heatmapSection.canvas.addEventListener('mousemove', (e) => this.describeHeatmapCell(e));
    this.heatmapDetails = el('details', { className: 'heatmap' }, [
      el('summary', { text: 'Heatmap of one sequence (t, j)' }),
      this.heatmapSection.root,
    ]);
    this.heatmapDetails.open = heatmapOpen;
    this.heatmapDetails.addEventListener('toggle', () => {
      this.scheduleSave();
      if (this.heatmapDetails.open) {
        this.heatmapFailedMessage = null;
        this.renderHeatmap();
      }
    });
    this.build();
    this.prepareCharts();
    for (const [id, section] of Object.entries(this.sections)) if (this.tables.has(id)) section.setTable(true);
    if (this.tables.has('heatmap')) this.heatmapSection.setTable(true);
  }

  /** Which heatmap layer to show first (restored state). */
  setHeatmapLayer(index: number): void {
    this.heatmapLayer = index;
  }

  /** Shows analysis progress (0..1) above the report. */
  setProgress(fraction: number): void {
    const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    this.progressBar.hidden = pct >= 100;
    this.progressBar.setAttribute('aria-valuenow', String(pct));
    const fill = this.progressBar.firstElementChild as HTMLElement | null;
    if (fill) fill.style.width = `${pct}%`;
    if (!this.shown) this.waiting.textContent = pct >= 100 ? 'Waiting for an analysis…' : `Analyzing… ${pct}%`;
  }

  /** The host could not compute the heatmap. */
  heatmapFailed(message: string): void {
    this.heatmapPending = false;
    this.heatmapFailedMessage = message;
    this.renderHeatmap();
  }

  /** Renders a report; returns the number of charts drawn. */
  render(documentUri: string, report: Report, currentClipNorm: number | null, seq: number, partial = false): number {
    const previous = this.shown;
    this.shown = { documentUri, report, currentClipNorm, seq, partial };
    if (!partial) this.setProgress(1);
    if (previous && previous.documentUri !== documentUri) {
      this.heatmapPending = false;
      this.heatmapFailedMessage = null;
    }
    if (report.heatmaps?.length) this.heatmapPending = false;
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    this.app.classList.remove('awaiting');
    this.renderHeader();
    this.renderSummary();
    this.renderFindings();
    this.renderCharts();
    this.renderHeatmap();
    if (focusKey) this.app.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    this.scheduleSave();
    return this.chartCount();
  }

  /** Re-reads the theme and redraws every chart with its colours. */
  retheme(): void {
    this.theme = readTheme();
    applyThemeDefaults(this.theme);
    if (!this.shown) return;
    this.renderCharts();
    this.renderHeatmap();
  }

  /** The charts currently drawn, by id (for the test hook). */
  charts(): Partial<Record<ChartId, Chart>> {
    const out: Partial<Record<ChartId, Chart>> = {};
    for (const s of [...Object.values(this.sections), this.heatmapSection]) if (s.chart) out[s.id] = s.chart;
    return out;
  }

  /** The state to persist. */
  state(): PersistedPanelState | null {
    if (!this.shown) return null;
    // The heatmap is left out: it is large and re-requested when its section is open.
    const { heatmaps: _omit, ...report } = this.shown.report;
    void _omit;
    return {
      documentUri: this.shown.documentUri,
      report: report,
      currentClipNorm: this.shown.currentClipNorm,
      tables: [...this.tables],
      heatmapOpen: this.heatmapDetails.open,
      heatmapLayer: this.heatmapLayer,
    };
  }

  private chartCount(): number {
    return Object.keys(this.charts()).length;
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = undefined;
      const s = this.state();
      if (s) this.host.saveState(s);
    }, 50);
  }

  /**
   * Builds the page and its (empty) charts while the host is still analyzing, before `ready`: the first report
   * then only fills in data, instead of paying for the first layout and Chart.js set-up. The page stays
   * invisible (`awaiting`) behind a "Waiting for an analysis" line until a report arrives.
   */
  private build(): void {
    const s = this.sections;
    this.app.classList.add('awaiting');
    this.app.replaceChildren(
      this.waiting,
      this.header,
      this.summary,
      this.findings,
      s.lags.root,
      s.contributions.root,
      s.clipping.root,
      s.pascanu.root,
      this.heatmapDetails,
    );
  }

  private prepareCharts(): void {
    const empty: Report = {
      report_version: 1,
      file: '',
      model: {
        cell: 'rnn',
        form: 'elman',
        nonlinearity: 'tanh',
        input_size: 0,
        hidden_size: 0,
        num_layers: 0,
        output_size: 0,
      },
      sequences: 0,
      steps: 0,
      loss: null,
      grad_norm: null,
      gradients: {},
      layers: [],
      clipping: {
        batch_norms: [],
        suggestions: [],
        recommended: { clip_norm: null, clip_value: null, method: '', rationale: '' },
      },
      findings: [],
    };
    const s = this.sections;
    s.lags.chart = upsertChart(
      undefined,
      s.lags.canvas,
      lagChartConfig(lagChartModel(empty), this.theme, this.lagBands),
    );
    s.contributions.chart = upsertChart(
      undefined,
      s.contributions.canvas,
      contributionChartConfig(contributionChartModel(empty), this.theme),
    );
    s.clipping.chart = upsertChart(
      undefined,
      s.clipping.canvas,
      clippingChartConfig(clippingChartModel(empty, null), this.theme),
    );
    s.pascanu.chart = upsertChart(undefined, s.pascanu.canvas, pascanuChartConfig(pascanuRows(empty), this.theme));
  }

  // ---- header, summary, findings ----

  private renderHeader(): void {
    const { report, partial } = this.shown!;
    const m = report.model;
    const facts: [string, string][] = [
      ['file', report.file],
      ['cell', `${m.cell}${m.cell === 'rnn' ? ` (${m.form}, ${m.nonlinearity})` : ''}`],
      ['hidden', String(m.hidden_size)],
      ['layers', String(m.num_layers)],
      ['sequences', String(report.sequences)],
      ['steps', String(report.steps)],
      ['loss', formatNumber(report.loss)],
      ['gradient norm', formatNumber(report.grad_norm)],
    ];
    if (report.elapsed_ms !== undefined) facts.push(['analysis', `${formatNumber(report.elapsed_ms)} ms`]);
    if (report.max_lag !== undefined && report.max_lag !== null) facts.push(['lags capped at', String(report.max_lag)]);
    const dl = el('dl', { className: 'facts' });
    for (const [k, v] of facts) dl.append(el('div', {}, [el('dt', { text: k }), el('dd', { text: v })]));
    const actions = el('div', { className: 'toolbar' }, [
      button('Save report (JSON)', () => this.exportJson(), {
        className: 'secondary',
        attrs: { 'data-focus-key': 'json' },
      }),
    ]);
    this.header.replaceChildren(
      el('div', { className: 'title-row' }, [
        el('h1', { className: 'model-name', text: modelTitle(report) }),
        partial ? el('span', { className: 'badge', text: 'partial: analysis running' }) : null,
        actions,
      ]),
      dl,
    );
  }

  private renderSummary(): void {
    const { report } = this.shown!;
    const cards = el('div', { className: 'cards' });
    for (const c of layerCards(report)) {
      const facts = el('ul', { className: 'card-facts' });
      for (const f of c.facts) {
        const value = f.value === null ? '—' : f.log10 ? formatFromLog10(f.value) : formatNumber(f.value);
        facts.append(el('li', {}, [el('span', { text: `${f.label}: ` }), el('strong', { text: value })]));
      }
      cards.append(
        el(
          'article',
          { className: `card regime-${c.regime}`, attrs: { 'aria-label': `Layer ${c.layer}: ${c.regime}` } },
          [
            el('h3', {}, [
              el('span', { text: `Layer ${c.layer} ` }),
              el('span', { className: `regime regime-${c.regime}`, text: c.regime }),
            ]),
            el('p', { className: 'rule', text: c.rule }),
            facts,
          ],
        ),
      );
    }
    this.summary.replaceChildren(
      el('h2', { text: 'Summary', attrs: { id: 'summary-title' } }),
      cards,
      this.renderRecommendation(report),
    );
  }

  private renderRecommendation(report: Report): HTMLElement {
    const rec = report.clipping.recommended;
    const box = el('div', { className: 'recommendation' });
    box.append(el('h3', { text: 'Recommended clipping' }));
    const values = el('dl', { className: 'facts' });
    values.append(
      el('div', {}, [
        el('dt', { text: 'clip_norm' }),
        el('dd', { text: rec.clip_norm === null ? '—' : String(roundForConfig(rec.clip_norm)) }),
      ]),
      el('div', {}, [
        el('dt', { text: 'clip_value' }),
        el('dd', { text: rec.clip_value === null ? '—' : String(roundForConfig(rec.clip_value)) }),
      ]),
      el('div', {}, [el('dt', { text: 'method' }), el('dd', { text: rec.method })]),
    );
    box.append(values);
    if (rec.rationale) box.append(el('p', { className: 'rule', text: rec.rationale }));
    const apply = el('div', { className: 'toolbar' });
    const applyButton = (key: ClipKey, v: number | null): void => {
      if (v === null || !Number.isFinite(v) || v <= 0) return;
      const value = roundForConfig(v);
      apply.append(
        button(`Set training.${key} = ${value} in the file`, () => this.host.post({ type: 'applyClip', key, value }), {
          attrs: { 'data-focus-key': `apply-${key}` },
        }),
      );
    };
    applyButton('clip_norm', rec.clip_norm);
    applyButton('clip_value', rec.clip_value);
    box.append(apply);
    const snippets = el('ul', { className: 'snippets' });
    for (const s of clipSnippets(report)) {
      snippets.append(
        el('li', {}, [
          el('span', { className: 'snippet-label', text: s.label }),
          el('code', { text: s.text }),
          button('Copy', () => this.host.post({ type: 'copyText', text: s.text, label: s.label }), {
            className: 'secondary',
            attrs: { 'aria-label': `Copy: ${s.label}`, 'data-focus-key': `copy-${s.id}` },
          }),
        ]),
      );
    }
    box.append(snippets);
    return box;
  }

  private renderFindings(): void {
    const { report } = this.shown!;
    const list = el('ul', { className: 'finding-list' });
    report.findings.forEach((f, i) => {
      const where = f.path.length ? f.path.map(String).join(' › ') : '(file)';
      list.append(
        el('li', {}, [
          button('', () => this.host.post({ type: 'revealPath', path: f.path }), {
            className: `finding severity-${f.severity}`,
            attrs: { 'data-focus-key': `finding-${i}`, title: `Reveal ${where} in the model file` },
          }),
        ]),
      );
      const b = list.lastElementChild!.firstElementChild as HTMLButtonElement;
      b.append(
        el('span', { className: `severity severity-${f.severity}`, text: f.severity }),
        el('span', { className: 'code', text: f.code }),
        el('span', { className: 'message', text: f.message }),
        el('span', { className: 'path', text: where }),
      );
    });
    const heading = el('h2', { text: `Findings (${report.findings.length})`, attrs: { id: 'findings-title' } });
    this.findings.replaceChildren(
      heading,
      report.findings.length ? list : el('p', { className: 'placeholder', text: 'No findings.' }),
    );
  }

  // ---- charts ----

  private renderCharts(): void {
    const { report, currentClipNorm } = this.shown!;
    const theme = this.theme;
    const s = this.sections;

    const lags = lagChartModel(report);
    s.lags.chart = upsertChart(s.lags.chart, s.lags.canvas, lagChartConfig(lags, theme, this.lagBands));
    s.lags.setTableBuilder(() =>
      table(
        'Gradient norm per lag',
        ['layer', 'lag', 'pairs', 'mean', 'min', 'max'],
        (function* () {
          for (const l of report.layers)
            for (const e of l.lags)
              yield [
                l.layer,
                e.lag,
                e.count,
                formatFromLog10(e.log10_mean),
                formatFromLog10(e.log10_min),
                formatFromLog10(e.log10_max),
              ];
        })(),
      ),
    );
    s.lags.notes.replaceChildren(
      ...lags.series.map((x) =>
        el('p', {
          text: `Layer ${x.layer}: measured rate ${x.ratePerStep === null ? '—' : `${x.ratePerStep.toPrecision(3)} decades per step`}.`,
        }),
      ),
    );

    const contributions = contributionChartModel(report);
    s.contributions.chart = upsertChart(
      s.contributions.chart,
      s.contributions.canvas,
      contributionChartConfig(contributions, theme),
    );
    const shareRows = contributions.series.map((x) => [
      `Layer ${x.layer}`,
      ...x.shares.map((sh) => (sh.reached ? formatShare(sh.share) : `— (no lag > ${sh.cutoff})`)),
    ]);
    const cutoffs = contributions.series[0]?.shares.map((sh) => `ℓ > ${sh.cutoff}`) ?? [];
    s.contributions.notes.replaceChildren(
      table('Share of the summed contribution from long lags', ['layer', ...cutoffs], shareRows),
    );
    s.contributions.setTableBuilder(() =>
      table(
        'Contribution per lag',
        ['layer', 'lag', 'contribution_mean'],
        (function* () {
          for (const l of report.layers)
            for (const e of l.lags) yield [l.layer, e.lag, formatFromLog10(log10Contribution(e))];
        })(),
      ),
    );

    const clip = clippingChartModel(report, currentClipNorm);
    s.clipping.chart = upsertChart(s.clipping.chart, s.clipping.canvas, clippingChartConfig(clip, theme));
    const thresholds = clipThresholds(report, currentClipNorm);
    s.clipping.notes.replaceChildren(
      table(
        'Thresholds and the share of batches each would clip',
        ['threshold', 'clip_norm', 'batches clipped'],
        thresholds.map((t) => [
          t.label + (t.recommended ? ' (recommended)' : ''),
          formatNumber(t.value),
          formatShare(t.share),
        ]),
      ),
      ...(clip.overflowed
        ? [
            el('p', {
              className: 'warning',
              text: `${clip.overflowed} batch norm(s) overflowed (null) and always clip; they are not drawn.`,
            }),
          ]
        : []),
      ...(currentClipNorm === null ? [el('p', { text: 'The file sets no training.clip_norm.' })] : []),
    );
    s.clipping.setTableBuilder(() =>
      table(
        'Global gradient norm per batch',
        ['batch', 'norm'],
        report.clipping.batch_norms.map((n, i) => [i + 1, n === null ? 'overflowed' : formatNumber(n)]),
      ),
    );

    const rows = pascanuRows(report);
    s.pascanu.chart = upsertChart(s.pascanu.chart, s.pascanu.canvas, pascanuChartConfig(rows, theme));
    s.pascanu.notes.replaceChildren(...rows.map((r) => el('p', { text: `Layer ${r.layer}: ${r.verdict}` })));
    s.pascanu.setTableBuilder(() =>
      table(
        'Pascanu’s condition per layer',
        ['layer', 'σ_max', 'spectral radius', 'γ', '1/γ', 'σ_max·γ'],
        rows.map((r) => [
          r.layer,
          formatNumber(r.sigmaMax),
          formatNumber(r.spectralRadius),
          formatNumber(r.gamma),
          formatNumber(r.threshold),
          formatNumber(r.bound),
        ]),
      ),
    );
  }

  // ---- heatmap ----

  private renderHeatmap(): void {
    if (!this.shown || !this.heatmapDetails.open) return;
    const maps = this.shown.report.heatmaps ?? [];
    const section = this.heatmapSection;
    const showMap = (on: boolean): void => {
      section.setAvailable(on);
      this.heatmapLegendRow.hidden = !on;
      this.heatmapHover.hidden = !on;
      if (!on) {
        section.chart?.destroy();
        section.chart = undefined;
        this.heatmapShown = null;
      }
    };
    if (!maps.length) {
      showMap(false);
      this.heatmapLayerSelect.hidden = true;
      if (this.heatmapFailedMessage !== null) {
        this.heatmapStatus.replaceChildren(
          el('span', { text: `The heatmap could not be computed: ${this.heatmapFailedMessage} ` }),
          button('Retry', () => this.requestHeatmap(), { attrs: { 'data-focus-key': 'heatmap-retry' } }),
        );
      } else {
        this.heatmapStatus.textContent = 'Computing the (t, j) map for this model…';
        this.requestHeatmap();
      }
      return;
    }
    this.heatmapFailedMessage = null;
    const options = maps.map((m, i) =>
      el('option', { text: `Layer ${m.layer}, sequence ${m.sequence + 1}`, attrs: { value: String(i) } }),
    );
    this.heatmapLayerSelect.replaceChildren(...options);
    this.heatmapLayer = Math.min(this.heatmapLayer, maps.length - 1);
    this.heatmapLayerSelect.value = String(this.heatmapLayer);
    this.heatmapLayerSelect.hidden = maps.length < 2;
    const model = heatmapModel(maps[this.heatmapLayer]);
    this.heatmapShown = model;
    if (!model) {
      this.heatmapStatus.textContent = 'This heatmap holds no gradient (every cell is empty or zero).';
      showMap(false);
      return;
    }
    showMap(true);
    this.heatmapStatus.textContent = `Layer ${model.layer}, sequence ${model.sequence + 1} of length ${model.length}; each cell covers ${model.bin}×${model.bin} steps and holds its largest norm.`;
    this.heatmapImage.width = model.size;
    this.heatmapImage.height = model.size;
    const ctx = this.heatmapImage.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(heatmapPixels(model), model.size, model.size), 0, 0);
    this.paintLegend(model);
    section.chart?.destroy();
    section.chart = upsertChart(undefined, section.canvas, heatmapChartConfig(model, this.heatmapImage, this.theme));
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

  private requestHeatmap(): void {
    if (this.heatmapPending) return;
    this.heatmapPending = true;
    this.heatmapFailedMessage = null;
    this.heatmapStatus.textContent = 'Computing the (t, j) map for this model…';
    this.host.post({ type: 'requestHeatmap' });
  }

  private paintLegend(model: HeatmapModel): void {
    const c = this.heatmapLegend;
    const ctx = c.getContext('2d');
    if (ctx) {
      for (let x = 0; x < c.width; x++) {
        const [r, g, b] = colourScale(x / (c.width - 1));
        ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
        ctx.fillRect(x, 0, 1, c.height);
      }
    }
    c.setAttribute('aria-label', `Colour scale from ${formatFromLog10(model.min)} to ${formatFromLog10(model.max)}`);
    this.heatmapLegendMin.textContent = formatFromLog10(model.min);
    this.heatmapLegendMax.textContent = formatFromLog10(model.max);
  }

  private describeHeatmapCell(e: MouseEvent): void {
    const chart = this.heatmapSection.chart;
    const m = this.heatmapShown;
    if (!chart || !m) return;
    const rect = this.heatmapSection.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const a = chart.chartArea;
    if (x < a.left || x > a.right || y < a.top || y > a.bottom) {
      this.heatmapHover.textContent = '';
      return;
    }
    const col = Math.min(m.size - 1, Math.floor(((x - a.left) / (a.right - a.left)) * m.size));
    const row = Math.min(m.size - 1, Math.floor(((y - a.top) / (a.bottom - a.top)) * m.size));
    const v = m.values[row * m.size + col];
    const span = (k: number): string => `${k * m.bin}–${(k + 1) * m.bin - 1}`;
    this.heatmapHover.textContent = `t ${span(row)}, j ${span(col)}: ${v === null ? 'no gradient' : formatFromLog10(v)}`;
  }

  // ---- export ----

  private exportPng(id: ChartId, canvas: HTMLCanvasElement): void {
    if (!this.shown) return;
    // Charts are drawn on a transparent canvas: put the editor background behind them so the PNG reads anywhere.
    const out = document.createElement('canvas');
    out.width = canvas.width;
    out.height = canvas.height;
    const ctx = out.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(canvas, 0, 0);
    this.host.post({
      type: 'exportFile',
      kind: 'png',
      suggestedName: `${exportStem(this.shown.report)}-${id}.png`,
      content: out.toDataURL('image/png'),
    });
  }

  private exportCsv(): void {
    if (!this.shown) return;
    this.host.post({
      type: 'exportFile',
      kind: 'csv',
      suggestedName: `${exportStem(this.shown.report)}-lags.csv`,
      content: lagTableCsv(this.shown.report),
    });
  }

  private exportJson(): void {
    if (!this.shown) return;
    this.host.post({
      type: 'exportFile',
      kind: 'json',
      suggestedName: `${exportStem(this.shown.report)}-report.json`,
      content: JSON.stringify(this.shown.report, null, 2) + '\n',
    });
  }
}
