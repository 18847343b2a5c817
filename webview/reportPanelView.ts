// The report panel view: builds the page once, then renders each report into it (charts updated in place).
import type { Report } from '../src/engine/report/types';
import { formatFromLog10, formatNumber, formatShare } from '../src/engine/report/format';
import { layerCell } from '../src/engine/report/layers';
import { clippingChartModel, clipThresholds } from '../src/shared/reportView/clippingChart';
import { contributionChartModel, log10Contribution } from '../src/shared/reportView/contributionChart';
import { exportStem, lagTableCsv } from '../src/shared/reportView/export';
import { gatesChartModel, unitsNote } from '../src/shared/reportView/gatesChart';
import { lagChartModel } from '../src/shared/reportView/lagChart';
import { gatedExplanation, pascanuRows } from '../src/shared/reportView/pascanuChart';
import type { FromWebviewMessage, PersistedPanelState, RenderedText } from '../src/shared/webviewProtocol';
import type { CurrentClip } from '../src/shared/clipAdvice';
import {
  applyThemeDefaults,
  clippingChartConfig,
  contributionChartConfig,
  gateDistributionChartConfig,
  gateGradsChartConfig,
  gateLayers,
  gatesChartConfig,
  lagChartConfig,
  pascanuChartConfig,
  upsertChart,
  type Chart,
  type ChartId,
} from './charts';
import { BandLayer } from './bandLayer';
import { ChartSection } from './chartSection';
import { HeatmapSection } from './heatmapSection';
import { renderFindings, renderHeader, renderSummary, verdictLine } from './reportText';
import { button, el, table } from './dom';
import { readTheme, type Theme } from './theme';
import type { HostChannel } from './vscodeApi';

/** What the panel currently shows. */
interface Shown {
  documentUri: string;
  report: Report;
  current: CurrentClip;
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
  private readonly heatmap: HeatmapSection;
  /** The lag chart's min–max bands (its plugin is attached once, at creation). */
  private readonly lagBands = new BandLayer();
  private readonly waiting = el('p', {
    className: 'placeholder waiting',
    text: 'Waiting for an analysis…',
    attrs: { role: 'status' },
  });
  /** What happened to a run that stopped without a report, with Re-run (above the last complete report, if any). */
  private readonly runStatus = el('div', { className: 'run-status', attrs: { role: 'status' } });
  /**
   * The only live region of the report: the verdict line ("Layer 0: vanishing."), changed only when the verdict
   * changes, so a screen reader announces a new verdict and not the whole report on every update.
   */
  private readonly verdict = el('p', {
    className: 'verdict-live visually-hidden',
    attrs: { 'aria-live': 'polite', 'aria-atomic': 'true', 'data-verdict': '' },
  });
  /** Under the lag chart of a sampled report: what was sampled, and "Compute the exact lag table". */
  private readonly sampledNote = el('div', { className: 'sampled-note' });
  private saveTimer: number | undefined;
  /** The per-layer gate distribution charts of the "Gates and units" section, by layer key ("0", "1-reverse"). */
  private readonly gateLayerCharts = new Map<string, { box: HTMLElement; chart: Chart }>();

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
        'Mean ‖∂εₜ / ∂sₜ₋ₗ‖ (the gradient of the loss at step t with respect to the state ℓ steps earlier) against the lag ℓ for each layer (log scale), the min–max band over all (t, ℓ) pairs, and the decay rate the regime rule measured (dashed).',
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
      gates: new ChartSection(
        'gates',
        'Gates and units',
        'Per gate of each layer: the share of unit-steps (every unit at every real step) with the gate saturated low (< 0.05, or < −0.95 for the tanh gates cell/new), unsaturated, and saturated high (> 0.95). A saturated gate passes almost no gradient to its weights. Above: dead and saturated units per layer; below: per layer, each gate’s activation distribution (share of unit-steps per bin) with the saturation cuts marked.',
        sectionHost,
      ),
      gateGrads: new ChartSection(
        'gateGrads',
        'Gradient per gate',
        'The norm of each gate’s rows of the gradients of weight_hh and weight_ih: which gate’s weights actually receive gradient.',
        sectionHost,
      ),
    };
    const csv = button('Save lag table (CSV)', () => this.exportCsv(), {
      className: 'secondary',
      attrs: { 'data-focus-key': 'csv' },
    });
    this.sections.lags.toolbar.appendChild(csv);
    this.heatmap = new HeatmapSection(
      {
        ...sectionHost,
        report: () => this.shown?.report ?? null,
        theme: () => this.theme,
        requestHeatmap: () => this.host.post({ type: 'requestHeatmap' }),
        stateChanged: () => this.scheduleSave(),
      },
      heatmapOpen,
    );
    this.build();
    this.prepareCharts();
    for (const [id, section] of Object.entries(this.sections)) if (this.tables.has(id)) section.setTable(true);
    if (this.tables.has('heatmap')) this.heatmap.section.setTable(true);
  }

  /** Which heatmap layer to show first (restored state). */
  setHeatmapLayer(index: number): void {
    this.heatmap.setLayer(index);
  }

  /** Shows analysis progress (0..1) above the report. */
  setProgress(fraction: number): void {
    const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    this.progressBar.hidden = pct >= 100;
    this.progressBar.setAttribute('aria-valuenow', String(pct));
    const fill = this.progressBar.firstElementChild as HTMLElement | null;
    if (fill) fill.style.width = `${pct}%`;
    if (pct < 100) this.runStatus.hidden = true;
    if (!this.shown) this.waiting.textContent = pct >= 100 ? 'Waiting for an analysis…' : `Analyzing… ${pct}%`;
  }

  /**
   * The running analysis stopped without a report. With `previous`, the host has just re-sent the last complete
   * report, which stays, under a line that says what happened; without, the partial report goes and the page says
   * what happened. Either way with a Re-run button.
   */
  stopped(message: string, previous: boolean): void {
    this.setProgress(1);
    const rerun = (): HTMLButtonElement =>
      button('Re-run the analysis', () => this.host.post({ type: 'rerun' }), {
        attrs: { 'data-focus-key': 'rerun' },
      });
    if (previous && this.shown && !this.shown.partial) {
      this.runStatus.replaceChildren(el('span', { text: `${message} Showing the last complete report. ` }), rerun());
      this.runStatus.hidden = false;
      return;
    }
    const saved = this.state();
    this.shown = null;
    this.runStatus.hidden = true;
    this.app.classList.add('awaiting');
    this.waiting.replaceChildren(el('span', { text: `${message} There is no complete report yet. ` }), rerun());
    // A reloaded page must not bring the partial report back.
    if (saved) this.host.saveState({ ...saved, report: null });
  }

  /** The host could not compute the heatmap. */
  heatmapFailed(message: string): void {
    this.heatmap.failed(message);
  }

  /** Renders a report; returns the number of charts drawn. */
  render(documentUri: string, report: Report, current: CurrentClip, seq: number, partial = false): number {
    const previous = this.shown;
    this.shown = { documentUri, report, current, seq, partial };
    if (!partial) this.setProgress(1);
    this.heatmap.reportArriving(report, previous !== null && previous.documentUri !== documentUri);
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    this.app.classList.remove('awaiting');
    this.runStatus.hidden = true;
    this.renderText();
    this.renderCharts();
    this.heatmap.render();
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
    this.heatmap.render();
  }

  /** The charts currently drawn, by id (for the test hook); the per-layer gate charts are "gates-layer-<key>". */
  charts(): Record<string, Chart> {
    const out: Record<string, Chart> = {};
    for (const s of [...Object.values(this.sections), this.heatmap.section]) if (s.chart) out[s.id] = s.chart;
    for (const [key, c] of this.gateLayerCharts) out[`gates-layer-${key}`] = c.chart;
    return out;
  }

  /** The findings list and the "Gates and units" text as the page shows them (read from the DOM). */
  renderedText(): RenderedText {
    const text = (node: Element | null): string => (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
    return {
      findings: Array.from(this.findings.querySelectorAll('.finding-list .finding')).map((row) => ({
        code: text(row.querySelector('.code')),
        message: text(row.querySelector('.message')),
        path: text(row.querySelector('.path')),
      })),
      gates: Array.from(this.sections.gates.root.querySelectorAll('.notes p, .gate-layer h3')).map(text),
    };
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
      currentClipNorm: this.shown.current.clip_norm,
      currentClipValue: this.shown.current.clip_value,
      tables: [...this.tables],
      heatmapOpen: this.heatmap.open,
      heatmapLayer: this.heatmap.layer,
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
    this.runStatus.hidden = true;
    this.app.replaceChildren(
      this.waiting,
      this.runStatus,
      this.verdict,
      this.header,
      this.summary,
      this.findings,
      s.lags.root,
      s.contributions.root,
      s.clipping.root,
      s.pascanu.root,
      s.gates.root,
      s.gateGrads.root,
      this.heatmap.details,
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
        bidirectional: false,
        proj_size: 0,
        gru_reset: 'after',
        source: { format: 'json', module: '' },
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
    const noGates = gatesChartModel(empty);
    s.gates.chart = upsertChart(undefined, s.gates.canvas, gatesChartConfig(noGates, this.theme));
    s.gateGrads.chart = upsertChart(undefined, s.gateGrads.canvas, gateGradsChartConfig(noGates, this.theme));
  }

  // ---- header, summary, findings ----

  private renderText(): void {
    const { report, partial, current } = this.shown!;
    const post = (message: FromWebviewMessage): void => this.host.post(message);
    renderHeader(this.header, report, partial, () => this.exportJson());
    renderSummary(this.summary, report, current, post);
    renderFindings(this.findings, report, post);
    if (!partial) {
      const line = `Gradient verdict: ${verdictLine(report)}`;
      if (this.verdict.textContent !== line) this.verdict.textContent = line;
    }
  }

  // ---- charts ----

  private renderCharts(): void {
    const { report } = this.shown!;
    const currentClipNorm = this.shown!.current.clip_norm;
    const theme = this.theme;
    const s = this.sections;

    const lags = lagChartModel(report);
    s.lags.chart = upsertChart(s.lags.chart, s.lags.canvas, lagChartConfig(lags, theme, this.lagBands));
    // A sampled table (lag_sampling) adds each estimated mean's 95% interval, symmetric on the log scale (issue 12).
    const sampled = Boolean(report.lag_sampling);
    s.lags.setTableBuilder(() =>
      table(
        'Gradient norm per lag',
        sampled
          ? ['layer', 'lag', 'pairs', 'mean', 'min (sample)', 'max (sample)', '95% interval of the mean (log10)']
          : ['layer', 'lag', 'pairs', 'mean', 'min', 'max'],
        (function* () {
          for (const l of report.layers)
            for (const e of l.lags) {
              const ci = e.log10_mean_ci95;
              yield [
                layerCell(l.layer, l.direction),
                e.lag,
                e.count,
                formatFromLog10(e.log10_mean),
                // A sampled entry has no min and max of the whole table: those of its sample.
                formatFromLog10(e.sampled ? e.log10_min_sampled : e.log10_min),
                formatFromLog10(e.sampled ? e.log10_max_sampled : e.log10_max),
                ...(sampled
                  ? [
                      !e.sampled
                        ? 'exact'
                        : ci && ci[0] !== null && ci[1] !== null
                          ? `± ${formatNumber((ci[1] - ci[0]) / 2)}`
                          : '–',
                    ]
                  : []),
              ];
            }
        })(),
      ),
    );
    this.renderSampledNote(report);
    s.lags.notes.replaceChildren(
      this.sampledNote,
      ...lags.series.map((x) =>
        el('p', {
          text: `${x.label}: measured rate ${x.ratePerStep === null ? '—' : `${x.ratePerStep.toPrecision(3)} decades per step`}.`,
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
      x.label,
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
            for (const e of l.lags)
              yield [layerCell(l.layer, l.direction), e.lag, formatFromLog10(log10Contribution(e))];
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
    s.pascanu.notes.replaceChildren(
      ...rows.map((r) => el('p', { text: `${r.label}: ${r.verdict}` })),
      ...(rows.some((r) => r.reference !== null)
        ? [el('p', { className: 'gated-note', text: gatedExplanation(report.model.cell) })]
        : []),
    );
    s.pascanu.setTableBuilder(() =>
      table(
        'Pascanu’s condition per layer',
        ['layer', 'σ_max', 'spectral radius', 'γ', '1/γ', 'σ_max·γ'],
        rows.map((r) => [
          r.label,
          formatNumber(r.sigmaMax),
          formatNumber(r.spectralRadius),
          formatNumber(r.gamma),
          formatNumber(r.threshold),
          formatNumber(r.bound),
        ]),
      ),
    );

    this.renderGates(report, theme);
  }

  /**
   * A sampled report (lag_sampling set): what was sampled and a button that asks the host for the exact lag table (a
   * new analysis with `exact`, with progress and Cancel). Empty for an exact report or a partial one.
   */
  private renderSampledNote(report: Report): void {
    const sampling = report.lag_sampling;
    if (!sampling || this.shown?.partial) {
      this.sampledNote.hidden = true;
      this.sampledNote.replaceChildren();
      return;
    }
    this.sampledNote.hidden = false;
    this.sampledNote.replaceChildren(
      el('p', {
        text: `Estimated lag table: each lag's mean comes from a sample of ${sampling.endpoints} loss terms in ${sampling.sequences} sequences (seed ${sampling.seed}), with 95% intervals; the gradients and clipping are exact.`,
      }),
      button('Compute the exact lag table', () => this.host.post({ type: 'computeExact' }), {
        attrs: { 'data-focus-key': 'compute-exact' },
      }),
    );
  }

  /** The "Gates and units" section and the per-gate gradient chart. */
  private renderGates(report: Report, theme: Theme): void {
    const s = this.sections;
    const gates = gatesChartModel(report);
    s.gates.chart = upsertChart(s.gates.chart, s.gates.canvas, gatesChartConfig(gates, theme));
    this.renderGateLayers(gateLayers(gates), theme);
    s.gates.notes.replaceChildren(
      ...(gates.hasGates ? [] : [el('p', { text: 'An rnn cell has no gates; its units are below.' })]),
      ...gates.units.map((u) => el('p', { className: 'units-note', text: unitsNote(u, formatShare) })),
    );
    s.gates.setTableBuilder(() =>
      table(
        'Gates and units per layer',
        ['layer', 'gate / units', 'mean', 'saturated low', 'saturated high', 'dead units', '‖∂W_hh‖', '‖∂W_ih‖'],
        [
          ...gates.gates.map((g) => [
            g.label.replace(` ${g.gate}`, ''),
            g.gate,
            formatNumber(g.mean),
            formatShare(g.saturatedLow),
            formatShare(g.saturatedHigh),
            '',
            formatNumber(g.weightHhGradNorm),
            formatNumber(g.weightIhGradNorm),
          ]),
          ...gates.units.map((u) => [
            u.label,
            `units (${u.what})`,
            `|value| ${formatNumber(u.meanAbs)}`,
            '',
            formatShare(u.saturatedShare),
            `${u.deadUnits} of ${u.width}`,
            '',
            '',
          ]),
        ],
      ),
    );
    s.gateGrads.chart = upsertChart(s.gateGrads.chart, s.gateGrads.canvas, gateGradsChartConfig(gates, theme));
    s.gateGrads.setTableBuilder(() =>
      table(
        'Gradient norm per gate',
        ['layer', 'gate', '‖∂W_hh‖ (gate rows)', '‖∂W_ih‖ (gate rows)'],
        gates.gates.map((g) => [
          g.label.replace(` ${g.gate}`, ''),
          g.gate,
          formatNumber(g.weightHhGradNorm),
          formatNumber(g.weightIhGradNorm),
        ]),
      ),
    );
  }

  /** One chart per layer and direction: each gate's activation distribution with the saturation cuts marked. */
  private renderGateLayers(layers: ReturnType<typeof gateLayers>, theme: Theme): void {
    const keep = new Set(layers.map((l) => l.key));
    for (const [key, c] of this.gateLayerCharts) {
      if (keep.has(key)) continue;
      c.chart.destroy();
      c.box.remove();
      this.gateLayerCharts.delete(key);
    }
    // New layers get their box (heading and canvas) in the page first: Chart.js sizes a canvas from its parent.
    const fresh = new Map<string, HTMLCanvasElement>();
    const boxes = layers.map((layer) => {
      const existing = this.gateLayerCharts.get(layer.key);
      if (existing) return existing.box;
      const title = `${layer.label[0].toUpperCase()}${layer.label.slice(1)}: gate activations`;
      const canvas = el('canvas', {
        attrs: {
          role: 'img',
          'aria-label': `${title}: the share of unit-steps per activation bin of each gate, with the saturation cuts; use "Show as table" for the numbers`,
          'data-gate-layer': layer.key,
        },
      });
      fresh.set(layer.key, canvas);
      return el('div', { className: 'gate-layer' }, [
        el('h3', { text: title }),
        el('div', { className: 'chart-box gate-layer-box' }, [canvas]),
      ]);
    });
    this.sections.gates.extraCharts.replaceChildren(...boxes);
    layers.forEach((layer, i) => {
      const config = gateDistributionChartConfig(layer, theme);
      const existing = this.gateLayerCharts.get(layer.key);
      const canvas = fresh.get(layer.key);
      if (existing) existing.chart = upsertChart(existing.chart, existing.chart.canvas, config);
      else if (canvas)
        this.gateLayerCharts.set(layer.key, { box: boxes[i], chart: upsertChart(undefined, canvas, config) });
    });
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
