// The timeline panel's page: a training run's checkpoints against the step — gradient norm, each layer's log10
// rate per step, σ_max and the recommended clip_norm — with the run's findings marked at their steps, a table of
// the checkpoints, and a Watch toggle. Clicking a point, a row or a finding opens that checkpoint's report.
import type { ActiveElement, Chart, ChartConfiguration, ChartEvent } from 'chart.js';
import { formatNumber } from '../src/engine/report/format';
import type { TimelineEntry, TimelineReport } from '../src/engine/timeline/types';
import { clipTimelineModel } from '../src/shared/reportView/clipTimelineChart';
import { gradNormTimelineModel } from '../src/shared/reportView/gradNormTimelineChart';
import { rateTimelineModel } from '../src/shared/reportView/rateTimelineChart';
import { sigmaTimelineModel } from '../src/shared/reportView/sigmaTimelineChart';
import { layerKeys } from '../src/shared/reportView/timelineCommon';
import type { PersistedTimelineState, TimelineMessage } from '../src/shared/webviewProtocol';
import { ChartSection, type SectionId } from './chartSection';
import { applyThemeDefaults, upsertChart, type TimelineChartId } from './charts';
import { button, el, table } from './dom';
import { clipTimelineConfig, gradNormTimelineConfig, rateTimelineConfig, sigmaTimelineConfig } from './timelineCharts';
import { readTheme, type Theme } from './theme';
import type { HostChannel } from './vscodeApi';

type Shown = Omit<TimelineMessage, 'type' | 'seq'>;

function rate(r: number | null): string {
  return r === null ? '—' : `${r >= 0 ? '+' : '−'}${Math.abs(r).toFixed(3)}`;
}

export class TimelinePanelView {
  private theme: Theme = readTheme();
  private readonly header = el('header', { className: 'report-header' });
  private readonly findings = el('section', {
    className: 'findings',
    attrs: { 'aria-labelledby': 'timeline-findings-title' },
  });
  private readonly entries = el('section', {
    className: 'summary',
    attrs: { 'aria-labelledby': 'timeline-entries-title' },
  });
  private readonly sections: Record<TimelineChartId, ChartSection>;
  private readonly waiting = el('p', {
    className: 'placeholder waiting',
    text: 'Waiting for the checkpoints…',
    attrs: { role: 'status' },
  });
  private shown: Shown | undefined;
  private saveTimer: number | undefined;

  constructor(
    private readonly host: HostChannel,
    private readonly app: HTMLElement,
    private readonly tables = new Set<string>(),
  ) {
    applyThemeDefaults(this.theme);
    const sectionHost = {
      tableToggled: (id: SectionId, on: boolean) => {
        if (on) this.tables.add(id);
        else this.tables.delete(id);
        this.scheduleSave();
      },
      exportPng: (id: SectionId, canvas: HTMLCanvasElement) => this.exportPng(id, canvas),
    };
    const section = (id: TimelineChartId, title: string, intro: string): ChartSection =>
      new ChartSection(id, title, intro, sectionHost);
    this.sections = {
      gradNormTimeline: section(
        'gradNormTimeline',
        'Gradient norm',
        'The global L2 norm of the loss gradient at each checkpoint, on the model file’s data (log scale). Dashed lines mark the findings; click a point to open that checkpoint’s report.',
      ),
      rateTimeline: section(
        'rateTimeline',
        'Log10 rate per step',
        'Each layer’s fitted log10 change of the gradient norm per step back in time: below the vanishing line gradient signal dies out, above the exploding line it grows.',
      ),
      sigmaTimeline: section('sigmaTimeline', 'σ_max(W_hh)', 'The largest singular value of each layer’s W_hh.'),
      clipTimeline: section(
        'clipTimeline',
        'Recommended clip_norm',
        'The clip_norm each checkpoint’s batch gradient norms suggest (their mean), log scale: how the right threshold drifted.',
      ),
    };
    for (const [id, s] of Object.entries(this.sections)) if (this.tables.has(id)) s.setTable(true);
    app.classList.add('awaiting');
    app.replaceChildren(
      this.waiting,
      this.header,
      this.findings,
      ...Object.values(this.sections).map((s) => s.root),
      this.entries,
    );
  }

  /** Draws a timeline; returns the number of charts drawn. */
  render(shown: Shown): number {
    this.shown = shown;
    this.app.classList.remove('awaiting');
    this.renderHeader(shown);
    this.renderFindings(shown.timeline);
    this.renderEntries(shown.timeline);
    const n = this.renderCharts(shown.timeline);
    this.scheduleSave();
    return n;
  }

  /** Redraws with the current theme. */
  retheme(): void {
    this.theme = readTheme();
    applyThemeDefaults(this.theme);
    if (this.shown) this.renderCharts(this.shown.timeline);
  }

  /** The charts drawn, by id (for the test hook). */
  charts(): Partial<Record<TimelineChartId, Chart>> {
    const out: Partial<Record<TimelineChartId, Chart>> = {};
    for (const [id, s] of Object.entries(this.sections)) if (s.chart) out[id as TimelineChartId] = s.chart;
    return out;
  }

  private openStep(step: number): void {
    const entry = this.shown?.timeline.entries.find((e) => e.step === step);
    if (entry) this.host.post({ type: 'openStep', file: entry.file, step: entry.step });
  }

  private renderHeader(s: Shown): void {
    const t = s.timeline;
    const errors = t.entries.filter((e) => e.error !== undefined).length;
    const steps = t.entries.map((e) => e.step);
    const facts: string[] = [
      `${t.entries.length} checkpoint${t.entries.length === 1 ? '' : 's'}`,
      steps.length ? `steps ${Math.min(...steps)}–${Math.max(...steps)}` : 'no steps yet',
    ];
    if (errors) facts.push(`${errors} could not be analyzed`);
    if (s.running) facts.push(`analyzing: ${s.running.done} of ${s.running.total} done`);
    const watch = button(s.watching ? 'Watching for checkpoints' : 'Watch', () => this.toggleWatch(), {
      className: s.watching ? '' : 'secondary',
      attrs: {
        'aria-pressed': String(s.watching),
        'data-focus-key': 'watch',
        title: 'Add checkpoints to the timeline as training writes them',
      },
    });
    const titleRow = el('div', { className: 'title-row' }, [
      el('h1', { text: `Timeline: ${s.title}` }),
      el('div', { className: 'toolbar' }, [
        watch,
        button('Save JSON', () => this.exportJson(), { className: 'secondary' }),
      ]),
    ]);
    this.header.replaceChildren(
      titleRow,
      el('p', { className: 'status', text: facts.join(' · '), attrs: { role: 'status' } }),
    );
  }

  private toggleWatch(): void {
    if (!this.shown) return;
    this.host.post({ type: 'setWatch', on: !this.shown.watching });
  }

  private renderFindings(t: TimelineReport): void {
    const list = el('ul', { className: 'finding-list' });
    for (const f of t.findings) {
      const b = button('', () => this.openStep(f.step), {
        className: `finding severity-${f.severity}`,
        attrs: { 'data-step': String(f.step), 'data-code': f.code },
      });
      b.append(
        el('span', { className: `severity severity-${f.severity}`, text: f.severity }),
        el('span', { className: 'code', text: `${f.code} · step ${f.step}` }),
        el('span', { className: 'message', text: f.message }),
      );
      list.append(el('li', {}, [b]));
    }
    for (const e of t.entries.filter((x) => x.error !== undefined)) {
      const b = button('', () => this.openStep(e.step), {
        className: 'finding severity-error',
        attrs: { 'data-step': String(e.step), 'data-code': 'error' },
      });
      b.append(
        el('span', { className: 'severity severity-error', text: 'error' }),
        el('span', { className: 'code', text: `${e.file} · step ${e.step}` }),
        el('span', { className: 'message', text: e.error ?? '' }),
      );
      list.append(el('li', {}, [b]));
    }
    this.findings.replaceChildren(
      el('h2', { text: 'Findings', attrs: { id: 'timeline-findings-title' } }),
      t.findings.length || list.childElementCount
        ? list
        : el('p', { className: 'status', text: 'None: no regime change, gradient-norm spike or clip drift.' }),
    );
  }

  private renderEntries(t: TimelineReport): void {
    const keys = layerKeys(t);
    const headers = ['step', 'file', 'loss', 'grad norm', ...keys.map((k) => k.label), 'clip_norm', 'findings', ''];
    const rows = t.entries.map((e) => this.entryRow(e, keys, t));
    const tbl = table('The checkpoints of the run, by step', headers, []);
    const body = tbl.tBodies[0];
    t.entries.forEach((e, i) => {
      const tr = el('tr', { attrs: { 'data-step': String(e.step) } });
      for (const cell of rows[i]) tr.append(el('td', { text: cell }));
      tr.append(
        el('td', {}, [
          button(`Open step ${e.step}`, () => this.openStep(e.step), {
            className: 'secondary',
            attrs: { 'data-open-step': String(e.step) },
          }),
        ]),
      );
      body.append(tr);
    });
    this.entries.replaceChildren(
      el('h2', { text: 'Checkpoints', attrs: { id: 'timeline-entries-title' } }),
      el('div', { className: 'table-box', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Checkpoints' } }, [
        tbl,
      ]),
    );
  }

  private entryRow(e: TimelineEntry, keys: ReturnType<typeof layerKeys>, t: TimelineReport): string[] {
    const marks = t.findings.filter((f) => f.step === e.step).map((f) => f.code);
    if (e.error !== undefined) return [String(e.step), e.file, 'error', '', ...keys.map(() => ''), '', e.error];
    return [
      String(e.step),
      e.file,
      formatNumber(e.loss),
      formatNumber(e.grad_norm),
      ...keys.map((k) => {
        const l = e.layers?.find((x) => x.layer === k.layer && x.direction === k.direction);
        return l ? `${l.regime} ${rate(l.log10_rate_per_step)}, σ ${formatNumber(l.sigma_max)}` : '—';
      }),
      formatNumber(e.recommended?.clip_norm),
      [...marks, ...(e.codes ?? [])].join(' '),
    ];
  }

  private renderCharts(t: TimelineReport): number {
    const configs: Record<TimelineChartId, ChartConfiguration<'line'>> = {
      gradNormTimeline: gradNormTimelineConfig(gradNormTimelineModel(t), this.theme),
      rateTimeline: rateTimelineConfig(rateTimelineModel(t), this.theme),
      sigmaTimeline: sigmaTimelineConfig(sigmaTimelineModel(t), this.theme),
      clipTimeline: clipTimelineConfig(clipTimelineModel(t), this.theme),
    };
    let n = 0;
    for (const [id, config] of Object.entries(configs) as [TimelineChartId, ChartConfiguration<'line'>][]) {
      const s = this.sections[id];
      config.options = {
        ...config.options,
        onClick: (_event: ChartEvent, elements: ActiveElement[], chart: Chart) => {
          const hit = elements[0];
          if (!hit) return;
          const point = chart.data.datasets[hit.datasetIndex]?.data[hit.index] as { x: number } | undefined;
          if (point) this.openStep(point.x);
        },
        onHover: (event: ChartEvent, elements: ActiveElement[]) => {
          const target = event.native?.target as HTMLElement | undefined;
          if (target) target.style.cursor = elements.length ? 'pointer' : 'default';
        },
      };
      s.chart = upsertChart(s.chart, s.canvas, config);
      s.setTableBuilder(() => this.chartTable(id, config));
      n++;
    }
    return n;
  }

  /** A chart's numbers as a table: one row per step, one column per series. */
  private chartTable(id: TimelineChartId, config: ChartConfiguration<'line'>): HTMLElement {
    const datasets = config.data.datasets;
    const logAxis = id === 'gradNormTimeline' || id === 'clipTimeline';
    const steps = [...new Set(datasets.flatMap((d) => (d.data as { x: number }[]).map((p) => p.x)))].sort(
      (a, b) => a - b,
    );
    const rows = steps.map((step) => [
      step,
      ...datasets.map((d) => {
        const p = (d.data as { x: number; y: number }[]).find((q) => q.x === step);
        return p ? formatNumber(logAxis ? 10 ** p.y : p.y) : '—';
      }),
    ]);
    return table(
      this.sections[id].root.querySelector('h2')?.textContent ?? id,
      ['step', ...datasets.map((d) => d.label ?? '')],
      rows,
    );
  }

  private state(): PersistedTimelineState | null {
    if (!this.shown) return null;
    return {
      mode: 'timeline',
      title: this.shown.title,
      timeline: this.shown.timeline,
      tables: [...this.tables],
      watching: this.shown.watching,
      sources: this.shown.sources,
      base: this.shown.base,
    };
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = undefined;
      const s = this.state();
      if (s) this.host.saveTimelineState(s);
    }, 50);
  }

  private exportPng(id: SectionId, canvas: HTMLCanvasElement): void {
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
      suggestedName: `timeline-${id}.png`,
      content: out.toDataURL('image/png'),
    });
  }

  private exportJson(): void {
    if (!this.shown) return;
    this.host.post({
      type: 'exportFile',
      kind: 'json',
      suggestedName: 'timeline.json',
      content: JSON.stringify(this.shown.timeline, null, 2) + '\n',
    });
  }
}
