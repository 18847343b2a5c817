// A block of sequences of the same length through the whole stack at once (network.ts does one sequence):
// the forward pass of every layer and direction, the per-step losses, and the parameter gradients of the sum
// of the block's losses by batched BPTT. Any non-finite value makes the block's results void: the caller then
// runs its sequences one by one (network.ts), which reports where each one overflowed.
import type { Model, Sequence } from '../model/types';
import type { LossFunction } from '../loss';
import type { MatMul } from '../matmul';
import { layerZeroInput, type ParamGrads, type SequenceForward } from '../network';
import type { Trace } from '../cells/cell';
import { addColumns, anyNonFinite, rowSequence, weightGrad, type BlockCell, type BlockTrace } from './blockCell';
import { GruBlock } from './gru';
import { LstmBlock } from './lstm';
import { RnnBlock } from './rnn';

/** One block cell per layer and direction, in model.layers order. */
export function buildBlockCells(model: Model, mm: MatMul): BlockCell[] {
  return model.layers.map((w): BlockCell => {
    switch (model.cell) {
      case 'rnn':
        return new RnnBlock(w, model.nonlinearity, model.form, mm);
      case 'lstm':
        return new LstmBlock(w, mm);
      case 'gru':
        return new GruBlock(w, model.gruReset === 'before', mm);
    }
  });
}

/**
 * Float64 entries one sequence-step of a block holds (its traces, joined outputs, gradient buffers): a block
 * of n sequences of T steps holds about 8·n·T times this many bytes.
 */
export function blockEntriesPerStep(model: Model, cells: BlockCell[]): number {
  const dirs = model.bidirectional ? 2 : 1;
  const W = dirs * cells[0].outputSize;
  const perCell = cells.reduce((a, c) => a + c.entriesPerRowStep, 0);
  // Joined outputs, reversed inputs, the gradients of the outputs and inputs of the layer being processed.
  return (
    perCell + model.numLayers * W + (dirs === 2 ? cells.length * W : 0) + 4 * W + 2 * model.outputSize + model.inputSize
  );
}

/** The forward pass of a block. */
export interface BlockForward {
  T: number;
  n: number;
  traces: BlockTrace[];
  /** Each layer's outputs, T×n×(directions · width), both directions side by side at sequence time. */
  outputs: Float64Array[];
  /** Σ_t ε_t of each sequence. */
  losses: Float64Array;
  /** ∂ε_t/∂y_t of the top layer: T×n×W. */
  seeds: Float64Array;
  /** ∂ε_t/∂o_t: T×n×D. */
  outputGrads: Float64Array;
  /** Some activation or loss was not finite. */
  nonFinite: boolean;
  sequences: Sequence[];
}

/** Sequences' rows interleaved step-major: row t·n + b is sequence b's step t (all of length T). */
function interleave(rows: Float64Array[], T: number, width: number): Float64Array {
  const n = rows.length;
  const out = new Float64Array(T * n * width);
  for (let b = 0; b < n; b++) {
    const x = rows[b];
    for (let t = 0; t < T; t++) out.set(x.subarray(t * width, (t + 1) * width), (t * n + b) * width);
  }
  return out;
}

/** Steps in reverse order (a block's rows of each step kept together). */
function reverseBlock(x: Float64Array, T: number, stepWidth: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let t = 0; t < T; t++) out.set(x.subarray(t * stepWidth, (t + 1) * stepWidth), (T - 1 - t) * stepWidth);
  return out;
}

/** Runs the stack and the loss over a block of sequences of one length. */
export function blockForward(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  sequences: Sequence[],
  tick: () => void,
): BlockForward {
  const n = sequences.length;
  const T = sequences[0].length;
  const dirs = model.bidirectional ? 2 : 1;
  const traces: BlockTrace[] = [];
  const outputs: Float64Array[] = [];
  let input = interleave(
    sequences.map((s) => layerZeroInput(model, s)),
    T,
    cells[0].inputSize,
  );
  let nonFinite = false;
  for (let k = 0; k < model.numLayers; k++) {
    const fwd = cells[k * dirs];
    const R = fwd.outputSize;
    const trace = fwd.forward(input, T, n, null, tick);
    traces.push(trace);
    let output = fwd.outputs(trace);
    if (dirs === 2) {
      const rev = cells[k * dirs + 1];
      const revTrace = rev.forward(reverseBlock(input, T, n * fwd.inputSize), T, n, null, tick);
      traces.push(revTrace);
      output = joinOutputs(output, rev.outputs(revTrace), T, n, R);
    }
    outputs.push(output);
    if (anyNonFinite(output)) nonFinite = true;
    input = output;
  }
  const losses = blockLosses(model, cells, loss, sequences, outputs[outputs.length - 1], tick);
  if (losses.nonFinite) nonFinite = true;
  const { seeds, outputGrads } = losses;
  return { T, n, traces, outputs, losses: losses.losses, seeds, outputGrads, nonFinite, sequences };
}

/**
 * Adds the gradients of the block's Σ_b Σ_t ε_t to grads (batched BPTT). Returns true when a state gradient
 * was not finite (grads are then void).
 */
export function blockBackward(
  model: Model,
  cells: BlockCell[],
  fwd: BlockForward,
  grads: ParamGrads,
  mm: MatMul,
  tick: () => void,
): boolean {
  const { T, n } = fwd;
  const dirs = model.bidirectional ? 2 : 1;
  let dY = fwd.seeds;
  for (let k = model.numLayers - 1; k >= 0; k--) {
    const needInput = k > 0 || grads.embedding !== null;
    const I = cells[k * dirs].inputSize;
    const dIn = needInput ? new Float64Array(T * n * I) : null;
    for (let d = 0; d < dirs; d++) {
      const idx = k * dirs + d;
      const cell = cells[idx];
      const R = cell.outputSize;
      // This direction's output gradients in its own time order.
      const own = dirs === 2 ? ownOrder(dY, T, n, R, d) : dY;
      const dX = dIn ? (d === 0 ? dIn : new Float64Array(T * n * I)) : null;
      const G = new Float64Array(n * cell.stateSize);
      if (cell.backward(fwd.traces[idx], own, G, false, grads.layers[idx], dX, tick)) return true;
      if (dIn && dX && d === 1) addReversed(dIn, dX, T, n * I);
    }
    if (dIn) dY = dIn;
  }
  addInputSideGrads(model, fwd.sequences, T, n, dY, fwd.outputs[fwd.outputs.length - 1], fwd.outputGrads, grads, mm);
  return false;
}

/** The embedding's gradients (from layer 0's input gradients dX) and the readout's. */
function addInputSideGrads(
  model: Model,
  sequences: Sequence[],
  T: number,
  n: number,
  dX: Float64Array,
  top: Float64Array,
  outputGrads: Float64Array,
  grads: ParamGrads,
  mm: MatMul,
): void {
  if (grads.embedding && model.embedding) {
    const I = model.embedding.cols;
    for (let b = 0; b < n; b++) {
      const tokens = sequences[b].tokens;
      if (!tokens) continue;
      for (let t = 0; t < T; t++) {
        const row = tokens[t] * I;
        const src = (t * n + b) * I;
        for (let i = 0; i < I; i++) grads.embedding[row + i] += dX[src + i];
      }
    }
  }
  if (model.readout && grads.readoutWeight && grads.readoutBias) {
    const D = model.outputSize;
    const W = model.readout.weight.cols;
    weightGrad(mm, T * n, outputGrads, 0, D, 0, D, top, 0, W, 0, W, grads.readoutWeight);
    addColumns(grads.readoutBias, outputGrads, T * n, D);
  }
}

/** [forward y_t, reverse y_t] of every row and step, from the reverse direction's own time order. */
function joinOutputs(fwd: Float64Array, revOwn: Float64Array, T: number, n: number, R: number): Float64Array {
  const output = new Float64Array(T * n * 2 * R);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < n; b++) {
      const dst = (t * n + b) * 2 * R;
      output.set(fwd.subarray((t * n + b) * R, (t * n + b + 1) * R), dst);
      output.set(revOwn.subarray(((T - 1 - t) * n + b) * R, ((T - 1 - t) * n + b + 1) * R), dst + R);
    }
  }
  return output;
}

/** Direction d's columns of the joined output gradients dY (T×n×2R), in its own time order. */
function ownOrder(dY: Float64Array, T: number, n: number, R: number, d: number): Float64Array {
  const own = new Float64Array(T * n * R);
  for (let tau = 0; tau < T; tau++) {
    const t = d === 0 ? tau : T - 1 - tau;
    for (let b = 0; b < n; b++) {
      const src = (t * n + b) * 2 * R + d * R;
      own.set(dY.subarray(src, src + R), (tau * n + b) * R);
    }
  }
  return own;
}

/** acc += x with x's steps (stepWidth entries each) in reverse order. */
function addReversed(acc: Float64Array, x: Float64Array, T: number, stepWidth: number): void {
  for (let tau = 0; tau < T; tau++) {
    const src = tau * stepWidth;
    const dst = (T - 1 - tau) * stepWidth;
    for (let i = 0; i < stepWidth; i++) acc[dst + i] += x[src + i];
  }
}

/** The per-step losses of a block's top-layer outputs, with ∂ε_t/∂o_t and ∂ε_t/∂y_t of every row. */
export function blockLosses(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  sequences: Sequence[],
  top: Float64Array,
  tick: () => void,
): { losses: Float64Array; seeds: Float64Array; outputGrads: Float64Array; nonFinite: boolean } {
  const n = sequences.length;
  const T = sequences[0].length;
  const W = (model.bidirectional ? 2 : 1) * cells[cells.length - 1].outputSize;
  const D = model.outputSize;
  const seeds = new Float64Array(T * n * W);
  const outputGrads = new Float64Array(T * n * D);
  const losses = new Float64Array(n);
  const dO = new Float64Array(D);
  let nonFinite = false;
  for (let t = 0; t < T; t++) {
    if ((t & 63) === 63) tick();
    for (let b = 0; b < n; b++) {
      const row = t * n + b;
      const o = loss.output(top, row);
      const e = loss.stepLoss(o, t, sequences[b].targets, dO);
      if (!Number.isFinite(e)) nonFinite = true;
      losses[b] += e;
      outputGrads.set(dO, row * D);
      loss.backToOutput(dO, seeds, row * W);
    }
  }
  return { losses, seeds, outputGrads, nonFinite };
}

/**
 * Float64 entries per sequence-step that a checkpointed block keeps for its whole length (not per segment):
 * each layer's input, a reverse direction's reversed input while its forward pass runs, the top layer's outputs,
 * the loss seeds and output gradients, and the backward pass's output and input gradients of one layer.
 */
export function keptEntriesPerStep(model: Model, cells: BlockCell[]): number {
  const dirs = model.bidirectional ? 2 : 1;
  const W = dirs * cells[0].outputSize;
  const inputs = cells.reduce((a, c, i) => a + (i % dirs === 0 ? c.inputSize : 0), 0);
  return inputs + (dirs === 2 ? Math.max(cells[0].inputSize, W) : 0) + 5 * W + 2 * model.outputSize;
}

/** A block's forward pass in checkpoint form: what the backward pass and the lag recursion recompute from. */
export interface CheckpointedForward {
  T: number;
  n: number;
  /** Steps per segment. */
  segment: number;
  /** Each layer's input, T×n×I at sequence time (layer 0: the data, or the embedding's rows). */
  inputs: Float64Array[];
  /** Per layer and direction (model.layers order): the state before its own step s·segment, s ≥ 1 (n×stateSize). */
  checkpoints: Float64Array[][];
  /** The top layer's outputs (both directions side by side), T×n×W. */
  top: Float64Array;
}

/**
 * The forward pass of a block that keeps each layer's outputs and, every `segment` steps, each direction's state
 * (checkpoints), and hands every segment's trace to `onTrace` before dropping it. Null when some output was not
 * finite, unless `whatever` (then the values run on, as network.ts's forward pass does, so its caller can say
 * where they overflowed).
 */
export function checkpointedForward(
  model: Model,
  cells: BlockCell[],
  sequences: Sequence[],
  segment: number,
  onTrace: (cell: number, trace: BlockTrace) => void,
  tick: () => void,
  whatever = false,
): CheckpointedForward | null {
  const n = sequences.length;
  const T = sequences[0].length;
  const dirs = model.bidirectional ? 2 : 1;
  const K = Math.max(1, Math.min(segment, T));
  const inputs: Float64Array[] = [];
  const checkpoints: Float64Array[][] = cells.map(() => []);
  let input = interleave(
    sequences.map((s) => layerZeroInput(model, s)),
    T,
    cells[0].inputSize,
  );
  for (let k = 0; k < model.numLayers; k++) {
    inputs.push(input);
    const outs: Float64Array[] = [];
    for (let d = 0; d < dirs; d++) {
      const idx = k * dirs + d;
      const cell = cells[idx];
      const I = cell.inputSize;
      const R = cell.outputSize;
      const x = d === 0 ? input : reverseBlock(input, T, n * I);
      const out = new Float64Array(T * n * R);
      let state: Float64Array | null = null;
      for (let s0 = 0; s0 < T; s0 += K) {
        const len = Math.min(K, T - s0);
        const trace = cell.forward(x.subarray(s0 * n * I, (s0 + len) * n * I), len, n, state, tick);
        onTrace(idx, trace);
        out.set(cell.outputs(trace), s0 * n * R);
        if (s0 + len < T) {
          state = new Float64Array(n * cell.stateSize);
          cell.finalState(trace, state);
          checkpoints[idx].push(state);
        }
      }
      outs.push(out);
    }
    input = dirs === 2 ? joinOutputs(outs[0], outs[1], T, n, cells[k * dirs].outputSize) : outs[0];
    if (!whatever && anyNonFinite(input)) return null;
  }
  return { T, n, segment: K, inputs, checkpoints, top: input };
}

/**
 * The trace of layer and direction `idx` over its own steps [s0, s0 + len), recomputed from the checkpoint before
 * s0 (a multiple of the segment; the steps may run past the segment's end): of every row of the block, or of row
 * `row` alone (a block of one).
 */
export function segmentTrace(
  model: Model,
  cells: BlockCell[],
  fwd: CheckpointedForward,
  idx: number,
  s0: number,
  len: number,
  row: number | null,
  tick: () => void,
): BlockTrace {
  const { T, n, segment } = fwd;
  const dirs = model.bidirectional ? 2 : 1;
  const d = idx % dirs;
  const cell = cells[idx];
  const I = cell.inputSize;
  const S = cell.stateSize;
  const x = fwd.inputs[Math.floor(idx / dirs)];
  const rows = row === null ? n : 1;
  let input: Float64Array;
  if (d === 0 && row === null) {
    input = x.subarray(s0 * n * I, (s0 + len) * n * I);
  } else {
    // This direction's own time order (τ is the sequence's step T−1−τ in reverse), one row or all.
    input = new Float64Array(len * rows * I);
    for (let tau = s0; tau < s0 + len; tau++) {
      const t = d === 0 ? tau : T - 1 - tau;
      const src = row === null ? t * n * I : (t * n + row) * I;
      input.set(x.subarray(src, src + rows * I), (tau - s0) * rows * I);
    }
  }
  const checkpoint = s0 > 0 ? fwd.checkpoints[idx][s0 / segment - 1] : null;
  const init = checkpoint && row !== null ? checkpoint.subarray(row * S, (row + 1) * S) : checkpoint;
  return cell.forward(input, len, rows, init, tick);
}

/**
 * A block of a bidirectional stack whose traces would not fit its memory budget (a unidirectional stack streams
 * with checkpoints alone, block/streamed.ts): the forward pass keeps each layer's outputs and, every
 * `segment` steps, each direction's state (checkpointedForward, which hands every segment's trace to `onTrace`,
 * the statistics); the backward pass recomputes each segment's trace from its checkpoint, last segment first.
 * Adds the gradients of the block's Σ_b Σ_t ε_t to grads; returns the sequences' losses with the forward pass
 * in checkpoint form and the loss seeds (for the lag recursion), or null when some value was not finite (grads
 * are then void).
 */
export function checkpointedBlock(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  sequences: Sequence[],
  segment: number,
  grads: ParamGrads,
  mm: MatMul,
  onTrace: (cell: number, trace: BlockTrace) => void,
  tick: () => void,
): { losses: Float64Array; forward: CheckpointedForward; seeds: Float64Array } | null {
  const forward = checkpointedForward(model, cells, sequences, segment, onTrace, tick);
  if (!forward) return null;
  const { T, n, segment: K, top } = forward;
  const dirs = model.bidirectional ? 2 : 1;
  const result = blockLosses(model, cells, loss, sequences, top, tick);
  if (result.nonFinite) return null;
  let dY = result.seeds;
  for (let k = model.numLayers - 1; k >= 0; k--) {
    const needInput = k > 0 || grads.embedding !== null;
    const I = cells[k * dirs].inputSize;
    const dIn = needInput ? new Float64Array(T * n * I) : null;
    for (let d = 0; d < dirs; d++) {
      const idx = k * dirs + d;
      const cell = cells[idx];
      const R = cell.outputSize;
      const own = dirs === 2 ? ownOrder(dY, T, n, R, d) : dY;
      const dX = dIn ? (d === 0 ? dIn : new Float64Array(T * n * I)) : null;
      const G = new Float64Array(n * cell.stateSize);
      const starts: number[] = [];
      for (let s0 = 0; s0 < T; s0 += K) starts.push(s0);
      for (let s = starts.length - 1; s >= 0; s--) {
        const s0 = starts[s];
        const len = Math.min(K, T - s0);
        const trace = segmentTrace(model, cells, forward, idx, s0, len, null, tick);
        const dYs = own.subarray(s0 * n * R, (s0 + len) * n * R);
        const dXs = dX ? dX.subarray(s0 * n * I, (s0 + len) * n * I) : null;
        if (cell.backward(trace, dYs, G, s > 0, grads.layers[idx], dXs, tick)) return null;
      }
      if (dIn && dX && d === 1) addReversed(dIn, dX, T, n * I);
    }
    if (dIn) dY = dIn;
  }
  addInputSideGrads(model, sequences, T, n, dY, top, result.outputGrads, grads, mm);
  return { losses: result.losses, forward, seeds: result.seeds };
}

/** Sequence b of a block as network.ts's forward pass of that sequence alone (the lag recursion's input). */
export function extractSequence(model: Model, cells: BlockCell[], fwd: BlockForward, b: number): SequenceForward {
  const { T, n } = fwd;
  const traces: Trace[] = fwd.traces.map((trace, i) => cells[i].extract(trace, b));
  const W = model.layers.length > 0 ? (model.bidirectional ? 2 : 1) * cells[cells.length - 1].outputSize : 0;
  const outputs = fwd.outputs.map((o) => rowSequence(o, 0, T, n, o.length / (T * n), b));
  return {
    traces,
    outputs,
    loss: fwd.losses[b],
    seeds: rowSequence(fwd.seeds, 0, T, n, W, b),
    outputGrads: rowSequence(fwd.outputGrads, 0, T, n, model.outputSize, b),
    nonFinite: null,
    tokens: fwd.sequences[b].tokens ?? null,
  };
}
