// What one analysis holds in memory at once, estimated from the model's sizes before anything is
// allocated, so that a file asking for more than the limit gets a clear message instead of a crash.
import { directionWidth, GATES, layerOutputWidth, type Model } from './model/types';
import { computedMaxLag } from './regime';
import { CHUNK_BYTES } from './stackLags';

/** Bytes the analysis may hold for one sequence's forward trace and lag buffers. */
export const MAX_ANALYSIS_BYTES = 3 * 2 ** 30;

/** The parts of the estimate: one sequence's forward trace and the lag recursion's buffers (bytes). */
export function analysisBytesParts(model: Model, maxLag: number | null): { trace: number; lags: number } {
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
  return { trace: 8 * T * tracePerStep, lags: 8 * 2 * L * lagPerRow + chunked };
}

/**
 * Estimated peak bytes of the lag recursion: the longest sequence's forward trace of every layer and direction,
 * plus the lag buffers (the pending rows of the one-sweep recursion, or the chunked recursion's gradient
 * sequences), for a lag cap (null: none; a cap below the verdict's lags computes those anyway). The gradients
 * do not count: they stream block by block within AnalyzeOptions.traceBytes, from checkpoints when one
 * sequence's trace is larger.
 */
export function estimateAnalysisBytes(model: Model, maxLag: number | null): number {
  const { trace, lags } = analysisBytesParts(model, maxLag);
  return trace + lags;
}

/** Bytes of the model's weights (every layer and direction, readout and embedding). */
export function weightBytes(model: Model): number {
  let n = 0;
  for (const w of model.layers) {
    n += w.weightIh.data.length + w.weightHh.data.length + w.biasIh.length + w.biasHh.length;
    n += w.weightHr?.data.length ?? 0;
  }
  n += model.readout ? model.readout.weight.data.length + model.readout.bias.length : 0;
  n += model.embedding?.data.length ?? 0;
  return 8 * n;
}

/** A sentence saying why the model is too large to analyze (with the figures and what helps), or null. */
export function tooLargeMessage(model: Model, maxLag: number | null): string | null {
  const gb = (x: number): string => (x / 2 ** 30).toFixed(1);
  const weights = weightBytes(model);
  // The weights, their gradients and the batch's gradients.
  if (3 * weights > MAX_ANALYSIS_BYTES) {
    return `the weights take ${gb(weights)} GB (${gb(3 * weights)} GB with their gradients), more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; use a smaller hidden_size or fewer layers`;
  }
  const { trace, lags } = analysisBytesParts(model, maxLag);
  if (trace + lags <= MAX_ANALYSIS_BYTES) return null;
  const T = Math.max(...model.sequences.map((s) => s.length));
  return `the longest sequence (${T} steps, hidden size ${model.hiddenSize}, ${model.numLayers} layer${model.numLayers === 1 ? '' : 's'}) needs about ${gb(trace + lags)} GB for the lag table (its forward trace ${gb(trace)} GB, the lag recursion's buffers ${gb(lags)} GB), more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; --max-lag (rnnGradients.maxLag) lowers the buffers, shorter sequences lower both (the gradients stream and need neither)`;
}
