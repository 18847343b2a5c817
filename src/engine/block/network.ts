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
      const revOut = rev.outputs(revTrace);
      const fwdOut = output;
      output = new Float64Array(T * n * 2 * R);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < n; b++) {
          const dst = (t * n + b) * 2 * R;
          output.set(fwdOut.subarray((t * n + b) * R, (t * n + b + 1) * R), dst);
          output.set(revOut.subarray(((T - 1 - t) * n + b) * R, ((T - 1 - t) * n + b + 1) * R), dst + R);
        }
      }
    }
    outputs.push(output);
    if (anyNonFinite(output)) nonFinite = true;
    input = output;
  }
  const W = dirs * cells[cells.length - 1].outputSize;
  const D = model.outputSize;
  const top = outputs[outputs.length - 1];
  const seeds = new Float64Array(T * n * W);
  const outputGrads = new Float64Array(T * n * D);
  const losses = new Float64Array(n);
  const dO = new Float64Array(D);
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
  return { T, n, traces, outputs, losses, seeds, outputGrads, nonFinite, sequences };
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
      const W = dirs * R;
      // This direction's output gradients in its own time order.
      let own = dY;
      if (dirs === 2) {
        own = new Float64Array(T * n * R);
        for (let tau = 0; tau < T; tau++) {
          const t = d === 0 ? tau : T - 1 - tau;
          for (let b = 0; b < n; b++) {
            const src = (t * n + b) * W + d * R;
            own.set(dY.subarray(src, src + R), (tau * n + b) * R);
          }
        }
      }
      const dX = dIn ? (d === 0 ? dIn : new Float64Array(T * n * I)) : null;
      const G = new Float64Array(n * cell.stateSize);
      if (cell.backward(fwd.traces[idx], own, G, false, grads.layers[idx], dX, tick)) return true;
      if (dIn && dX && d === 1) {
        // The reverse direction's input gradients, back at sequence time.
        const stepWidth = n * I;
        for (let tau = 0; tau < T; tau++) {
          const src = tau * stepWidth;
          const dst = (T - 1 - tau) * stepWidth;
          for (let i = 0; i < stepWidth; i++) dIn[dst + i] += dX[src + i];
        }
      }
    }
    if (dIn) dY = dIn;
  }
  if (grads.embedding && model.embedding) {
    const I = model.embedding.cols;
    for (let b = 0; b < n; b++) {
      const tokens = fwd.sequences[b].tokens;
      if (!tokens) continue;
      for (let t = 0; t < T; t++) {
        const row = tokens[t] * I;
        const src = (t * n + b) * I;
        for (let i = 0; i < I; i++) grads.embedding[row + i] += dY[src + i];
      }
    }
  }
  if (model.readout && grads.readoutWeight && grads.readoutBias) {
    const D = model.outputSize;
    const W = model.readout.weight.cols;
    const top = fwd.outputs[fwd.outputs.length - 1];
    weightGrad(mm, T * n, fwd.outputGrads, 0, D, 0, D, top, 0, W, 0, W, grads.readoutWeight);
    addColumns(grads.readoutBias, fwd.outputGrads, T * n, D);
  }
  return false;
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
