// Chart.js configurations for the five report charts. Only the components used are registered (no chart.js/auto).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type ChartOptions,
  type Plugin,
  type TooltipItem,
} from 'chart.js';
import type { XY } from '../src/shared/decimate';
import { formatFromLog10, formatNumber, formatPowerOfTen, formatShare } from '../src/engine/report/format';
import { log10TickLabel, type Log10Axis } from '../src/shared/reportView/axis';
import type { ClippingChartModel } from '../src/shared/reportView/clippingChart';
import type { ContributionChartModel } from '../src/shared/reportView/contributionChart';
import type { GateRow, GatesChartModel } from '../src/shared/reportView/gatesChart';
import type { HeatmapModel } from '../src/shared/reportView/heatmapChart';
import type { LagChartModel } from '../src/shared/reportView/lagChart';
import { GATED_REFERENCE, type PascanuRow } from '../src/shared/reportView/pascanuChart';
import type { BandLayer } from './bandLayer';
import { gutterWidth, refLinesPlugin, type RefLine } from './refLinesPlugin';
import { withAlpha, type Theme } from './theme';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  ScatterController,
  LinearScale,
  CategoryScale,
  Filler,
  Legend,
  Tooltip,
  refLinesPlugin,
);

/** Identifies each chart of the panel (also the PNG file name suffix and the test hook's key). */
export type ChartId = 'lags' | 'contributions' | 'clipping' | 'pascanu' | 'gates' | 'gateGrads' | 'heatmap';

/** The charts of the timeline panel. */
export type TimelineChartId = 'gradNormTimeline' | 'rateTimeline' | 'sigmaTimeline' | 'clipTimeline';

/** Any of our chart configurations. */
export type AnyChartConfig =
  | ChartConfiguration<'line'>
  | ChartConfiguration<'bar', XY[]>
  | ChartConfiguration<'bar'>
  | ChartConfiguration<'scatter'>;

/** Options of one cartesian axis, as the chart options accept them (deeply partial). */
type AxisOptions = NonNullable<ChartOptions<'line'>['scales']>[string];

/** Sets Chart.js's global font and colour from the theme. */
export function applyThemeDefaults(theme: Theme): void {
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize;
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
}

/**
 * Charts never animate: reports arrive as live updates (re-analysis, partial reports) where motion distracts,
 * and a 10,000-lag report must draw at once.
 */
const NO_ANIMATION = false;

export function axisTitle(text: string, theme: Theme): { display: true; text: string; color: string } {
  return { display: true, text, color: theme.muted };
}

/** Plain tick labels without Intl.NumberFormat (building formatters is slow on a cold page). */
function plainTick(v: number | string): string {
  if (typeof v !== 'number') return v;
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

export function linearScale(theme: Theme, title: string, extra: AxisOptions = {}): AxisOptions {
  const extraTicks = (extra as { ticks?: object }).ticks ?? {};
  const base: AxisOptions = {
    type: 'linear',
    title: axisTitle(title, theme),
    grid: { color: theme.grid },
    border: { color: theme.border },
  };
  return { ...base, ...extra, ticks: { color: theme.foreground, callback: plainTick, ...extraTicks } } as AxisOptions;
}

/** A linear axis over log10 values, labelled as powers of ten (so 1e-400 still has a place on it). */
export function log10Scale(axis: Log10Axis, theme: Theme, title: string): AxisOptions {
  const ticks = axis.ticks;
  return linearScale(theme, title, {
    min: axis.min,
    max: axis.max,
    // The axis model's ticks when it has them (2× and 5× a power of ten on a short range), else every step.
    ...(ticks
      ? {
          afterBuildTicks: (scale: { ticks: { value: number }[] }) => (scale.ticks = ticks.map((value) => ({ value }))),
        }
      : {}),
    ticks: {
      stepSize: axis.stepSize,
      callback: (v) =>
        typeof v !== 'number' ? '' : ticks ? log10TickLabel(v) : Number.isInteger(v) ? formatPowerOfTen(v) : '',
    },
  });
}

function legend(theme: Theme, hidden: ReadonlySet<number>): object {
  return {
    display: true,
    position: 'bottom',
    labels: {
      color: theme.foreground,
      boxWidth: 14,
      filter: (item: { datasetIndex?: number }) => !hidden.has(item.datasetIndex ?? -1),
    },
  };
}

export function lineDataset(
  label: string,
  data: XY[],
  colour: string,
  theme: Theme,
  extra: Partial<ChartDataset<'line'>> = {},
): ChartDataset<'line'> {
  return {
    label,
    data,
    borderColor: colour,
    backgroundColor: colour,
    borderWidth: theme.lineWidth,
    pointRadius: data.length > 60 ? 0 : 2,
    pointHoverRadius: 4,
    tension: 0,
    fill: false,
    ...extra,
  };
}

/**
 * Chart 1: mean gradient norm per lag (log10), the min–max band and the measured decay-rate line, per layer.
 * The bands go into `bands` (drawn by its plugin, which the chart must carry from creation); each band has an
 * empty dataset only for its legend entry.
 */
export function lagChartConfig(m: LagChartModel, theme: Theme, bands: BandLayer): ChartConfiguration<'line'> {
  const datasets: ChartDataset<'line'>[] = [];
  const hidden = new Set<number>();
  bands.bands = [];
  m.series.forEach((s, i) => {
    const colour = theme.series[i % theme.series.length];
    const fill = withAlpha(colour, theme.kind.startsWith('high') ? 0.35 : 0.18);
    bands.bands.push({ upper: s.upper, lower: s.lower, fill });
    hidden.add(datasets.length);
    datasets.push(
      lineDataset(`${s.label} min–max`, [], fill, theme, {
        borderWidth: 0,
        pointRadius: 0,
        backgroundColor: fill,
      }),
    );
    datasets.push(lineDataset(`${s.label} mean`, s.mean, colour, theme));
    if (s.rate) {
      const perStep =
        s.ratePerStep === null ? '' : ` (${s.ratePerStep >= 0 ? '+' : ''}${s.ratePerStep.toPrecision(3)} decades/step)`;
      datasets.push(
        lineDataset(`${s.label} measured rate${perStep}`, s.rate, colour, theme, {
          borderDash: [6, 4],
          pointRadius: 0,
          borderWidth: 1,
        }),
      );
    }
  });
  return {
    type: 'line',
    data: { datasets },
    plugins: [bands.plugin],
    options: lagLineOptions(
      m.axis,
      m.maxLag,
      theme,
      LAG_AXIS_TITLE,
      { legend: lagLegend(theme, hidden) },
      (item) => !hidden.has(item.datasetIndex),
    ),
  };
}

/** The lag chart's y title in plain Unicode (subscripts ₜ ₋ ₗ, no TeX): the mean norm of ∂ε_t/∂s_{t−ℓ}. */
export const LAG_AXIS_TITLE = 'mean ‖∂εₜ / ∂sₜ₋ₗ‖';

/** The kinds of legend swatch the lag chart draws. */
type SwatchKind = 'point' | 'dash' | 'band';

/**
 * A legend swatch as a small canvas (Chart.js draws an image point style at its own size, centred in the legend's
 * box): 2 text heights wide and 1 text height tall, so every swatch sits on its text's line at the text's height.
 * A point is a dot the size of a hovered chart point; a dash is the dataset's dashed line; a band a filled strip.
 */
function legendSwatch(kind: SwatchKind, colour: string, dash: number[], fontSize: number): HTMLCanvasElement {
  const h = Math.max(8, Math.round(fontSize));
  const w = 2 * h;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  ctx.fillStyle = colour;
  ctx.strokeStyle = colour;
  if (kind === 'point') {
    ctx.beginPath();
    ctx.arc(w / 2, h / 2, Math.max(3, Math.round(h * 0.3)), 0, 2 * Math.PI);
    ctx.fill();
  } else if (kind === 'dash') {
    ctx.lineWidth = 2;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(1, h / 2);
    ctx.lineTo(w - 1, h / 2);
    ctx.stroke();
  } else ctx.fillRect(1, Math.round(h * 0.2), w - 2, h - 2 * Math.round(h * 0.2));
  return canvas;
}

/**
 * The lag chart's legend: a dot for each mean, a dashed line for each measured rate, a filled strip for each
 * min–max band (the default boxes looked the same for a layer's mean and rate; circle point styles stretched to
 * the box width drew the mean as a wide ellipse). Each swatch is as tall as the legend text and twice as wide.
 */
function lagLegend(theme: Theme, hidden: ReadonlySet<number>): object {
  const base = legend(theme, new Set()) as { labels: Record<string, unknown> };
  const size = Math.max(8, Math.round(theme.fontSize));
  const swatches = new Map<string, HTMLCanvasElement>();
  const swatch = (kind: SwatchKind, colour: string, dash: number[]): HTMLCanvasElement => {
    const key = `${kind} ${colour} ${dash.join(',')}`;
    let canvas = swatches.get(key);
    if (!canvas) swatches.set(key, (canvas = legendSwatch(kind, colour, dash, size)));
    return canvas;
  };
  return {
    ...base,
    labels: {
      ...base.labels,
      usePointStyle: true,
      // The box the swatch image is centred in (Chart.js puts the text after it).
      pointStyleWidth: 2 * size,
      boxHeight: size,
      generateLabels: (chart: Chart) =>
        Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
          const dataset = chart.data.datasets[item.datasetIndex ?? -1] as ChartDataset<'line'> | undefined;
          const stroke = typeof item.strokeStyle === 'string' ? item.strokeStyle : theme.foreground;
          const colour = (dataset?.borderColor as string | undefined) ?? stroke;
          const dash = (dataset?.borderDash as number[] | undefined) ?? [];
          if (dash.length) return { ...item, pointStyle: swatch('dash', colour, dash), lineDash: dash };
          if (hidden.has(item.datasetIndex ?? -1)) {
            const fill = (dataset?.backgroundColor as string | undefined) ?? colour;
            return { ...item, pointStyle: swatch('band', fill, []), lineDash: [] };
          }
          return { ...item, pointStyle: swatch('point', colour, []), lineDash: [] };
        }),
      filter: () => true,
    },
  };
}

/**
 * Options shared by the two per-lag line charts: lag on x, a log10 axis on y, no animation, pre-parsed
 * data, and tooltips that print the lag and the figure from its log10. `plugins` adds chart-specific
 * plugin options; `filter` hides tooltip items (e.g. the band's placeholder datasets).
 */
function lagLineOptions(
  axis: Parameters<typeof log10Scale>[0],
  maxLag: number,
  theme: Theme,
  yLabel: string,
  plugins: Record<string, unknown>,
  filter?: (item: TooltipItem<'line'>) => boolean,
): ChartConfiguration<'line'>['options'] {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: NO_ANIMATION,
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: linearScale(theme, 'lag ℓ (steps)', { min: 0, max: Math.max(1, maxLag) }),
      y: log10Scale(axis, theme, yLabel),
    },
    plugins: {
      legend: legend(theme, new Set()),
      ...plugins,
      tooltip: {
        ...(filter ? { filter } : {}),
        callbacks: {
          title: (items) => (items.length ? `lag ${items[0].parsed.x}` : ''),
          label: (item) => `${item.dataset.label ?? ''}: ${formatFromLog10(item.parsed.y)}`,
        },
      },
    },
  };
}

/** Chart 2: contribution_mean per lag (log10), with markers at the long-range cut-offs and their shares. */
export function contributionChartConfig(m: ContributionChartModel, theme: Theme): ChartConfiguration<'line'> {
  const datasets = m.series.map((s, i) =>
    lineDataset(`${s.label} contribution`, s.log10, theme.series[i % theme.series.length], theme),
  );
  const lines: RefLine[] = [];
  const cutoffs = m.series[0]?.shares.map((s) => s.cutoff) ?? [];
  cutoffs.forEach((cutoff, k) => {
    if (cutoff > m.maxLag) return;
    const shares = m.series
      .map((s) => (m.series.length > 1 ? `${s.short} ` : '') + formatShare(s.shares[k]?.share ?? null))
      .join(', ');
    lines.push({
      id: `cutoff-${cutoff}`,
      axis: 'x',
      value: cutoff,
      colour: theme.muted,
      width: 1,
      dash: [3, 3],
      label: `ℓ > ${cutoff}: ${shares}`,
      position: 'start',
      labelColour: theme.foreground,
      labelBackground: withAlpha(theme.background, 0.85),
    });
  });
  return {
    type: 'line',
    data: { datasets },
    // The share labels sit in a band above the plot, each on its cut-off line, never on the curve.
    options: lagLineOptions(m.axis, m.maxLag, theme, 'mean ‖temporal contribution‖', {
      refLines: { lines, band: true },
    }),
  };
}

/** A threshold line's label text: its names, value and the share of batches it clips. */
export function thresholdLabel(names: string[], value: number, share: number | null): string {
  return `${names.join(' = ')}: ${formatNumber(value)} · clips ${formatShare(share)}`;
}

/** Chart 3: the global gradient norm of each batch, with a line per suggested threshold and the current clip_norm. */
export function clippingChartConfig(m: ClippingChartModel, theme: Theme): ChartConfiguration<'bar', XY[]> {
  const lines: RefLine[] = [];
  // Thresholds with the same value share one line, so labels do not sit on each other.
  const groups = new Map<string, typeof m.thresholds>();
  for (const t of m.thresholds) {
    const key = t.value.toPrecision(6);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const sorted = [...groups.values()].sort((a, b) => a[0].value - b[0].value);
  sorted.forEach((group) => {
    const first = group[0];
    const current = group.some((t) => t.source === 'current');
    const names = group.map((t) => t.label + (t.recommended ? ' (recommended)' : ''));
    lines.push({
      id: `threshold-${group.map((t) => t.source).join('-')}`,
      axis: 'y',
      value: first.y,
      colour: theme.threshold(current ? 'current' : first.source),
      width: current || first.recommended ? theme.lineWidth + 0.5 : theme.lineWidth,
      dash: current ? [8, 4] : first.recommended ? [] : [4, 3],
      label: thresholdLabel(names, first.value, first.share),
      // In the gutter right of the bars: a row per name, then the value and its share.
      rows: [...names, `${formatNumber(first.value)} · clips ${formatShare(first.share)}`],
      position: 'end',
      labelColour: theme.foreground,
      labelBackground: withAlpha(theme.background, 0.85),
    });
  });
  const gutter = gutterWidth(
    lines.flatMap((l) => l.rows ?? []),
    `${theme.fontSize}px ${theme.fontFamily}`,
  );
  const yLog = m.logScale;
  const yScale = yLog
    ? log10Scale({ min: m.yMin, max: m.yMax, stepSize: 1 }, theme, 'global gradient norm')
    : linearScale(theme, 'global gradient norm', { min: m.yMin, max: m.yMax });
  return {
    type: 'bar',
    data: {
      datasets: [
        {
          label: 'batch norm',
          data: m.bars,
          backgroundColor: withAlpha(theme.series[0], theme.kind.startsWith('high') ? 0.9 : 0.6),
          borderColor: theme.series[0],
          borderWidth: 0,
          base: m.logScale ? m.yMin : 0,
          barPercentage: 0.9,
          categoryPercentage: 1,
          minBarLength: 1,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: NO_ANIMATION,
      parsing: false,
      normalized: true,
      // The threshold labels sit in a column right of the bars (refLinesPlugin's gutter), never on them.
      layout: { padding: { right: gutter } },
      scales: {
        // Half a slot either side of the first and last batch: no empty slots at the ends.
        x: linearScale(theme, 'batch', {
          min: 0.5,
          max: Math.max(1, m.sourcePoints + m.overflowed) + 0.5,
          // A bar chart's x axis is offset by default (another half slot at each end).
          offset: false,
          ticks: { precision: 0, includeBounds: false },
        }),
        y: yScale,
      },
      plugins: {
        legend: { display: false },
        refLines: { lines, gutter: { width: gutter } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? `batch ${items[0].parsed.x}` : ''),
            label: (item) => `norm ${yLog ? formatFromLog10(item.parsed.y) : formatNumber(item.parsed.y)}`,
          },
        },
      },
    },
  };
}

/** Chart 4: σ_max and spectral radius per layer, against the 1/γ line of Pascanu's condition (rnn cells). */
export function pascanuChartConfig(rows: PascanuRow[], theme: Theme): ChartConfiguration<'bar'> {
  const labels = rows.map((r) => r.label);
  const datasets: ChartDataset<'bar'>[] = [
    {
      label: 'σ_max (largest singular value)',
      data: rows.map((r) => r.sigmaMax),
      backgroundColor: theme.series[0],
      borderWidth: 0,
    },
  ];
  if (rows.some((r) => r.spectralRadius !== null)) {
    datasets.push({
      label: 'spectral radius',
      data: rows.map((r) => r.spectralRadius),
      backgroundColor: theme.series[2],
      borderWidth: 0,
    });
  }
  const lines: RefLine[] = [];
  const thresholds = [...new Set(rows.map((r) => r.threshold).filter((t): t is number => t !== null))];
  thresholds.forEach((t, k) => {
    lines.push({
      id: `inverse-gamma-${k}`,
      axis: 'y',
      value: t,
      colour: theme.threshold('current'),
      width: theme.lineWidth,
      dash: [6, 4],
      label: `1/γ = ${formatNumber(t)}`,
      rows: [`1/γ = ${formatNumber(t)}`],
      position: 'end',
      labelColour: theme.foreground,
      labelBackground: withAlpha(theme.background, 0.85),
    });
  });
  // Gated layers (lstm, gru) have no 1/γ: a reference line at σ_max = 1, labelled as no more than that.
  if (rows.some((r) => r.reference !== null)) {
    lines.push({
      id: 'reference-1',
      axis: 'y',
      value: GATED_REFERENCE,
      colour: theme.muted,
      width: theme.lineWidth,
      dash: [3, 3],
      label: 'σ_max = 1 (reference; no 1/γ bound for gated cells)',
      rows: ['σ_max = 1', 'reference only'],
      position: 'end',
      labelColour: theme.foreground,
      labelBackground: withAlpha(theme.background, 0.85),
    });
  }
  const top = Math.max(...rows.map((r) => Math.max(r.sigmaMax, r.spectralRadius ?? 0, r.threshold ?? 0)), 1);
  // The line labels sit in a column right of the bars (as on the clipping chart), never on a bar.
  const gutter = gutterWidth(
    lines.flatMap((l) => l.rows ?? []),
    `${theme.fontSize}px ${theme.fontFamily}`,
  );
  return {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: NO_ANIMATION,
      layout: { padding: { right: gutter } },
      scales: {
        x: {
          type: 'category',
          grid: { color: theme.grid },
          border: { color: theme.border },
          ticks: { color: theme.foreground },
        },
        y: linearScale(theme, 'singular value / |eigenvalue|', { min: 0, suggestedMax: top * 1.15 }),
      },
      plugins: {
        legend: legend(theme, new Set()),
        refLines: { lines, gutter: { width: gutter } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${formatNumber(item.parsed.y)}` } },
      },
    },
  };
}

/**
 * The gates chart: per gate of every layer and direction, one horizontal bar split into the shares of unit-steps
 * saturated low (< 0.05, tanh gates < −0.95), unsaturated, and saturated high (> 0.95): the activation
 * distribution with its saturated shares marked. The tooltip adds the mean activation.
 */
export function gatesChartConfig(m: GatesChartModel, theme: Theme): ChartConfiguration<'bar'> {
  const rows = m.gates;
  const segment = (label: string, data: (number | null)[], colour: string): ChartDataset<'bar'> => ({
    label,
    data,
    backgroundColor: colour,
    borderWidth: 0,
    stack: 'share',
  });
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.label),
      datasets: [
        segment(
          'saturated low (< 0.05; tanh gates < −0.95)',
          rows.map((r) => r.saturatedLow),
          theme.series[0],
        ),
        segment(
          'unsaturated',
          rows.map((r) => r.unsaturated),
          withAlpha(theme.muted, 0.35),
        ),
        segment(
          'saturated high (> 0.95)',
          rows.map((r) => r.saturatedHigh),
          theme.series[1],
        ),
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: NO_ANIMATION,
      scales: {
        x: linearScale(theme, 'share of unit-steps', { min: 0, max: 1, stacked: true }),
        y: {
          type: 'category',
          stacked: true,
          grid: { color: theme.grid },
          border: { color: theme.border },
          ticks: { color: theme.foreground },
        },
      },
      plugins: {
        legend: legend(theme, new Set()),
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'bar'>) => `${item.dataset.label ?? ''}: ${formatShare(item.parsed.x)}`,
            afterBody: (items: TooltipItem<'bar'>[]) => {
              const r = rows[items[0]?.dataIndex ?? -1];
              return r ? `mean activation ${formatNumber(r.mean)}` : '';
            },
          },
        },
      },
    },
  };
}

/** The gates of one layer and direction, for its distribution chart. */
export interface GateLayer {
  /** "layer 0", "layer 1 (reverse)". */
  label: string;
  /** Stable key: "0", "1-reverse". */
  key: string;
  rows: GateRow[];
}

/** Groups the model's gate rows by layer and direction (in report order), keeping only gates with a histogram. */
export function gateLayers(m: GatesChartModel): GateLayer[] {
  const out: GateLayer[] = [];
  for (const r of m.gates) {
    if (!r.shares.length) continue;
    const key = `${r.layer}${r.direction === 'reverse' ? '-reverse' : ''}`;
    let group = out.find((g) => g.key === key);
    if (!group) {
      group = { label: r.label.slice(0, r.label.length - r.gate.length - 1), key, rows: [] };
      out.push(group);
    }
    group.rows.push(r);
  }
  return out;
}

/** A histogram as a step line: [(e0, s0), (e1, s0), (e2, s1), …, (eN, s_{N−1})], drawn with stepped 'before'. */
function histogramSteps(edges: number[], shares: number[]): XY[] {
  if (!shares.length) return [];
  return edges.map((x, i) => ({ x, y: shares[Math.max(0, i - 1)] }));
}

/**
 * The activation distribution of each gate of one layer and direction: the share of unit-steps per bin of the
 * report's histogram (a step line per gate over the activation value), with the saturation cuts (0.05 and 0.95;
 * −0.95 for the tanh gates cell/new) drawn as reference lines labelled with each gate's saturated share.
 */
export function gateDistributionChartConfig(layer: GateLayer, theme: Theme): ChartConfiguration<'line'> {
  const gateColour = (gate: string): string => {
    const order = ['input', 'forget', 'cell', 'output', 'reset', 'update', 'new'];
    return theme.series[order.indexOf(gate) % theme.series.length];
  };
  const datasets = layer.rows.map((r) =>
    lineDataset(
      `${r.gate} (mean ${formatNumber(r.mean)}; saturated ${formatShare(r.saturatedLow)} low, ${formatShare(r.saturatedHigh)} high)`,
      histogramSteps(r.edges, r.shares),
      gateColour(r.gate),
      theme,
      { stepped: 'before', pointRadius: 0, pointHoverRadius: 0 },
    ),
  );
  const sigmoid = layer.rows.filter((r) => r.activation === 'sigmoid');
  const tanh = layer.rows.filter((r) => r.activation === 'tanh');
  const shares = (rows: GateRow[], pick: (r: GateRow) => number | null): string =>
    rows.map((r) => `${r.gate} ${formatShare(pick(r))}`).join(', ');
  const cut = (id: string, value: number, label: string, position: RefLine['position']): RefLine => ({
    id,
    axis: 'x',
    value,
    colour: theme.threshold('current'),
    width: 1,
    dash: [4, 3],
    label,
    position,
    labelColour: theme.foreground,
    labelBackground: withAlpha(theme.background, 0.85),
  });
  const lines: RefLine[] = [];
  if (tanh.length)
    lines.push(cut('saturated-low-tanh', -0.95, `< −0.95: ${shares(tanh, (r) => r.saturatedLow)}`, 'start'));
  if (sigmoid.length)
    lines.push(cut('saturated-low', 0.05, `< 0.05: ${shares(sigmoid, (r) => r.saturatedLow)}`, 'center'));
  if (layer.rows.length)
    lines.push(cut('saturated-high', 0.95, `> 0.95: ${shares(layer.rows, (r) => r.saturatedHigh)}`, 'end'));
  const top = Math.max(0, ...layer.rows.flatMap((r) => r.shares));
  return {
    type: 'line',
    data: { datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: NO_ANIMATION,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: linearScale(theme, 'activation (sigmoid gates 0…1, tanh gates −1…1)', {
          min: tanh.length ? -1 : 0,
          max: 1,
        }),
        y: linearScale(theme, 'share of unit-steps per bin', {
          min: 0,
          max: Math.min(1, Math.max(0.05, Math.ceil(top * 10.5) / 10)),
        }),
      },
      plugins: {
        legend: legend(theme, new Set()),
        refLines: { lines },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? `activation ≤ ${formatNumber(items[0].parsed.x)}` : ''),
            label: (item) =>
              `${(item.dataset.label ?? '').split(' (')[0]}: ${formatShare(item.parsed.y)} of unit-steps`,
          },
        },
      },
    },
  };
}

/**
 * The gate gradient chart: per gate, the norms of its rows of the weight_hh and weight_ih gradients (log10 on a
 * linear axis labelled as powers of ten; a zero or overflowed norm has no bar).
 */
export function gateGradsChartConfig(m: GatesChartModel, theme: Theme): ChartConfiguration<'bar'> {
  const rows = m.gates;
  const log = (x: number | null): number | null => (x !== null && x > 0 && Number.isFinite(x) ? Math.log10(x) : null);
  const hh = rows.map((r) => log(r.weightHhGradNorm));
  const ih = rows.map((r) => log(r.weightIhGradNorm));
  const all = [...hh, ...ih].filter((v): v is number => v !== null);
  const min = all.length ? Math.floor(Math.min(...all)) - 1 : -1;
  const max = all.length ? Math.ceil(Math.max(...all)) : 0;
  const bar = (label: string, data: (number | null)[], colour: string): ChartDataset<'bar'> => ({
    label,
    data: data.map((v) => (v === null ? null : v - min)),
    backgroundColor: colour,
    borderWidth: 0,
  });
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.label),
      datasets: [
        bar('‖∂ε/∂W_hh‖ (gate rows)', hh, theme.series[0]),
        bar('‖∂ε/∂W_ih‖ (gate rows)', ih, theme.series[2]),
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: NO_ANIMATION,
      scales: {
        x: {
          type: 'category',
          grid: { color: theme.grid },
          border: { color: theme.border },
          ticks: { color: theme.foreground },
        },
        y: linearScale(theme, 'gradient norm', {
          min: 0,
          max: max - min,
          ticks: {
            stepSize: 1,
            callback: (v) => (typeof v === 'number' && Number.isInteger(v) ? formatPowerOfTen(v + min) : ''),
          },
        }),
      },
      plugins: {
        legend: legend(theme, new Set()),
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'bar'>) =>
              `${item.dataset.label ?? ''}: ${formatFromLog10(item.parsed.y === null ? null : item.parsed.y + min)}`,
          },
        },
      },
    },
  };
}

/** Chart 5: one sequence's (t, j) map of log10 ‖∂ε_t/∂s_j‖, painted as an image inside Chart.js axes. */
export function heatmapChartConfig(
  m: HeatmapModel,
  image: HTMLCanvasElement,
  theme: Theme,
): ChartConfiguration<'scatter'> {
  const extentSteps = m.size * m.bin;
  const paint: Plugin<'scatter'> = {
    id: 'heatmapImage',
    beforeDatasetsDraw(chart) {
      const { left, top, width, height } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(image, left, top, width, height);
      ctx.restore();
    },
  };
  return {
    type: 'scatter',
    data: { datasets: [{ label: 'map', data: [] }] },
    plugins: [paint],
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      events: [],
      scales: {
        x: linearScale(theme, 'j: step of the state s_j', { min: 0, max: extentSteps, grid: { display: false } }),
        y: linearScale(theme, 't: step of the loss ε_t', {
          min: 0,
          max: extentSteps,
          reverse: true,
          grid: { display: false },
        }),
      },
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  };
}

/**
 * Creates a chart, or updates one in place with a new configuration of the same type (live re-analysis, re-theme).
 * Inline plugins are fixed at creation: charts that carry one must keep the objects it reads stable.
 */
export function upsertChart(existing: Chart | undefined, canvas: HTMLCanvasElement, config: AnyChartConfig): Chart {
  if (existing && existing.canvas === canvas && (existing.config as { type?: string }).type === config.type) {
    existing.data = config.data;
    existing.options = config.options as Chart['options'];
    existing.update('none');
    return existing;
  }
  existing?.destroy();
  // tsc needs the cast (Chart's constructor is generic over the chart type); the rule misreads that.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return new Chart(canvas, config as ChartConfiguration);
}

export { Chart };
