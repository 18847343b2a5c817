// The analysis report (report-format.md, version 1, and checkpoints.md section 5, version 2): what the CLI
// prints with --json and the panel shows.
import type { Direction, GruReset, KeyPath, SourceFormat } from '../model/types';

export type Severity = 'error' | 'warning' | 'info';
/** `undetermined`: the sequences are too short to measure a trend (README, "The regime rule"). */
export type Regime = 'vanishing' | 'exploding' | 'stable' | 'undetermined';

export type FindingCode =
  | 'invalid-model'
  | 'non-finite'
  | 'exploding-gradients'
  | 'vanishing-gradients'
  | 'clip-never-triggers'
  | 'clip-always-triggers'
  | 'forget-bias-low'
  | 'lag-overflow'
  | 'lag-non-finite'
  | 'trend-undetermined'
  | 'forget-gate-closed'
  | 'gate-saturated'
  | 'units-saturated'
  | 'dead-units'
  | 'synthetic-data'
  | 'unsupported-source';

/** One finding: something a person can act on, pointing at a key of the model file. */
export interface Finding {
  severity: Severity;
  code: FindingCode;
  message: string;
  path: KeyPath;
  /** Machine-readable extras for quick fixes (e.g. the suggested clip_norm). */
  data?: Record<string, number | string | null>;
}

/** Gradient summary of one parameter; values nested like the weight, only when asked for. */
export interface ParamGradient {
  norm: number | null;
  max_abs: number | null;
  values?: number[] | number[][];
}

/**
 * One row of the lag table of one layer. In a sampled table (report.lag_sampling not null) `count` is the
 * number of sampled pairs, mean and contribution_mean are estimates, and min/max (which would only bound the
 * sample) are replaced by min_sampled/max_sampled.
 */
export interface LagEntry {
  lag: number;
  count: number;
  /** null only where the figure is above the double range (log10_mean carries it). */
  mean: number | null;
  /** Exact tables only. */
  min?: number | null;
  max?: number | null;
  contribution_mean: number | null;
  log10_mean: number | null;
  /** Exact tables only. */
  log10_min?: number | null;
  log10_max?: number | null;
  /** log10 of contribution_mean, exact outside the double range (extra key). */
  log10_contribution_mean?: number | null;
  /** Sampled tables: true (the entry is an estimate). */
  sampled?: true;
  /** Sampled tables: the 95% confidence interval of log10_mean (nulls when every sampled norm was 0). */
  log10_mean_ci95?: [number | null, number | null];
  /** Sampled tables: the smallest and largest norm of the sample (not of the whole table). */
  min_sampled?: number | null;
  max_sampled?: number | null;
  log10_min_sampled?: number | null;
  log10_max_sampled?: number | null;
}

/** How a sampled lag table was drawn (report.lag_sampling). */
export interface LagSamplingReport {
  /** Sampled loss terms (columns: a sequence and an end point t). */
  endpoints: number;
  /** Sequences with at least one sampled end point. */
  sequences: number;
  seed: number;
  /** Strata over t. */
  strata: number;
  /** The sample's share of the exact table's work. */
  work_share: number;
}

/** The least-squares line the regime rule fitted: log10_mean ≈ intercept + slope·lag over from_lag..to_lag. */
export interface RegimeFit {
  intercept: number;
  slope: number;
  from_lag: number;
  to_lag: number;
}

/** The first lag whose mean norm is below 10⁻³ (decay) or above 10³ (growth) times lag 0's. */
export interface GradientHorizon {
  lag: number;
  kind: 'decay' | 'growth';
}

/** How the regime was decided (extra key): the numbers behind the verdict. */
export interface RegimeEvidence {
  /** Fitted log10 change of the mean lag norm per step (negative: decay); null when there is no fit. */
  log10_rate_per_step: number | null;
  /** log10 of mean norm at the last lag of the fit relative to lag 0; null when there is no fit. */
  log10_ratio: number | null;
  /** The last lag of the fit (or the first exactly-zero lag). */
  measured_lag: number;
  /** sigma_max · gamma: Pascanu's condition compares it with 1 (rnn only). */
  pascanu_bound: number | null;
  /** The fitted line (null when too short or exactly zero). */
  fit: RegimeFit | null;
  /** The gradient horizon within the lags computed, or null when the norm stays within 10⁻³…10³ of lag 0's. */
  horizon: GradientHorizon | null;
  /** The slope is within 10% of a threshold. */
  borderline: boolean;
  /** The first lag of the fit window whose mean norm is exactly zero (the layer is then vanishing), or null. */
  zero_from_lag: number | null;
  /** The sentences of the rule that fired, with the numbers. */
  rule: string;
}

/** A gate's name (gates-and-timeline.md section 1; PyTorch's order: lstm i, f, g, o; gru r, z, n). */
export type GateName = 'input' | 'forget' | 'cell' | 'output' | 'reset' | 'update' | 'new';

/** A fixed-bin histogram (extra key): `counts[i]` unit-steps in [lo + i·w, lo + (i+1)·w), w = (hi − lo)/bins. */
export interface HistogramReport {
  lo: number;
  hi: number;
  counts: number[];
}

/**
 * One gate of a layer and direction, over every unit and real step of every sequence (gates-and-timeline.md
 * section 1). Shares are of unit-steps; figures are null only when no sequence's forward pass stayed finite.
 */
export interface GateReport {
  /** Mean activation. */
  mean: number | null;
  /** Share below 0.05 (sigmoid gate) or −0.95 (tanh gate). */
  saturated_low: number | null;
  /** Share above 0.95. */
  saturated_high: number | null;
  /** L2 norm of the gate's rows g·H … (g+1)·H − 1 of the gradient of weight_hh_l{k} (all columns). */
  weight_hh_grad_norm: number | null;
  /** The same block of the gradient of weight_ih_l{k}. */
  weight_ih_grad_norm: number | null;
  /** Extra: the gate's activation, sigmoid (0…1) or tanh (−1…1). */
  activation?: 'sigmoid' | 'tanh';
  /** Extra: the activation distribution over the activation's range, 20 bins. */
  histogram?: HistogramReport;
}

/** A layer's unit values (h_t; m_t = o ⊙ tanh(c_t) for lstm; σ(x_t) for the pascanu form). */
export interface UnitsReport {
  /** Share of unit-steps with |value| > 0.95 (sigmoid rnn: > 0.95 or < 0.05; 0 for relu and linear). */
  saturated_share: number | null;
  /** Units exactly 0 at every real step of every sequence. */
  dead_units: number;
  /** Mean |value|. */
  mean_abs: number | null;
  /** Extra: the dead units' indices, ascending (the first 64). */
  dead_unit_indices?: number[];
  /** Extra: the number of unit-steps counted. */
  unit_steps?: number;
  /** Extra: the value distribution over −1…1 (0…1 for a sigmoid rnn); null for unbounded units. */
  histogram?: HistogramReport | null;
}

/** Per-layer (and direction) spectra, regime and lag table. */
export interface LayerReport {
  layer: number;
  /** Forward pairs are t ≥ j (lag t − j); reverse pairs t ≤ j (lag j − t). */
  direction: Direction;
  sigma_max: number;
  spectral_radius: number | null;
  gamma: number | null;
  regime: Regime;
  evidence?: RegimeEvidence;
  lags: LagEntry[];
  /** Gate statistics, by gate name ({} for an rnn cell). Absent only in reports of older versions. */
  gates?: Partial<Record<GateName, GateReport>>;
  /** Unit statistics. Absent only in reports of older versions. */
  units?: UnitsReport;
  /** Extra, LSTM with projections: the same figures over the P-wide projected h_t. */
  units_projected_h?: UnitsReport;
}

export interface ClipSuggestion {
  method: string;
  clip_norm: number;
  /** Share of batches (0..1) whose norm exceeds this threshold (extra key). */
  clipped_share?: number;
}

export interface ClippingReport {
  batch_norms: (number | null)[];
  suggestions: ClipSuggestion[];
  recommended: { clip_norm: number | null; clip_value: number | null; method: string; rationale: string };
}

export interface ModelSummary {
  cell: string;
  form: string;
  nonlinearity: string;
  input_size: number;
  hidden_size: number;
  num_layers: number;
  output_size: number;
  bidirectional: boolean;
  /** 0 without projections. */
  proj_size: number;
  gru_reset: GruReset;
  source: { format: SourceFormat; path?: string; module: string };
  name?: string;
}

/**
 * One sequence's map of log10 ‖∂ε_t/∂s_j‖ for one layer (extra key, computed only on request).
 * Rows are t-bins, columns j-bins, each `bin` steps wide; a cell holds the largest log10 norm in its
 * bin, or null where t < j (no gradient) or the norm is exactly 0.
 */
export interface HeatmapReport {
  layer: number;
  direction: Direction;
  sequence: number;
  length: number;
  bin: number;
  size: number;
  log10_norm: (number | null)[];
}

/** The whole report. */
export interface Report {
  /** 2 when the model file uses a version-2 feature (report/layers.ts reportVersion), else 1. */
  report_version: 1 | 2;
  file: string;
  model: ModelSummary;
  sequences: number;
  /** Σ_b T_b: the steps of all sequences together. */
  steps: number;
  /** Extra: the shortest and longest sequence's length (steps). */
  lengths?: { min: number; max: number };
  loss: number | null;
  grad_norm: number | null;
  gradients: Record<string, ParamGradient>;
  layers: LayerReport[];
  clipping: ClippingReport;
  findings: Finding[];
  /** Extra: per-layer (t, j) maps of one sequence, when requested. */
  heatmaps?: HeatmapReport[];
  /** Extra: true on the quick first report of a long run (short lags only; the full one follows). */
  partial?: boolean;
  /** How the lag table was sampled, or null when it is exact (absent from older reports: exact). */
  lag_sampling?: LagSamplingReport | null;
  /** Extra: the lag cap in force, if any. */
  max_lag?: number | null;
  /** Extra: wall time of the analysis in milliseconds. */
  elapsed_ms?: number;
}
