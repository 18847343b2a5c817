// The whole analysis: forward and backward passes, lag tables, spectra, clipping and findings -> Report.
import type { Model } from './model/types';
import type { Report } from './report/types';

/** Thrown (name 'CancelledError') when a run is cancelled. */
export class CancelledError extends Error {
  constructor() {
    super('Analysis cancelled.');
    this.name = 'CancelledError';
  }
}

/** Thresholds of the regime rule (log10 change of the mean lag norm per step). */
export interface RegimeThresholds {
  vanishingLog10PerStep?: number;
  explodingLog10PerStep?: number;
}

export interface AnalyzeOptions {
  file: string;
  gradientValues?: boolean;
  maxLag?: number | null;
  thresholds?: RegimeThresholds;
  heatmap?: { sequence: number; maxSize: number } | null;
  isCancelled?: () => boolean;
  onProgress?: (fraction: number, phase: string, partial?: Report) => void;
}

/** Analyzes a validated model. Throws CancelledError when cancelled; never returns NaN in the report. */
export function analyzeModel(_model: Model, _options: AnalyzeOptions): Report {
  throw new Error('analyzeModel: not implemented yet');
}
