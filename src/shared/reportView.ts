// Pure shaping of a Report into what the report panel draws: chart series, thresholds with the share of
// batches they clip, long-range contribution shares, and the CSV lag table. No DOM, no Chart.js: the
// webview maps these to charts, and the Node unit tests check them.
import type { ClipSuggestion, HeatmapReport, LagEntry, LayerReport, Regime, Report } from '../engine/report/types';
import { decimateEnvelope, decimateMinMax, decimateMinMaxArrays, type XY } from './decimate';
import { roundForConfig } from '../engine/report/format';

/** Above this many points a series is decimated (min/max kept per bucket): about two per pixel column of a panel. */
export const MAX_SERIES_POINTS = 600;
/** The lag cut-offs of the "long-range" contribution shares. */
export const LONG_RANGE_CUTOFFS: readonly number[] = [10, 50, 100];

/** A y range in log10 units with integer-step ticks that read as powers of ten. */
export interface Log10Axis {
  min: number;
  max: number;
  stepSize: number;
}

/** Integer-aligned axis bounds around [lo, hi] (log10 units) with about `ticks` labelled steps. */
export function log10Axis(lo: number, hi: number, ticks = 6): Log10Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: -1, max: 1, stepSize: 1 };
  if (hi < lo) [lo, hi] = [hi, lo];
  let min = Math.floor(lo);
  let max = Math.ceil(hi);
  if (max === min) {
    min -= 1;
    max += 1;
  }
  const raw = (max - min) / ticks;
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];
  const stepSize = steps.find((s) => s >= raw) ?? Math.ceil(raw);
  min = Math.floor(min / stepSize) * stepSize;
  max = Math.ceil(max / stepSize) * stepSize;
  return { min, max, stepSize };
}

function extent(series: readonly (readonly XY[])[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const p of s) {
      if (p.y < lo) lo = p.y;
      if (p.y > hi) hi = p.y;
    }
  }
  return { lo, hi };
}

// ---- 1. gradient norm across lags ----

/** One layer's curves on the lag chart, in log10 units. */
export interface LagSeries {
  layer: number;
  /** log10 of the mean norm per lag (lags whose norm is exactly 0 are left out). */
  mean: XY[];
  /** log10 of the min and max norm per lag: the band. */
  lower: XY[];
  upper: XY[];
  /** The measured geometric decay as a straight line from lag 0's log10_mean; null without a rate. */
  rate: XY[] | null;
  ratePerStep: number | null;
}

/** Everything the lag chart draws. */
export interface LagChartModel {
  series: LagSeries[];
  axis: Log10Axis;
  maxLag: number;
  /** Lag rows before decimation. */
  sourcePoints: number;
}

function present(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** Shapes the per-layer lag tables into decimated log10 series with min–max bands and the decay-rate line. */
export function lagChartModel(report: Report, maxPoints = MAX_SERIES_POINTS): LagChartModel {
  let maxLag = 0;
  let sourcePoints = 0;
  const series = report.layers.map((layer): LagSeries => {
    const n = layer.lags.length;
    const meanX = new Float64Array(n);
    const meanY = new Float64Array(n);
    const xs = new Float64Array(n);
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    let nMean = 0;
    let nBand = 0;
    for (const e of layer.lags) {
      const lm = e.log10_mean;
      if (lm !== null && Number.isFinite(lm)) {
        meanX[nMean] = e.lag;
        meanY[nMean++] = lm;
      }
      const a = e.log10_min;
      const b = e.log10_max;
      if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) {
        xs[nBand] = e.lag;
        lo[nBand] = a;
        hi[nBand++] = b;
      }
      if (e.lag > maxLag) maxLag = e.lag;
    }
    sourcePoints += n;
    const band = decimateEnvelope(xs, lo, hi, maxPoints, nBand);
    const ratePerStep = layer.evidence?.log10_rate_per_step ?? null;
    const first = layer.lags[0];
    const last = layer.lags[n - 1];
    let rate: XY[] | null = null;
    if (present(ratePerStep) && first && last && present(first.log10_mean)) {
      rate = [
        { x: first.lag, y: first.log10_mean },
        { x: last.lag, y: first.log10_mean + ratePerStep * (last.lag - first.lag) },
      ];
    }
    return {
      layer: layer.layer,
      mean: decimateMinMaxArrays(meanX, meanY, nMean, maxPoints),
      lower: band.lower,
      upper: band.upper,
      rate,
      ratePerStep,
    };
  });
  const { lo, hi } = extent(series.flatMap((s) => [s.mean, s.lower, s.upper, ...(s.rate ? [s.rate] : [])]));
  return { series, axis: log10Axis(lo, hi), maxLag, sourcePoints };
}

// ---- 2. temporal contributions ----

/** log10 of a lag's contribution_mean: the exact extra key when present, else from the plain figure (null for 0). */
export function log10Contribution(e: LagEntry): number | null {
  if (e.log10_contribution_mean !== undefined)
    return present(e.log10_contribution_mean) ? e.log10_contribution_mean : null;
  const c = e.contribution_mean;
  return c !== null && c > 0 && Number.isFinite(c) ? Math.log10(c) : null;
}

/** The share of a layer's summed contribution_mean that comes from lags beyond a cut-off. */
export interface LongRangeShare {
  cutoff: number;
  /** 0..1; null when the layer has no positive contribution at all. */
  share: number | null;
  /** Whether the table reaches beyond the cut-off at all (if not, the share is 0 for want of lags). */
  reached: boolean;
}

/**
 * Share of Σ_ℓ contribution_mean(ℓ) from lags ℓ > cutoff, for each cut-off. Sums in log space relative to the
 * largest term, so contributions far below the double range still count exactly where they matter.
 */
export function longRangeShares(layer: LayerReport, cutoffs: readonly number[] = LONG_RANGE_CUTOFFS): LongRangeShare[] {
  return sharesFromLogs(contributionLogs(layer), cutoffs);
}

/** A layer's lags with a known, positive contribution, and its log10 as parallel arrays. */
interface ContributionLogs {
  lags: Float64Array;
  log10: Float64Array;
  count: number;
  maxLag: number;
}

function contributionLogs(layer: LayerReport): ContributionLogs {
  const n = layer.lags.length;
  const lags = new Float64Array(n);
  const log10 = new Float64Array(n);
  let count = 0;
  let maxLag = -1;
  for (const e of layer.lags) {
    if (e.lag > maxLag) maxLag = e.lag;
    const v = log10Contribution(e);
    if (v === null) continue;
    lags[count] = e.lag;
    log10[count++] = v;
  }
  return { lags, log10, count, maxLag };
}

function sharesFromLogs(c: ContributionLogs, cutoffs: readonly number[]): LongRangeShare[] {
  let top = -Infinity;
  for (let i = 0; i < c.count; i++) if (c.log10[i] > top) top = c.log10[i];
  // Sum 10^(v − top) once, then the tail beyond each cut-off, all relative to the largest term.
  const terms = new Float64Array(c.count);
  let total = 0;
  for (let i = 0; i < c.count; i++) total += terms[i] = 10 ** (c.log10[i] - top);
  return cutoffs.map((cutoff) => {
    const reached = c.maxLag > cutoff;
    if (c.count === 0 || total === 0) return { cutoff, share: null, reached };
    let beyond = 0;
    for (let i = 0; i < c.count; i++) if (c.lags[i] > cutoff) beyond += terms[i];
    return { cutoff, share: beyond / total, reached };
  });
}

/** One layer's contribution curve. */
export interface ContributionSeries {
  layer: number;
  log10: XY[];
  shares: LongRangeShare[];
}

/** Everything the contribution chart draws. */
export interface ContributionChartModel {
  series: ContributionSeries[];
  axis: Log10Axis;
  maxLag: number;
  sourcePoints: number;
}

/** Shapes contribution_mean per lag into decimated log10 series, with the long-range shares per layer. */
export function contributionChartModel(report: Report, maxPoints = MAX_SERIES_POINTS): ContributionChartModel {
  let maxLag = 0;
  let sourcePoints = 0;
  const series = report.layers.map((layer): ContributionSeries => {
    const logs = contributionLogs(layer);
    if (logs.maxLag > maxLag) maxLag = logs.maxLag;
    sourcePoints += layer.lags.length;
    return {
      layer: layer.layer,
      log10: decimateMinMaxArrays(logs.lags, logs.log10, logs.count, maxPoints),
      shares: sharesFromLogs(logs, LONG_RANGE_CUTOFFS),
    };
  });
  const { lo, hi } = extent(series.map((s) => s.log10));
  return { series, axis: log10Axis(lo, hi), maxLag, sourcePoints };
}

// ---- 3. clipping ----

/**
 * Share (0..1) of batches whose global norm exceeds `threshold`, i.e. that clip_grad_norm_ would scale down.
 * A null norm (it overflowed) counts as clipped. Null for no batches.
 */
export function clippedShare(batchNorms: readonly (number | null)[], threshold: number): number | null {
  if (batchNorms.length === 0) return null;
  let clipped = 0;
  for (const n of batchNorms) if (n === null || n > threshold) clipped++;
  return clipped / batchNorms.length;
}

/** A horizontal line on the clipping chart. */
export interface ClipThreshold {
  /** Where it comes from: a suggestion method ("mean", "median", "autoclip_p10", …) or "current". */
  source: string;
  label: string;
  value: number;
  /** Share of batches it would clip. */
  share: number | null;
  recommended: boolean;
}

const METHOD_LABELS: Record<string, string> = {
  mean: 'mean (Pascanu et al.)',
  median: 'median',
  autoclip_p10: 'AutoClip p10',
};

/** The label for a suggestion method. */
export function methodLabel(method: string): string {
  return METHOD_LABELS[method] ?? method;
}

/**
 * The thresholds drawn on the clipping chart: each suggestion (the engine's clipped_share when given, else
 * computed from batch_norms) and the file's current training.clip_norm.
 */
export function clipThresholds(report: Report, currentClipNorm: number | null): ClipThreshold[] {
  const norms = report.clipping.batch_norms;
  const rec = report.clipping.recommended;
  const out: ClipThreshold[] = report.clipping.suggestions
    .filter((s: ClipSuggestion) => Number.isFinite(s.clip_norm))
    .map((s) => ({
      source: s.method,
      label: methodLabel(s.method),
      value: s.clip_norm,
      share: s.clipped_share ?? clippedShare(norms, s.clip_norm),
      recommended: s.method === rec.method,
    }));
  if (currentClipNorm !== null && Number.isFinite(currentClipNorm) && currentClipNorm > 0) {
    out.push({
      source: 'current',
      label: 'current clip_norm',
      value: currentClipNorm,
      share: clippedShare(norms, currentClipNorm),
      recommended: false,
    });
  }
  return out;
}

/** Everything the clipping chart draws; values in log10 when `logScale`, else plain. */
export interface ClippingChartModel {
  bars: XY[];
  thresholds: (ClipThreshold & { y: number })[];
  logScale: boolean;
  yMin: number;
  yMax: number;
  /** Batches whose norm is null (overflowed), left out of the bars. */
  overflowed: number;
  sourcePoints: number;
}

/** Batch norms and thresholds spanning more than this ratio are drawn on a log axis. */
export const CLIP_LOG_AXIS_RATIO = 20;

/** Shapes batch norms into bars (batch numbers from 1) and thresholds; a log axis when they span over CLIP_LOG_AXIS_RATIO. */
export function clippingChartModel(
  report: Report,
  currentClipNorm: number | null,
  maxPoints = MAX_SERIES_POINTS,
): ClippingChartModel {
  const thresholds = clipThresholds(report, currentClipNorm);
  const values: number[] = [];
  const raw: XY[] = [];
  let overflowed = 0;
  report.clipping.batch_norms.forEach((n, i) => {
    if (n === null || !Number.isFinite(n)) overflowed++;
    else raw.push({ x: i + 1, y: n });
  });
  for (const p of raw) values.push(p.y);
  for (const t of thresholds) values.push(t.value);
  const positive = values.filter((v) => v > 0);
  const lo = positive.length ? Math.min(...positive) : 1;
  const hi = values.length ? Math.max(...values) : 1;
  const logScale = positive.length > 0 && hi / lo > CLIP_LOG_AXIS_RATIO;
  const tf = (v: number): number => (logScale ? (v > 0 ? Math.log10(v) : Math.log10(lo) - 1) : v);
  const bars = decimateMinMax(
    raw.map((p) => ({ x: p.x, y: tf(p.y) })),
    Math.max(4, maxPoints),
  );
  let yMin: number;
  let yMax: number;
  if (logScale) {
    const axis = log10Axis(tf(lo), tf(hi));
    yMin = axis.min;
    yMax = axis.max;
  } else {
    yMin = 0;
    yMax = hi > 0 ? niceCeiling(hi * 1.05) : 1;
  }
  return {
    bars,
    thresholds: thresholds.map((t) => ({ ...t, y: tf(t.value) })),
    logScale,
    yMin,
    yMax,
    overflowed,
    sourcePoints: raw.length,
  };
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above x (a round axis maximum). */
export function niceCeiling(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

// ---- 4. Pascanu's condition ----

/** One layer's spectra against the 1/γ line. */
export interface PascanuRow {
  layer: number;
  sigmaMax: number;
  spectralRadius: number | null;
  gamma: number | null;
  /** 1/γ, the line σ_max is compared with; null when γ is null (lstm/gru) or 0. */
  threshold: number | null;
  /** σ_max·γ: below 1 the gradients provably vanish; above 1 they may explode. */
  bound: number | null;
  verdict: string;
}

/** Pascanu et al. (2013): σ_max < 1/γ is sufficient for vanishing; σ_max > 1/γ is necessary for exploding. */
export function pascanuRows(report: Report): PascanuRow[] {
  return report.layers.map((l) => {
    const threshold = l.gamma !== null && l.gamma > 0 ? 1 / l.gamma : null;
    const bound = l.gamma !== null ? l.sigma_max * l.gamma : null;
    let verdict: string;
    if (threshold === null)
      verdict = `Pascanu's condition is for rnn cells; this is a ${report.model.cell} layer, so only σ_max is shown.`;
    else if (l.sigma_max < threshold)
      verdict = `σ_max·γ = ${bound?.toPrecision(3)} < 1: long-range gradients must vanish.`;
    else
      verdict = `σ_max·γ = ${bound?.toPrecision(3)} ≥ 1: exploding gradients are possible (necessary condition met).`;
    return {
      layer: l.layer,
      sigmaMax: l.sigma_max,
      spectralRadius: l.spectral_radius,
      gamma: l.gamma,
      threshold,
      bound,
      verdict,
    };
  });
}

// ---- 5. heatmap ----

/** A heatmap ready to paint: size×size cells (row t-bin, column j-bin), log10 values, and their range. */
export interface HeatmapModel {
  layer: number;
  sequence: number;
  size: number;
  bin: number;
  length: number;
  values: (number | null)[];
  min: number;
  max: number;
}

/** Validates a report heatmap and finds its colour range (null when it holds no cell). */
export function heatmapModel(h: HeatmapReport): HeatmapModel | null {
  if (h.size <= 0 || h.log10_norm.length !== h.size * h.size) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const v of h.log10_norm) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return null;
  if (max === min) max = min + 1;
  return {
    layer: h.layer,
    sequence: h.sequence,
    size: h.size,
    bin: h.bin,
    length: h.length,
    values: h.log10_norm,
    min,
    max,
  };
}

const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** A perceptually even colour (viridis) for t in 0..1, as [r, g, b]. */
export function colourScale(t: number): [number, number, number] {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(c));
  const f = c - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** RGBA pixels (size×size, row 0 = first t-bin) for a heatmap; transparent where there is no gradient. */
export function heatmapPixels(m: HeatmapModel): Uint8ClampedArray<ArrayBuffer> {
  const px = new Uint8ClampedArray(m.size * m.size * 4);
  const span = m.max - m.min;
  for (let i = 0; i < m.values.length; i++) {
    const v = m.values[i];
    if (v === null || !Number.isFinite(v)) continue;
    const [r, g, b] = colourScale((v - m.min) / span);
    px[i * 4] = r;
    px[i * 4 + 1] = g;
    px[i * 4 + 2] = b;
    px[i * 4 + 3] = 255;
  }
  return px;
}

// ---- summary and actions ----

/** What a layer card shows. */
export interface LayerCard {
  layer: number;
  regime: Regime;
  rule: string;
  facts: { label: string; value: number | null; log10?: boolean }[];
}

/** One card per layer: the regime, the sentence of the rule that fired, and the numbers behind it. */
export function layerCards(report: Report): LayerCard[] {
  return report.layers.map((l) => ({
    layer: l.layer,
    regime: l.regime,
    rule: l.evidence?.rule ?? 'The engine gave no rule for this verdict.',
    facts: [
      { label: 'log10 change per step', value: l.evidence?.log10_rate_per_step ?? null },
      {
        label: `norm ratio at lag ${l.evidence?.measured_lag ?? '—'}`,
        value: l.evidence?.log10_ratio ?? null,
        log10: true,
      },
      { label: 'σ_max', value: l.sigma_max },
    ],
  }));
}

/** A copyable line of training code. */
export interface ClipSnippet {
  id: string;
  label: string;
  text: string;
}

/** PyTorch and Keras lines for the recommended clip_norm and clip_value (values rounded to 4 digits). */
export function clipSnippets(report: Report): ClipSnippet[] {
  const rec = report.clipping.recommended;
  const out: ClipSnippet[] = [];
  if (rec.clip_norm !== null && Number.isFinite(rec.clip_norm)) {
    const x = roundForConfig(rec.clip_norm);
    out.push({
      id: 'torch-norm',
      label: 'PyTorch, clip by norm',
      text: `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${x})`,
    });
    out.push({ id: 'keras-norm', label: 'Keras optimizer, clip by norm', text: `clipnorm=${x}` });
  }
  if (rec.clip_value !== null && Number.isFinite(rec.clip_value)) {
    const x = roundForConfig(rec.clip_value);
    out.push({
      id: 'torch-value',
      label: 'PyTorch, clip by value',
      text: `torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=${x})`,
    });
    out.push({ id: 'keras-value', label: 'Keras optimizer, clip by value', text: `clipvalue=${x}` });
  }
  return out;
}

// ---- export ----

const CSV_COLUMNS = [
  'layer',
  'lag',
  'count',
  'mean',
  'min',
  'max',
  'contribution_mean',
  'log10_mean',
  'log10_min',
  'log10_max',
  'log10_contribution_mean',
] as const;

/** One CSV field: numbers as JSON writes them (full precision), null as empty, text quoted when needed. */
export function csvField(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\r\n]/.test(v) || /^[=+\-@]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The lag table of every layer as CSV (header row, then one row per layer and lag, CRLF line ends). */
export function lagTableCsv(report: Report): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  for (const l of report.layers) {
    for (const e of l.lags) {
      lines.push(
        [
          l.layer,
          e.lag,
          e.count,
          e.mean,
          e.min,
          e.max,
          e.contribution_mean,
          e.log10_mean,
          e.log10_min,
          e.log10_max,
          e.log10_contribution_mean,
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/** A file name stem from the report's file ("models/char.rnn.json" → "char"), safe for a save dialog. */
export function exportStem(report: Report): string {
  const base = report.file.split(/[\\/]/).pop() ?? 'report';
  const stem = base.replace(/\.rnn\.json$/i, '').replace(/\.json$/i, '');
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return safe || 'report';
}

/** The display name of the model: its `name` when set, else the file. Always user data: render as text. */
export function modelTitle(report: Report): string {
  return report.model.name && report.model.name.trim() ? report.model.name : report.file;
}
