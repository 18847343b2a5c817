// What one analysis holds in memory at once, estimated from the model's sizes before anything is allocated, so
// that a file asking for more than the limit gets a clear message instead of a crash.
//
// The gradients stream block by block within the trace budget (AnalyzeOptions.traceBytes), from checkpoints every
// ≈√T steps when one sequence's trace is larger; the lag recursion reads the same checkpoints window by window,
// and runs its columns in several passes when their pending rows would exceed the budget. A unidirectional stack
// then keeps nothing per step but the checkpoints (every layer's state every ≈√T steps, block/streamed.ts), so
// only its weights can make it too large. A bidirectional one keeps, for every step, each layer's outputs and the
// gradients of one layer's outputs and inputs (about (layers + 5) × the layer width per step): a reverse
// direction's backward pass runs the other way, so a layer's output gradients of every step are needed at once.
import { directionWidth, GATES, layerOutputWidth, type Model } from './model/types';
import { computedMaxLag } from './regime';
import { lagRowEntries } from './lags';
import { CHUNK_BYTES } from './stackLags';

/** Bytes one analysis may hold: the weights with their gradients, or one sequence's streamed passes. */
export const MAX_ANALYSIS_BYTES = 3 * 2 ** 30;

/** Bytes the traces of one block of sequences (and the lag recursion's rows) may hold by default. */
export const DEFAULT_TRACE_BYTES = 256 * 2 ** 20;

/** Float64 entries of one sequence's whole forward trace per step (all layers and directions, seeds, input). */
function tracePerStep(model: Model): number {
  const H = model.hiddenSize;
  const G = GATES[model.cell];
  const R = directionWidth(model);
  const W = layerOutputWidth(model);
  const cells = model.layers.length;
  // Per step and cell: outputs, gates (or pre-activations), cell states, a reverse direction's reversed input;
  // per layer its joined output; plus the layer-0 input (an embedding's rows) and the loss seeds.
  return (
    cells * ((G + 3) * H + R + (model.bidirectional ? W : 0)) +
    model.numLayers * W +
    model.inputSize +
    2 * (W + model.outputSize)
  );
}

/** Float64 entries the lag recursion holds per pending row (all layers and directions). */
function rowEntries(model: Model): number {
  const H = model.hiddenSize;
  const W = layerOutputWidth(model);
  const stateSize = model.cell === 'lstm' ? directionWidth(model) + H : H;
  return lagRowEntries(
    model.layers.map((_, i) => ({
      stateSize,
      inputSize: i < (model.bidirectional ? 2 : 1) ? model.inputSize : W,
      gateRows: GATES[model.cell] * H,
    })),
  );
}

/** The longest sequence's length. */
function longest(model: Model): number {
  return Math.max(...model.sequences.map((s) => s.length));
}

/**
 * The lag recursion with one sequence's whole forward trace and every pending row at once (bytes): what a thread
 * of a split lag table holds (lagShare.ts), for a lag cap (null: none; a cap below the verdict's lags computes
 * those anyway).
 */
export function analysisBytesParts(model: Model, maxLag: number | null): { trace: number; lags: number } {
  const T = longest(model);
  const L = computedMaxLag(maxLag, T) + 1;
  const chunked = model.bidirectional && model.numLayers > 1 ? CHUNK_BYTES : 0;
  return { trace: 8 * T * tracePerStep(model), lags: 8 * 2 * L * rowEntries(model) + chunked };
}

/** Estimated peak bytes of the lag recursion with whole traces and all rows at once (see analysisBytesParts). */
export function estimateAnalysisBytes(model: Model, maxLag: number | null): number {
  const { trace, lags } = analysisBytesParts(model, maxLag);
  return trace + lags;
}

/** What the analysis holds for its longest sequence within a trace budget (bytes; see streamedBytes). */
export interface StreamedBytes {
  /**
   * Kept for every step by the streamed passes of a bidirectional stack: each layer's outputs and one layer's
   * gradients (0 when whole, and for a unidirectional stack, which keeps only its checkpoints).
   */
  kept: number;
  /** The forward trace: whole, or a segment's window and the checkpoints. */
  trace: number;
  /** The trace is recomputed from checkpoints (it would not fit the budget whole). */
  checkpointed: boolean;
  /** The lag recursion's pending rows (and the chunked recursion's buffers). */
  lags: number;
  /** Passes of the lag recursion over interleaved columns (1: all rows at once). */
  passes: number;
}

/**
 * Peak bytes of one sequence (the longest) through the gradients and the lag recursion, streamed within the
 * trace budget as the analysis runs it: whole when the trace fits the budget, else checkpoints every ≈√T steps
 * and a window of the trace; the pending rows of the lag table within the budget (more in several passes).
 */
export function streamedBytes(
  model: Model,
  maxLag: number | null,
  traceBytes: number = DEFAULT_TRACE_BYTES,
): StreamedBytes {
  const T = longest(model);
  const L = computedMaxLag(maxLag, T) + 1;
  const perStep = 8 * tracePerStep(model);
  const whole = perStep * T;
  const checkpointed = whole > traceBytes;
  const K = checkpointed ? Math.max(1, Math.min(Math.ceil(Math.sqrt(T)), Math.floor(traceBytes / perStep))) : T;
  const W = layerOutputWidth(model);
  const stateEntries = model.layers.length * 2 * model.hiddenSize;
  const keptPerStep = model.inputSize + (model.numLayers - 1) * W + 5 * W + 2 * model.outputSize;
  const trace = checkpointed ? perStep * (K + 1) + 8 * Math.ceil(T / K) * stateEntries : whole;
  const perRow = 8 * rowEntries(model);
  const fit = Math.max(1, Math.floor(traceBytes / perRow));
  const passes = Math.ceil(L / fit);
  const chunked = model.bidirectional && model.numLayers > 1 ? Math.min(CHUNK_BYTES, traceBytes) : 0;
  return {
    kept: checkpointed && model.bidirectional ? 8 * T * keptPerStep : 0,
    trace,
    checkpointed,
    lags: perRow * Math.min(L, fit) + chunked,
    passes,
  };
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

/**
 * A sentence saying why the model is too large to analyze (with the figures and what helps), or null: its weights
 * with their gradients exceed the limit, or, for a bidirectional stack, the longest sequence's streamed passes do
 * (what they keep for every step, which no budget bounds: a sequence of hundreds of thousands of steps). A
 * unidirectional stack's streamed passes keep only checkpoints, every ≈√T steps.
 */
export function tooLargeMessage(
  model: Model,
  maxLag: number | null,
  traceBytes: number = DEFAULT_TRACE_BYTES,
): string | null {
  const gb = (x: number): string => (x / 2 ** 30).toFixed(1);
  const weights = weightBytes(model);
  // The weights, their gradients and the batch's gradients.
  if (3 * weights > MAX_ANALYSIS_BYTES) {
    return `the weights take ${gb(weights)} GB (${gb(3 * weights)} GB with their gradients), more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; use a smaller hidden_size or fewer layers`;
  }
  const s = streamedBytes(model, maxLag, traceBytes);
  const total = s.kept + s.trace + s.lags + 3 * weights;
  if (total <= MAX_ANALYSIS_BYTES) return null;
  const T = longest(model);
  return `the longest sequence (${T} steps, hidden size ${model.hiddenSize}, ${model.numLayers} bidirectional layer${model.numLayers === 1 ? '' : 's'}) needs about ${gb(total)} GB even streamed from checkpoints: a reverse direction's backward pass runs the other way, so its layers' outputs and their gradients are kept for every step (${gb(s.kept)} GB), more than the ${gb(MAX_ANALYSIS_BYTES)} GB limit; shorter sequences (or fewer layers, a smaller hidden_size, or a unidirectional stack, which streams in checkpoints) lower it`;
}
