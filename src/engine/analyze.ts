// The whole analysis: forward and backward passes, lag tables, spectra, clipping and findings -> Report.
import { GATES, type Model } from './model/types';
import type { Finding, LagEntry, LayerReport, ParamGradient, Report } from './report/types';
import { buildCells } from './cells';
import type { MatMul } from './matmul';
import { LossFunction } from './loss';
import { addScaled, backwardSequence, forwardSequence, gradArrays, zeroParamGrads, type ParamGrads } from './network';
import { accumulateLags, lagWork, lagWorkOf, type ColumnSubset } from './lags';
import { heatmapCollectorFor, heatmapReports, type HeatmapRequest } from './heatmap';
import { CancelledError } from './cancellation';
import { columnShares, SPLIT_MIN_FLOPS, type LagPartial, type LagSplitter } from './lagShare';
import { estimateAnalysisBytes, MAX_ANALYSIS_BYTES } from './memory';
import { LagStats } from './logscale';
import { largestSingularValue, spectralRadius } from './linalg';
import { ACTIVATIONS } from './activation';
import { classifyRegime, DEFAULT_THRESHOLDS, fmt, fmtPow, type RegimeThresholds } from './regime';
import { suggestClipping } from './clipping';

export interface AnalyzeOptions {
  file: string;
  gradientValues?: boolean;
  maxLag?: number | null;
  thresholds?: RegimeThresholds;
  heatmap?: HeatmapRequest | null;
  /** The matrix product of the lag recursion (default: plain TypeScript). */
  matmul?: MatMul;
  /**
   * Other threads that can take columns of the full lag table (see lagShare.ts). Used when the table
   * is large enough to pay for it; the caller's own columns then use `lagSplit.matmul`.
   */
  lagSplit?: LagSplitter;
  /** With onProgress: send a partial report of the short lags first on long runs (default true). */
  partial?: boolean;
  isCancelled?: () => boolean;
  onProgress?: (fraction: number, phase: string, partial?: Report) => void;
}

/** How often progress is reported, at most (ms). */
const PROGRESS_INTERVAL_MS = 50;

/** Lags of the quick first pass of a long run (sent as a partial report). */
const SHORT_LAGS = 32;

/** Lag-table work (flops) above which a run takes the two-pass route with a partial report. */
const PARTIAL_MIN_FLOPS = 4e9;

/** Mean forget-gate bias below which an lstm layer gets a finding (Jozefowicz et al. 2015 use 1). */
const FORGET_BIAS_LOW = 0.5;

/** Row-steps of the lag recursion that the caller's backward pass costs per time step, about (measured). */
const BACKWARD_ROWS_PER_STEP = { rnn: 40, other: 30 };

/** Row-steps that the spectra of one layer cost per unit of H / gates (rnn: σ_max and the radius), about. */
const SPECTRA_ROWS = { rnn: 245, other: 100 };

/** Analyzes a validated model. Throws CancelledError when cancelled; never returns NaN in the report. */
export function analyzeModel(model: Model, options: AnalyzeOptions): Report {
  const splitter = options.lagSplit;
  try {
    return analyze(model, options);
  } catch (e) {
    splitter?.abort();
    throw e;
  }
}

function analyze(model: Model, options: AnalyzeOptions): Report {
  const started = Date.now();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...definedOnly(options.thresholds ?? {}) };
  const cells = buildCells(model);
  const lossFn = new LossFunction(model);
  const B = model.sequences.length;
  const longest = Math.max(...model.sequences.map((s) => s.length));
  const maxLag = Math.min(options.maxLag ?? longest - 1, longest - 1);
  // Long runs take two passes: everything with the short lags first (sent as a partial report), then
  // the full lag table.
  const flopsPerRow = 2 * model.layers.reduce((a, w) => a + w.weightHh.data.length, 0);
  const lagFlops = model.sequences.reduce((a, s) => a + lagWork(s.length, maxLag), 0) * flopsPerRow;
  const twoPass =
    options.onProgress !== undefined &&
    (options.partial ?? true) &&
    maxLag > SHORT_LAGS &&
    lagFlops > PARTIAL_MIN_FLOPS;
  const firstLag = twoPass ? SHORT_LAGS : maxLag;
  // Split the columns of the full table across threads when it is large, and every thread's copy of
  // the forward traces fits in memory.
  const splitter = options.lagSplit;
  const split =
    splitter !== undefined &&
    splitter.threads > 1 &&
    lagFlops >= (splitter.minFlops ?? SPLIT_MIN_FLOPS) &&
    splitter.threads * estimateAnalysisBytes(model, maxLag) <= MAX_ANALYSIS_BYTES;
  const matmul = split ? splitter.matmul : options.matmul;
  const lagCells = matmul ? buildCells(model, matmul) : cells;
  const safeExponent = matmul?.safeExponent ?? 200;
  let own: ColumnSubset | undefined;
  if (split) {
    const steps = model.sequences.reduce((a, s) => a + s.length, 0);
    const shortRows = twoPass ? model.sequences.reduce((a, s) => a + lagWork(s.length, firstLag), 0) : 0;
    const kind = model.cell === 'rnn' ? 'rnn' : 'other';
    const spectraRows = model.layers.length * (model.hiddenSize / GATES[model.cell]) * SPECTRA_ROWS[kind];
    const callerExtra = BACKWARD_ROWS_PER_STEP[kind] * steps + spectraRows + shortRows;
    const shares = columnShares(
      splitter.threads,
      model.sequences.map((s) => s.length),
      maxLag,
      callerExtra,
    );
    own = shares[0];
    splitter.start(shares.slice(1).map((share) => ({ maxLag, heatmap: options.heatmap ?? null, share })));
  }
  const othersDone = (): number => (split ? splitter.progress() : 0);
  const stats = model.layers.map(() => new LagStats(firstLag + 1));
  const total = zeroParamGrads(model);
  const perSequence = zeroParamGrads(model);
  const batchGrads = zeroParamGrads(model);
  const batchSize = model.training.batchSize ?? B;
  const hm = options.heatmap && options.heatmap.sequence < B ? options.heatmap : null;
  const heatmap = heatmapCollectorFor(model, hm);

  const costOf = (T: number): number => lagWork(T, firstLag) + 2 * T;
  const secondCost = (T: number): number => (twoPass ? lagWork(T, maxLag) + T : 0);
  const totalWork = model.sequences.reduce((a, s) => a + costOf(s.length) + secondCost(s.length), 0);
  let workDone = 0;
  let lastReport = Date.now();
  const checkpoint = (extra: number, phase: string): void => {
    if (options.isCancelled?.()) throw new CancelledError();
    const now = Date.now();
    if (options.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      options.onProgress(Math.min(1, (workDone + extra + othersDone()) / totalWork), phase);
    }
  };

  let loss = 0;
  let lossFinite = true;
  const findings: Finding[] = [];
  const batchNorms: (number | null)[] = [];
  const batchMaxAbs: (number | null)[] = [];
  let lagNonFinite = false;
  for (let start = 0; start < B; start += batchSize) {
    clear(batchGrads);
    const end = Math.min(B, start + batchSize);
    let batchFinite = true;
    for (let b = start; b < end; b++) {
      const seq = model.sequences[b];
      checkpoint(0, 'forward');
      const fwd = forwardSequence(model, cells, lossFn, seq, () => checkpoint(0, 'forward'));
      if (fwd.nonFinite) {
        lossFinite = false;
        batchFinite = false;
        const where =
          fwd.nonFinite.layer < model.numLayers ? `the activations of layer ${fwd.nonFinite.layer}` : 'the loss';
        findings.push({
          severity: 'error',
          code: 'non-finite',
          message: `Overflow in the forward pass: ${where} of sequence ${b} became non-finite at step ${fwd.nonFinite.step}. Scale down the inputs or weight_hh, or clip activations.`,
          path: ['weights', `weight_hh_l${Math.min(fwd.nonFinite.layer, model.numLayers - 1)}`],
          data: { sequence: b, step: fwd.nonFinite.step },
        });
        workDone += costOf(seq.length);
        continue;
      }
      loss += fwd.loss / B;
      clear(perSequence);
      const bad = backwardSequence(model, cells, fwd, perSequence, () => checkpoint(seq.length, 'gradients'));
      if (bad) {
        batchFinite = false;
        findings.push({
          severity: 'error',
          code: 'non-finite',
          message: `Gradient overflow: backpropagating through sequence ${b}, the gradient of layer ${bad.layer}'s state became non-finite at step ${bad.step}. Clip gradients (see the suggested clip_norm) or scale down weight_hh_l${bad.layer}.`,
          path: ['weights', `weight_hh_l${bad.layer}`],
          data: { sequence: b, step: bad.step },
        });
      }
      addScaled(batchGrads, perSequence, 1 / (end - start));
      addScaled(total, perSequence, 1 / B);
      workDone += 2 * seq.length;
      const ownFirst = twoPass ? undefined : own;
      const nonFinite = accumulateLags(
        lagCells,
        fwd,
        firstLag,
        stats,
        { step: (rows) => checkpoint(rows, twoPass ? 'short lags' : 'lags') },
        !twoPass && hm?.sequence === b ? heatmap : null,
        safeExponent,
        ownFirst,
      );
      lagNonFinite ||= nonFinite;
      workDone += lagWorkOf(seq.length, firstLag, ownFirst);
    }
    const norm = batchFinite ? globalNorm(model, batchGrads) : null;
    batchNorms.push(norm !== null && Number.isFinite(norm) ? norm : null);
    const maxAbs = batchFinite ? globalMaxAbs(model, batchGrads) : null;
    batchMaxAbs.push(maxAbs !== null && Number.isFinite(maxAbs) ? maxAbs : null);
  }

  const isRnn = model.cell === 'rnn';
  const gamma = isRnn ? ACTIVATIONS[model.nonlinearity].gamma : null;
  // With a split table the spectra run while the other threads finish their columns.
  const spectra = model.layers.map((w) => ({
    sigmaMax: largestSingularValue(w.weightHh.rows, w.weightHh.cols, w.weightHh.data, () => checkpoint(0, 'spectra')),
    radius: isRnn ? spectralRadius(w.weightHh.cols, w.weightHh.data, () => checkpoint(0, 'spectra')) : null,
  }));
  /** Merges the other threads' columns into the caller's statistics (and map). */
  const mergeOthers = (into: LagStats[], phase: string): boolean => {
    if (!split) return false;
    const partials: LagPartial[] = splitter.finish(() => checkpoint(0, phase));
    let nonFinite = false;
    for (const p of partials) {
      into.forEach((s, k) => s.merge(p.stats[k]));
      if (heatmap && p.heatmap) heatmap.merge(p.heatmap);
      nonFinite ||= p.nonFinite;
    }
    return nonFinite;
  };
  if (!twoPass) lagNonFinite = mergeOthers(stats, 'lags') || lagNonFinite;
  if (lagNonFinite) {
    findings.push({
      severity: 'warning',
      code: 'non-finite',
      message: 'Some state gradients in the lag table were not finite and were left out of its statistics.',
      path: ['weights'],
    });
  }

  const gradients = reportGradients(model, total, options.gradientValues ?? false);
  const gradNorm = globalNorm(model, total);
  const clipping = suggestClipping(batchNorms, batchMaxAbs);
  const settingFindings = [
    ...clipFindings(model, clipping.batch_norms, clipping.recommended.clip_norm),
    ...forgetBiasFindings(model),
  ];

  /** The report for a lag table (the short one of a partial report, or the full one). */
  const buildReport = (lagStats: LagStats[], lagCap: number | null, partial: boolean): Report => {
    const layers = model.layers.map((_, k): LayerReport => {
      const lags = lagEntries(lagStats[k]);
      const { regime, evidence } = classifyRegime(lags, spectra[k].sigmaMax, gamma, thresholds);
      return {
        layer: k,
        sigma_max: spectra[k].sigmaMax,
        spectral_radius: spectra[k].radius,
        gamma,
        regime,
        evidence,
        lags,
      };
    });
    return {
      report_version: 1,
      file: options.file,
      model: {
        cell: model.cell,
        form: model.form,
        nonlinearity: model.nonlinearity,
        input_size: model.inputSize,
        hidden_size: model.hiddenSize,
        num_layers: model.numLayers,
        output_size: model.outputSize,
        ...(model.name !== undefined ? { name: model.name } : {}),
      },
      sequences: B,
      steps: model.sequences.reduce((a, s) => a + s.length, 0),
      loss: lossFinite && Number.isFinite(loss) ? loss : null,
      grad_norm: Number.isFinite(gradNorm) && lossFinite ? gradNorm : null,
      gradients,
      layers,
      clipping,
      findings: [...findings, ...overflowFindings(layers), ...regimeFindings(model, layers), ...settingFindings],
      max_lag: lagCap,
      ...(partial ? { partial: true } : {}),
      elapsed_ms: Date.now() - started,
    };
  };

  if (!twoPass) {
    const report = buildReport(stats, options.maxLag ?? null, false);
    if (heatmap && hm) report.heatmaps = heatmapReports(heatmap, hm.sequence);
    return report;
  }
  options.onProgress?.(
    Math.min(1, (workDone + othersDone()) / totalWork),
    'short lags done',
    buildReport(stats, firstLag, true),
  );
  const fullStats = model.layers.map(() => new LagStats(maxLag + 1));
  for (let b = 0; b < B; b++) {
    const seq = model.sequences[b];
    const fwd = forwardSequence(model, cells, lossFn, seq, () => checkpoint(0, 'lags'));
    workDone += seq.length;
    if (fwd.nonFinite) {
      workDone += lagWork(seq.length, maxLag);
      continue;
    }
    accumulateLags(
      lagCells,
      fwd,
      maxLag,
      fullStats,
      { step: (rows) => checkpoint(rows, 'lags') },
      hm?.sequence === b ? heatmap : null,
      safeExponent,
      own,
    );
    workDone += lagWorkOf(seq.length, maxLag, own);
  }
  mergeOthers(fullStats, 'lags');
  const report = buildReport(fullStats, options.maxLag ?? null, false);
  if (heatmap && hm) report.heatmaps = heatmapReports(heatmap, hm.sequence);
  return report;
}

function definedOnly(t: RegimeThresholds): RegimeThresholds {
  const out: RegimeThresholds = {};
  if (typeof t.vanishingLog10PerStep === 'number') out.vanishingLog10PerStep = t.vanishingLog10PerStep;
  if (typeof t.explodingLog10PerStep === 'number') out.explodingLog10PerStep = t.explodingLog10PerStep;
  return out;
}

function clear(g: ParamGrads): void {
  for (const a of gradArrays(g)) a.fill(0);
}

/** The parameters PyTorch would have, with their gradient arrays and shapes. */
function namedParams(
  model: Model,
  g: ParamGrads,
): { name: string; values: Float64Array; rows: number; cols: number | null }[] {
  const out: { name: string; values: Float64Array; rows: number; cols: number | null }[] = [];
  model.layers.forEach((w, k) => {
    const lg = g.layers[k];
    out.push({ name: `weight_ih_l${k}`, values: lg.weightIh, rows: w.weightIh.rows, cols: w.weightIh.cols });
    out.push({ name: `weight_hh_l${k}`, values: lg.weightHh, rows: w.weightHh.rows, cols: w.weightHh.cols });
    if (!w.omitted?.includes('biasIh'))
      out.push({ name: `bias_ih_l${k}`, values: lg.biasIh, rows: w.biasIh.length, cols: null });
    if (!w.omitted?.includes('biasHh'))
      out.push({ name: `bias_hh_l${k}`, values: lg.biasHh, rows: w.biasHh.length, cols: null });
  });
  if (model.readout && g.readoutWeight && g.readoutBias) {
    out.push({
      name: 'readout.weight',
      values: g.readoutWeight,
      rows: model.readout.weight.rows,
      cols: model.readout.weight.cols,
    });
    out.push({ name: 'readout.bias', values: g.readoutBias, rows: model.readout.bias.length, cols: null });
  }
  return out;
}

/** Global L2 norm over all parameters, as torch.nn.utils.clip_grad_norm_ computes it. */
function globalNorm(model: Model, g: ParamGrads): number {
  let scale = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) scale = Math.max(scale, Math.abs(v));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) s += (v / scale) * (v / scale);
  return scale * Math.sqrt(s);
}

function globalMaxAbs(model: Model, g: ParamGrads): number {
  let m = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) m = Math.max(m, Math.abs(v));
  return m;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function reportGradients(model: Model, g: ParamGrads, withValues: boolean): Record<string, ParamGradient> {
  const out: Record<string, ParamGradient> = {};
  for (const p of namedParams(model, g)) {
    let maxAbs = 0;
    let scale = 0;
    for (const v of p.values) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      scale = maxAbs;
    }
    let s = 0;
    if (scale > 0 && Number.isFinite(scale)) for (const v of p.values) s += (v / scale) * (v / scale);
    const norm = scale > 0 && Number.isFinite(scale) ? scale * Math.sqrt(s) : scale;
    const entry: ParamGradient = { norm: finiteOrNull(norm), max_abs: finiteOrNull(maxAbs) };
    if (withValues) {
      const plain = Array.from(p.values, (v) => (Number.isFinite(v) ? v : (null as unknown as number)));
      entry.values =
        p.cols === null
          ? plain
          : Array.from({ length: p.rows }, (_, r) => plain.slice(r * (p.cols as number), (r + 1) * (p.cols as number)));
    }
    out[p.name] = entry;
  }
  return out;
}

function lagEntries(stats: LagStats): LagEntry[] {
  const out: LagEntry[] = [];
  for (let lag = 0; lag < stats.measuredLags; lag++) {
    const e = stats.entry(lag);
    out.push({
      lag,
      count: e.count,
      mean: finiteOrNull(e.mean),
      min: finiteOrNull(e.min),
      max: finiteOrNull(e.max),
      contribution_mean: finiteOrNull(e.contribution),
      log10_mean: e.log10Mean,
      log10_min: e.log10Min,
      log10_max: e.log10Max,
      log10_contribution_mean: e.log10Contribution,
    });
  }
  return out;
}

/** Lag figures above the double range are null in the report; say so and where. */
function overflowFindings(layers: LayerReport[]): Finding[] {
  const out: Finding[] = [];
  for (const l of layers) {
    const first = l.lags.find((e) => e.mean === null || e.max === null || e.contribution_mean === null);
    if (!first) continue;
    out.push({
      severity: 'info',
      code: 'lag-overflow',
      message: `Layer ${l.layer}: from lag ${first.lag} on, gradient norms exceed the double range (up to 1e${Math.floor(
        Math.max(...l.lags.map((e) => e.log10_max ?? -Infinity)),
      )}); those figures are null and their log10_* fields carry the exact values.`,
      path: ['weights', `weight_hh_l${l.layer}`],
    });
  }
  return out;
}

function regimeFindings(model: Model, layers: LayerReport[]): Finding[] {
  const out: Finding[] = [];
  for (const l of layers) {
    if (l.regime === 'stable' || !l.evidence) continue;
    const ev = l.evidence;
    const cond =
      l.gamma !== null
        ? `; σ_max(W_hh) = ${fmt(l.sigma_max)} ${l.sigma_max < 1 / l.gamma ? '<' : '≥'} 1/γ = ${fmt(1 / l.gamma)}`
        : `; σ_max(W_hh) = ${fmt(l.sigma_max)}`;
    const trend =
      ev.log10_ratio === null
        ? "the sequences are too short to measure the trend, but Pascanu's sufficient condition holds"
        : `mean gradient norm ${l.regime === 'vanishing' ? 'falls' : 'grows'} to ${fmtPow(ev.log10_ratio)} of its lag-0 value within ${ev.measured_lag} steps`;
    const cure =
      model.cell === 'rnn'
        ? 'consider a gated cell (LSTM or GRU), or an orthogonal or identity initialisation of W_hh'
        : model.cell === 'lstm'
          ? 'consider a forget-gate bias of 1.0 and fewer saturated gates'
          : 'consider update-gate biases that keep z near 1 (carry the state) and fewer saturated gates';
    const advice =
      l.regime === 'vanishing'
        ? ` Long-range dependencies will hardly be learned: ${cure}.`
        : ' Clip gradients by norm (see the suggested clip_norm) or reduce the spectral norm of W_hh.';
    out.push({
      severity: 'warning',
      code: l.regime === 'vanishing' ? 'vanishing-gradients' : 'exploding-gradients',
      message: `Layer ${l.layer}: ${trend}${cond}.${advice}`,
      path: ['weights', `weight_hh_l${l.layer}`],
      data: { layer: l.layer, log10_rate_per_step: ev.log10_rate_per_step, sigma_max: l.sigma_max },
    });
  }
  return out;
}

function clipFindings(model: Model, batchNorms: (number | null)[], suggested: number | null): Finding[] {
  const clip = model.training.clipNorm;
  const norms = batchNorms.filter((n): n is number => n !== null);
  if (clip === null || norms.length === 0 || suggested === null) return [];
  const max = Math.max(...norms);
  const min = Math.min(...norms);
  if (max <= clip) {
    return [
      {
        severity: 'info',
        code: 'clip-never-triggers',
        message: `training.clip_norm = ${fmt(clip)} never triggers: the largest batch gradient norm is ${fmt(max)}. Suggested clip_norm: ${fmt(suggested)} (the mean batch norm).`,
        path: ['training', 'clip_norm'],
        data: { suggested },
      },
    ];
  }
  if (min > clip) {
    return [
      {
        severity: 'info',
        code: 'clip-always-triggers',
        message: `training.clip_norm = ${fmt(clip)} rescales every batch: the smallest batch gradient norm is ${fmt(min)}. Suggested clip_norm: ${fmt(suggested)} (the mean batch norm).`,
        path: ['training', 'clip_norm'],
        data: { suggested },
      },
    ];
  }
  return [];
}

function forgetBiasFindings(model: Model): Finding[] {
  if (model.cell !== 'lstm') return [];
  const H = model.hiddenSize;
  const out: Finding[] = [];
  model.layers.forEach((w, k) => {
    let s = 0;
    for (let i = H; i < 2 * H; i++) s += w.biasIh[i] + w.biasHh[i];
    const mean = s / H;
    if (mean < FORGET_BIAS_LOW) {
      out.push({
        severity: 'info',
        code: 'forget-bias-low',
        message: `Layer ${k}: the forget-gate bias averages ${fmt(mean)} (< ${FORGET_BIAS_LOW}); a bias of 1.0 helps the cell keep gradient signal over long lags (Jozefowicz et al. 2015).`,
        path: ['weights', w.omitted?.includes('biasIh') ? 'weight_ih_l' + k : `bias_ih_l${k}`],
        data: { layer: k, mean },
      });
    }
  });
  return out;
}
