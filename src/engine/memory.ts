// What one analysis holds in memory at once, estimated from the model's sizes before anything is
// allocated, so that a file asking for more than the limit gets a clear message instead of a crash.
import { directionWidth, GATES, layerOutputWidth, type Model } from './model/types';
import { computedMaxLag } from './regime';
import { CHUNK_BYTES } from './stackLags';

/** Bytes the analysis may hold for one sequence's forward trace and lag buffers. */
export const MAX_ANALYSIS_BYTES = 3 * 2 ** 30;

/**
 * Estimated peak bytes: the longest sequence's forward trace of every layer and direction, plus the lag
 * buffers (the pending rows of the one-sweep recursion, or the chunked recursion's gradient sequences), for a
 * lag cap (null: none; a cap below the verdict's lags computes those anyway).
 */
export function estimateAnalysisBytes(model: Model, maxLag: number | null): number {
  const T = Math.max(...model.sequences.map((s) => s.length));
  const L = computedMaxLag(maxLag, T) + 1;
  const H = model.hiddenSize;
  const G = GATES[model.cell];
  const R = directionWidth(model);
  const W = layerOutputWidth(model);
  const cells = model.layers.length;
  // Per step and cell: outputs, gates (or pre-activations), cell states, a reverse direction's reversed input;
  // per layer its joined output; plus the layer-0 input (an embedding's rows) and the loss seeds.
  const tracePerStep =
    cells * ((G + 3) * H + R + (model.bidirectional ? W : 0)) +
    model.numLayers * W +
    model.inputSize +
    2 * (W + model.outputSize);
  const stateWidth = model.cell === 'lstm' ? R + H : H;
  // Per pending row and cell: two state buffers, the input gradient, the gate gradients.
  const lagPerRow = cells * (2 * stateWidth + W + model.inputSize + G * H + 6);
  const chunked = model.bidirectional && model.numLayers > 1 ? CHUNK_BYTES : 0;
  return 8 * (T * tracePerStep + 2 * L * lagPerRow) + chunked;
}

/** A sentence saying why the model is too large to analyze, or null when it fits. */
export function tooLargeMessage(model: Model, maxLag: number | null): string | null {
  const bytes = estimateAnalysisBytes(model, maxLag);
  if (bytes <= MAX_ANALYSIS_BYTES) return null;
  const T = Math.max(...model.sequences.map((s) => s.length));
  const gb = (x: number): string => (x / 2 ** 30).toFixed(1);
  return `the longest sequence (${T} steps, hidden size ${model.hiddenSize}, ${model.numLayers} layer${model.numLayers === 1 ? '' : 's'}) needs about ${gb(bytes)} GB for backpropagation through time, more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; use shorter sequences`;
}
