// The timeline report (shared/spec/gates-and-timeline.md section 2, `timeline_version: 1`): one entry
// per checkpoint of a training run, sorted by step, and the findings about the run as a whole.
import type { Severity } from '../report/types';

/** Where an entry's step came from (extra key): a checkpoint dict key, the file name, or name order. */
export type StepSource = 'step' | 'global_step' | 'iteration' | 'epoch' | 'name' | 'order';

/** One layer (and direction) of one checkpoint. */
export interface TimelineLayer {
  layer: number;
  direction: string;
  regime: string;
  log10_rate_per_step: number | null;
  sigma_max: number;
}

/** The architecture an entry was analyzed as (extra key): entries of other architectures are set aside. */
export interface TimelineArchitecture {
  cell: string;
  input_size: number;
  hidden_size: number;
  num_layers: number;
  output_size: number;
}

/** One checkpoint: the figures of `rnn-gradients analyze` on it, or the error that stopped it. */
export interface TimelineEntry {
  file: string;
  step: number;
  /** Extra: what the step was read from. */
  step_source?: StepSource;
  loss?: number | null;
  grad_norm?: number | null;
  layers?: TimelineLayer[];
  recommended?: { clip_norm: number | null; clip_value: number | null };
  /** The codes of the single-checkpoint report's findings, each once, in report order. */
  codes?: string[];
  /** Extra: the architecture analyzed. */
  model?: TimelineArchitecture;
  /** Extra: why this checkpoint has no figures (`file:line:col: message` lines joined by newlines). */
  error?: string;
}

export type TimelineFindingCode = 'regime-change' | 'grad-norm-spike' | 'clip-drift' | 'mixed-architecture';

/** A finding about the run, placed at a step. */
export interface TimelineFinding {
  severity: Severity;
  code: TimelineFindingCode;
  message: string;
  step: number;
  /** regime-change: the layer (and its direction). */
  layer?: number;
  direction?: string;
  /** Machine-readable extras (regime-change: from/to; spike: grad_norm, median_before, ratio; drift: from/to/ratio). */
  data?: Record<string, number | string | null>;
}

export interface TimelineReport {
  timeline_version: 1;
  entries: TimelineEntry[];
  findings: TimelineFinding[];
}
