// What one analysis holds in memory at once, estimated from the model's sizes before anything is
// allocated, so that a file asking for more than the limit gets a clear message instead of a crash.
import { GATES, type Model } from './model/types';
import { computedMaxLag } from './regime';

/** Bytes the analysis may hold for one sequence's forward trace and lag buffers. */
export const MAX_ANALYSIS_BYTES = 3 * 2 ** 30;

/**
 * Estimated peak bytes: the longest sequence's forward trace of every layer plus the lag buffers, for a lag
 * cap (null: none; a cap below the verdict's lags computes those anyway).
 */
export function estimateAnalysisBytes(model: Model, maxLag: number | null): number {
  const T = Math.max(...model.sequences.map((s) => s.length));
  const L = computedMaxLag(maxLag, T) + 1;
  const H = model.hiddenSize;
  const G = GATES[model.cell];
  // Per step and layer: outputs, gates (or pre-activations), cell states; plus the loss seeds.
  const tracePerStep = model.numLayers * (G + 3) * H + 2 * (H + model.outputSize);
  const stateWidth = model.cell === 'lstm' ? 2 * H : H;
  // Per pending row and layer: two state buffers, the input gradient, the gate gradients.
  const lagPerRow = model.numLayers * (2 * stateWidth + H + model.inputSize + G * H + 6);
  return 8 * (T * tracePerStep + 2 * L * lagPerRow);
}

/** A sentence saying why the model is too large to analyze, or null when it fits. */
export function tooLargeMessage(model: Model, maxLag: number | null): string | null {
  const bytes = estimateAnalysisBytes(model, maxLag);
  if (bytes <= MAX_ANALYSIS_BYTES) return null;
  const T = Math.max(...model.sequences.map((s) => s.length));
  const gb = (x: number): string => (x / 2 ** 30).toFixed(1);
  return `the longest sequence (${T} steps, hidden size ${model.hiddenSize}, ${model.numLayers} layer${model.numLayers === 1 ? '' : 's'}) needs about ${gb(bytes)} GB for backpropagation through time, more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; use shorter sequences`;
}
