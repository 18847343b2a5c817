// The report of an analysis, from the first pass's gradients and findings, the layers' spectra and a lag
// table: the partial report of a two-pass run's short lags, or the final one.
import { ACTIVATIONS } from '../activation';
import { suggestClipping } from '../clipping';
import { largestSingularValue, spectralRadius } from '../linalg';
import type { LagStats } from '../logscale';
import type { Model } from '../model/types';
import { classifyRegime, type RegimeThresholds } from '../regime';
import type {
  ClippingReport,
  Finding,
  LagEntry,
  LagSamplingReport,
  LayerReport,
  ParamGradient,
  Report,
} from '../report/types';
import { SampledLagStats, type LagSample } from '../lagSample';
import { reportVersion } from '../report/layers';
import type { BatchPassResult } from './batchPass';
import { cellFindings } from './cellFindings';
import { cellReports, type CellReport } from './cellReport';
import {
  clipFindings,
  forgetBiasFindings,
  lagNonFiniteFinding,
  overflowFindings,
  regimeFindings,
  sourceFindings,
} from './findings';
import { finiteOrNull, globalNorm, reportGradients } from './gradients';

/** σ_max of a layer's W_hh, and (rnn cells) its spectral radius. */
export interface LayerSpectra {
  sigmaMax: number;
  radius: number | null;
}

/** The spectra of every layer's W_hh; `check` is polled (it throws to cancel). */
export function layerSpectra(model: Model, check: () => void): LayerSpectra[] {
  const isRnn = model.cell === 'rnn';
  return model.layers.map((w) => ({
    sigmaMax: largestSingularValue(w.weightHh.rows, w.weightHh.cols, w.weightHh.data, check),
    radius: isRnn ? spectralRadius(w.weightHh.cols, w.weightHh.data, check) : null,
  }));
}

/** What the report is made of besides the lag table. */
export interface ReportParts {
  /** What the report prints in `file`. */
  file: string;
  /** Date.now() when the analysis started (for elapsed_ms). */
  started: number;
  thresholds: Required<RegimeThresholds>;
  spectra: LayerSpectra[];
  batches: BatchPassResult;
  /** Whether the lag table met a non-finite norm (a warning finding). */
  lagNonFinite: boolean;
  /** Include every gradient value. */
  gradientValues: boolean;
}

/** Builds reports for lag tables of one analysis; everything else is computed once. */
export class ReportBuilder {
  private readonly gamma: number | null;
  private readonly gradients: Record<string, ParamGradient>;
  private readonly gradNorm: number;
  private readonly clipping: ClippingReport;
  /** Findings of the passes (and the lag table's non-finite norms). */
  private readonly passFindings: Finding[];
  /** Findings about the file's settings (clip_norm, forget-gate bias). */
  private readonly settingFindings: Finding[];
  /** Each layer's gate and unit figures (the same for every lag table). */
  private readonly cells: CellReport[];
  /** Findings about the gates and units. */
  private readonly cellFindings: Finding[];

  constructor(
    private readonly model: Model,
    private readonly parts: ReportParts,
  ) {
    const { batches } = parts;
    this.gamma = model.cell === 'rnn' ? ACTIVATIONS[model.nonlinearity].gamma : null;
    this.passFindings = parts.lagNonFinite ? [...batches.findings, lagNonFiniteFinding()] : [...batches.findings];
    this.gradients = reportGradients(model, batches.total, parts.gradientValues);
    this.gradNorm = globalNorm(model, batches.total);
    this.clipping = suggestClipping(batches.batchNorms, batches.batchMaxAbs);
    this.settingFindings = [
      ...clipFindings(model, this.clipping.batch_norms, this.clipping.recommended.clip_norm),
      ...forgetBiasFindings(model),
    ];
    this.cells = cellReports(model, batches.cellStats, batches.total.layers);
    this.cellFindings = cellFindings(model, this.cells);
  }

  /** The report for a lag table (the short one of a partial report, or the full one). */
  build(
    lagStats: LagStats[] | SampledLagStats[],
    lagCap: number | null,
    partial: boolean,
    sample: LagSample | null = null,
  ): Report {
    const { model, parts, gamma } = this;
    const { batches, spectra } = parts;
    const layers = model.layers.map((w, k): LayerReport => {
      // The verdict reads the table as computed (at least VERDICT_LAGS lags); the report shows it up to the cap.
      const stats = lagStats[k];
      const computed = stats instanceof SampledLagStats ? sampledEntries(stats) : lagEntries(stats);
      const { regime, evidence } = classifyRegime(computed, spectra[k].sigmaMax, gamma, parts.thresholds);
      const lags = lagCap === null ? computed : computed.slice(0, lagCap + 1);
      if (sample && evidence) {
        evidence.rule += ` Estimated from a sample of the lag table (lag_sampling: ${sample.endpoints} end points); each lag's 95% interval is in its log10_mean_ci95.`;
      }
      return {
        layer: w.layer,
        direction: w.direction,
        sigma_max: spectra[k].sigmaMax,
        spectral_radius: spectra[k].radius,
        gamma,
        regime,
        evidence,
        lags,
        ...this.cells[k],
      };
    });
    return {
      report_version: reportVersion(model.v2Features),
      file: parts.file,
      model: {
        cell: model.cell,
        form: model.form,
        nonlinearity: model.nonlinearity,
        input_size: model.inputSize,
        hidden_size: model.hiddenSize,
        num_layers: model.numLayers,
        output_size: model.outputSize,
        bidirectional: model.bidirectional,
        proj_size: model.projSize,
        gru_reset: model.gruReset,
        source: { ...model.source },
        ...(model.name !== undefined ? { name: model.name } : {}),
      },
      sequences: model.sequences.length,
      steps: model.sequences.reduce((a, s) => a + s.length, 0),
      lengths: sequenceLengths(model.sequences),
      loss: batches.lossFinite && Number.isFinite(batches.loss) ? batches.loss : null,
      grad_norm: Number.isFinite(this.gradNorm) && batches.lossFinite ? this.gradNorm : null,
      gradients: this.gradients,
      layers,
      clipping: this.clipping,
      findings: [
        ...this.passFindings,
        ...overflowFindings(layers),
        ...regimeFindings(model, layers, parts.lagNonFinite),
        ...this.cellFindings,
        ...this.settingFindings,
        ...sourceFindings(model),
      ],
      max_lag: lagCap,
      lag_sampling: sample ? samplingReport(sample) : null,
      ...(partial ? { partial: true } : {}),
      elapsed_ms: Date.now() - parts.started,
    };
  }
}

/** The shortest and longest sequence's length (0 and 0 without sequences). */
function sequenceLengths(sequences: readonly { length: number }[]): { min: number; max: number } {
  if (!sequences.length) return { min: 0, max: 0 };
  let min = Infinity;
  let max = 0;
  for (const s of sequences) {
    min = Math.min(min, s.length);
    max = Math.max(max, s.length);
  }
  return { min, max };
}

/** The report's lag table of one layer. */
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

/** The report's sampled lag table of one layer: lags with at least two sampled pairs. */
function sampledEntries(stats: SampledLagStats): LagEntry[] {
  const out: LagEntry[] = [];
  const lags = stats.measuredLags;
  for (let lag = 0; lag < lags; lag++) {
    const e = stats.estimate(lag);
    out.push({
      lag,
      count: e.count,
      mean: finiteOrNull(e.mean),
      contribution_mean: finiteOrNull(e.contribution),
      log10_mean: e.log10Mean,
      log10_contribution_mean: e.log10Contribution,
      sampled: true,
      log10_mean_ci95: e.ci95,
      min_sampled: finiteOrNull(e.min),
      max_sampled: finiteOrNull(e.max),
      log10_min_sampled: e.log10Min,
      log10_max_sampled: e.log10Max,
    });
  }
  return out;
}

/** report.lag_sampling of a sample. */
function samplingReport(sample: LagSample): LagSamplingReport {
  return {
    endpoints: sample.endpoints,
    sequences: sample.masks.size,
    seed: sample.seed,
    strata: sample.population.length,
    work_share: sample.work / sample.exactWork,
  };
}
