// The extension's settings, normalized from raw configuration values (vscode-free, unit-tested).
import type { RegimeThresholds } from '../engine/regime';

/** Settings under `rnnGradients.*`, validated. */
export interface ExtensionSettings {
  analyzeOnSave: boolean;
  /** Cap on the lag table; null: full. */
  maxLag: number | null;
  /** Regime thresholds; undefined: the engine's defaults. */
  thresholds: RegimeThresholds;
  /** Glob of model files the command offers when no model file is active. */
  modelFiles: string;
  /** Milliseconds before an analysis is abandoned; 0: no limit. */
  timeoutMs: number;
  /** Seconds of lag-table work before the table is sampled; 0: always exact. */
  lagBudgetSeconds: number;
}

/** Raw values as `WorkspaceConfiguration.get` returns them (anything a user may have typed). */
export interface RawSettings {
  analyzeOnSave?: unknown;
  maxLag?: unknown;
  vanishingLog10PerStep?: unknown;
  explodingLog10PerStep?: unknown;
  modelFiles?: unknown;
  timeoutSeconds?: unknown;
  lagBudgetSeconds?: unknown;
}

/** Default glob of model files. */
export const defaultModelFiles = '**/*.rnn.json';
/** Default analysis time limit in seconds. */
export const defaultTimeoutSeconds = 120;
/** Default lag-table budget in seconds (the engine's DEFAULT_LAG_BUDGET_SECONDS). */
export const defaultLagBudgetSeconds = 2;

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Validates raw settings; anything out of range falls back to its default. */
export function normalizeSettings(raw: RawSettings): ExtensionSettings {
  const thresholds: ExtensionSettings['thresholds'] = {};
  if (finite(raw.vanishingLog10PerStep)) thresholds.vanishingLog10PerStep = raw.vanishingLog10PerStep;
  if (finite(raw.explodingLog10PerStep)) thresholds.explodingLog10PerStep = raw.explodingLog10PerStep;
  const maxLag = finite(raw.maxLag) && raw.maxLag >= 0 ? Math.floor(raw.maxLag) : null;
  const timeoutSeconds =
    finite(raw.timeoutSeconds) && raw.timeoutSeconds >= 0 ? raw.timeoutSeconds : defaultTimeoutSeconds;
  const modelFiles =
    typeof raw.modelFiles === 'string' && raw.modelFiles.trim() !== '' ? raw.modelFiles.trim() : defaultModelFiles;
  return {
    analyzeOnSave: typeof raw.analyzeOnSave === 'boolean' ? raw.analyzeOnSave : true,
    maxLag,
    thresholds,
    modelFiles,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    lagBudgetSeconds:
      finite(raw.lagBudgetSeconds) && raw.lagBudgetSeconds >= 0 ? raw.lagBudgetSeconds : defaultLagBudgetSeconds,
  };
}
