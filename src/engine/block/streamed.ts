// Unidirectional stacks (one or more layers, every cell) in O(√T) memory per sequence, whatever their length: the
// forward pass runs segment by segment (≈√T steps) through all layers at once and keeps only every layer's state
// at the segment boundaries (checkpoints) and each sequence's summed loss; the data's inputs (or token ids) are
// the file's own. The backward pass goes segment by segment from the last: it recomputes the segment's forward
// trace of every layer from its checkpoints, the loss seeds of its steps, backpropagates through all layers top
// to bottom within the segment (each layer's state gradient carried across the boundary to the segment before),
// and adds the segment's parameter gradients. The lag recursion and a sequence run alone (after a block
// overflowed, with the step and layer of its overflow) read windows of one row recomputed from the same
// checkpoints (StreamedWindows). Nothing of length T is held.
//
// Bidirectional stacks are not streamed this way: a reverse direction's backward pass runs the other way, so a
// layer's output gradients of every step are needed at once (block/network.ts checkpointedBlock).
import type { Cell, Trace } from '../cells/cell';
import type { StepSeeds, StepTraces } from '../lags';
import type { LossFunction } from '../loss';
import type { MatMul } from '../matmul';
import type { Model, Sequence } from '../model/types';
import { firstNonFinite, type ParamGrads } from '../network';
import type { LagSequence } from '../stackLags';
import { addColumns, anyNonFinite, weightGrad, type BlockCell, type BlockTrace } from './blockCell';

/** Whether a model's stack is streamed in O(√T) memory (this file): every unidirectional stack. */
export function streamsInSegments(model: Pick<Model, 'bidirectional'>): boolean {
  return !model.bidirectional;
}

/** A block's forward pass in streamed form: what the backward pass and the windows recompute from. */
export interface StreamedStack {
  T: number;
  n: number;
  /** Steps per segment. */
  segment: number;
  sequences: Sequence[];
  /** Per layer: the state before step s·segment, s ≥ 1 (n×stateSize). */
  checkpoints: Float64Array[][];
  /** Σ_t ε_t of each sequence. */
  losses: Float64Array;
}

/** Layer 0's input over steps [s0, s0 + len): of every row interleaved step-major, or of row `row` alone. */
function layerZeroRows(
  model: Model,
  I: number,
  sequences: Sequence[],
  s0: number,
  len: number,
  row: number | null,
): Float64Array {
  const rows = row === null ? sequences : [sequences[row]];
  const n = rows.length;
  const embedding = model.embedding;
  if (n === 1 && !(embedding && rows[0].tokens)) return rows[0].inputs.subarray(s0 * I, (s0 + len) * I);
  const out = new Float64Array(len * n * I);
  rows.forEach((seq, b) => {
    const tokens = embedding ? seq.tokens : undefined;
    for (let t = 0; t < len; t++) {
      const dst = (t * n + b) * I;
      if (embedding && tokens) {
        const r = tokens[s0 + t] * I;
        out.set(embedding.data.subarray(r, r + I), dst);
      } else {
        out.set(seq.inputs.subarray((s0 + t) * I, (s0 + t + 1) * I), dst);
      }
    }
  });
  return out;
}

/**
 * Every layer's trace over steps [s0, s0 + len) (s0 a multiple of the segment; the steps may run past the
 * segment's end), recomputed from the checkpoints before s0: of every row, or of row `row` alone (a block of one).
 */
export function segmentPass(
  model: Model,
  cells: BlockCell[],
  st: StreamedStack,
  s0: number,
  len: number,
  row: number | null,
  tick: () => void,
): { traces: BlockTrace[]; top: Float64Array } {
  const rows = row === null ? st.n : 1;
  const m = s0 / st.segment;
  let input = layerZeroRows(model, cells[0].inputSize, st.sequences, s0, len, row);
  const traces: BlockTrace[] = [];
  cells.forEach((cell, k) => {
    const checkpoint = m > 0 ? st.checkpoints[k][m - 1] : null;
    const S = cell.stateSize;
    const init = checkpoint && row !== null ? checkpoint.subarray(row * S, (row + 1) * S) : checkpoint;
    const trace = cell.forward(input, len, rows, init, tick);
    traces.push(trace);
    input = cell.outputs(trace);
  });
  return { traces, top: input };
}

/**
 * The loss seeds ∂ε_t/∂y_t and output gradients ∂ε_t/∂o_t of steps [s0, s0 + len) of the given rows (the top
 * layer's outputs `top`, len×n×W).
 */
function segmentSeeds(
  model: Model,
  loss: LossFunction,
  sequences: Sequence[],
  top: Float64Array,
  s0: number,
  len: number,
  W: number,
): { seeds: Float64Array; outputGrads: Float64Array } {
  const n = sequences.length;
  const D = model.outputSize;
  const seeds = new Float64Array(len * n * W);
  const outputGrads = new Float64Array(len * n * D);
  const dO = new Float64Array(D);
  for (let t = 0; t < len; t++) {
    for (let b = 0; b < n; b++) {
      const r = t * n + b;
      const o = loss.output(top, r);
      loss.stepLoss(o, s0 + t, sequences[b].targets, dO);
      outputGrads.set(dO, r * D);
      loss.backToOutput(dO, seeds, r * W);
    }
  }
  return { seeds, outputGrads };
}

/** A streamed forward pass and, for a sequence run on past an overflow, where it first overflowed. */
export interface StreamedForwardResult {
  stack: StreamedStack;
  /** First step whose activations or loss are not finite, with its layer (numLayers = the loss); null: none. */
  overflow: { step: number; layer: number } | null;
}

/**
 * The forward pass of a block of sequences of one length, segment by segment through all layers, keeping only the
 * checkpoints and the losses; every segment's trace of every layer goes to `onTrace` (the statistics). Null when
 * some value was not finite, unless `whatever` (then the values run on, as network.ts's forward pass does, and the
 * result says where they first overflowed, as network.ts firstOverflow does).
 */
export function streamedForward(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  sequences: Sequence[],
  segment: number,
  onTrace: (cell: number, trace: BlockTrace) => void,
  tick: () => void,
  whatever = false,
): StreamedForwardResult | null {
  const n = sequences.length;
  const T = sequences[0].length;
  const K = Math.max(1, Math.min(segment, T));
  const checkpoints: Float64Array[][] = cells.map(() => []);
  const states: (Float64Array | null)[] = cells.map(() => null);
  const losses = new Float64Array(n);
  const dO = new Float64Array(model.outputSize);
  let found: { step: number; layer: number } | null = null;
  let lossStep = -1;
  for (let s0 = 0; s0 < T; s0 += K) {
    const len = Math.min(K, T - s0);
    let input = layerZeroRows(model, cells[0].inputSize, sequences, s0, len, null);
    for (let k = 0; k < cells.length; k++) {
      const cell = cells[k];
      const trace = cell.forward(input, len, n, states[k], tick);
      onTrace(k, trace);
      input = cell.outputs(trace);
      if (s0 + len < T) {
        const state = new Float64Array(n * cell.stateSize);
        cell.finalState(trace, state);
        checkpoints[k].push(state);
        states[k] = state;
      }
      if (!whatever) {
        if (anyNonFinite(input)) return null;
      } else if (!found || found.step >= s0) {
        // The earliest step of any layer (the lower layer at a tie); a later segment's steps are all later.
        const bad = firstNonFinite(input, n * cell.outputSize);
        if (bad >= 0 && (!found || s0 + bad < found.step)) found = { step: s0 + bad, layer: k };
      }
    }
    for (let t = 0; t < len; t++) {
      if ((t & 63) === 63) tick();
      for (let b = 0; b < n; b++) {
        const o = loss.output(input, t * n + b);
        const e = loss.stepLoss(o, s0 + t, sequences[b].targets, dO);
        if (!Number.isFinite(e)) {
          if (!whatever) return null;
          if (lossStep < 0) lossStep = s0 + t;
        }
        losses[b] += e;
      }
    }
  }
  const overflow = found ?? (lossStep >= 0 ? { step: lossStep, layer: model.numLayers } : null);
  return { stack: { T, n, segment: K, sequences, checkpoints, losses }, overflow };
}

/**
 * Adds the gradients of the block's Σ_b Σ_t ε_t to grads, segment by segment from the last (see the file
 * comment). Returns true when a state gradient was not finite (grads are then void).
 */
export function streamedBackward(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  st: StreamedStack,
  grads: ParamGrads,
  mm: MatMul,
  tick: () => void,
): boolean {
  const { T, n, segment: K, sequences } = st;
  const top = cells.length - 1;
  const W = cells[top].outputSize;
  const D = model.outputSize;
  // Each layer's gradient w.r.t. its state at the boundary, carried from segment to segment.
  const G = cells.map((c) => new Float64Array(n * c.stateSize));
  const segments = Math.ceil(T / K);
  for (let s = segments - 1; s >= 0; s--) {
    const s0 = s * K;
    const len = Math.min(K, T - s0);
    const pass = segmentPass(model, cells, st, s0, len, null, tick);
    const { seeds, outputGrads } = segmentSeeds(model, loss, sequences, pass.top, s0, len, W);
    let dY = seeds;
    for (let k = top; k >= 0; k--) {
      const needInput = k > 0 || grads.embedding !== null;
      const dX = needInput ? new Float64Array(len * n * cells[k].inputSize) : null;
      if (cells[k].backward(pass.traces[k], dY, G[k], s > 0, grads.layers[k], dX, tick)) return true;
      if (dX) dY = dX;
    }
    if (grads.embedding && model.embedding) {
      const I = model.embedding.cols;
      for (let b = 0; b < n; b++) {
        const tokens = sequences[b].tokens;
        if (!tokens) continue;
        for (let t = 0; t < len; t++) {
          const dst = tokens[s0 + t] * I;
          const src = (t * n + b) * I;
          for (let i = 0; i < I; i++) grads.embedding[dst + i] += dY[src + i];
        }
      }
    }
    if (model.readout && grads.readoutWeight && grads.readoutBias) {
      weightGrad(mm, len * n, outputGrads, 0, D, 0, D, pass.top, 0, W, 0, W, grads.readoutWeight);
      addColumns(grads.readoutBias, outputGrads, len * n, D);
    }
  }
  return false;
}

/**
 * Row `row` of a streamed block in windows recomputed from its checkpoints, in the per-sequence layout of cells/
 * (BlockCell.extract): window m holds the steps [m·K, m·K + K] of every layer (K the segment), with the top
 * layer's outputs, the loss seeds and output gradients of those steps, and serves the steps j ∈ (m·K, m·K + K],
 * and j = 0 for m = 0 (a backward step at j reads j − 1 too). The lag recursion reads it as each layer's
 * StepTraces and the seeds (lagSequence); a sequence run alone backpropagates through it (streamedBackwardSequence).
 */
export class StreamedWindows {
  /** Global step of the window's step 0. */
  offset = 0;
  /** Windows computed so far (tests: each once per backward walk). */
  recomputed = 0;
  traces: Trace[] = [];
  top: Float64Array = new Float64Array(0);
  seeds: Float64Array = new Float64Array(0);
  outputGrads: Float64Array = new Float64Array(0);
  private window = -1;

  constructor(
    private readonly model: Model,
    private readonly cells: BlockCell[],
    private readonly loss: LossFunction,
    readonly stack: StreamedStack,
    readonly row: number,
    private readonly tick: () => void,
  ) {}

  get length(): number {
    return this.stack.T;
  }

  /** The window holding step j (and j − 1). */
  seek(j: number): this {
    const K = this.stack.segment;
    const m = j === 0 ? 0 : Math.floor((j - 1) / K);
    if (m !== this.window) {
      const s0 = m * K;
      const len = Math.min(K + 1, this.stack.T - s0);
      this.window = -1;
      const pass = segmentPass(this.model, this.cells, this.stack, s0, len, this.row, this.tick);
      this.traces = pass.traces.map((trace, k) => this.cells[k].extract(trace, 0));
      this.top = pass.top;
      const W = this.cells[this.cells.length - 1].outputSize;
      const seq = [this.stack.sequences[this.row]];
      const { seeds, outputGrads } = segmentSeeds(this.model, this.loss, seq, pass.top, s0, len, W);
      this.seeds = seeds;
      this.outputGrads = outputGrads;
      this.offset = s0;
      this.window = m;
      this.recomputed++;
    }
    return this;
  }

  /** Layer k's trace as the lag recursion reads it. */
  stepTraces(k: number): StepTraces {
    const offset = (): number => this.offset;
    return {
      length: this.stack.T,
      get offset() {
        return offset();
      },
      seek: (j) => this.seek(j).traces[k],
    };
  }

  /** The loss seeds as the lag recursion reads them. */
  stepSeeds(): StepSeeds {
    const W = this.cells[this.cells.length - 1].outputSize;
    return {
      seedsAt: (j) => {
        this.seek(j);
        const local = j - this.offset;
        return this.seeds.subarray(local * W, (local + 1) * W);
      },
    };
  }

  /** The lag recursion's input (stackLags.ts). */
  lagSequence(): LagSequence {
    return { traces: this.cells.map((_, k) => this.stepTraces(k)), seeds: this.stepSeeds() };
  }
}

/**
 * network.ts's backwardSequence for a sequence in streamed windows: adds the gradients of its Σ_t ε_t to grads,
 * step by step from the last, all layers top to bottom at each step (a layer's input gradient at step j is the
 * output gradient of the layer below at j). Returns the first non-finite state gradient met, as
 * backwardSequence does: the latest step, the upper layer at a tie.
 */
export function streamedBackwardSequence(
  model: Model,
  cells: Cell[],
  windows: StreamedWindows,
  grads: ParamGrads,
  tick: () => void,
): { step: number; layer: number } | null {
  const T = windows.length;
  const top = cells.length - 1;
  const W = cells[top].outputSize;
  const D = model.outputSize;
  const cur = cells.map((c) => new Float64Array(c.stateSize));
  const nxt = cells.map((c) => new Float64Array(c.stateSize));
  const inputs = cells.map((c, k) => (k > 0 || grads.embedding ? new Float64Array(c.inputSize) : null));
  const tokens = windows.stack.sequences[windows.row].tokens;
  let nonFinite: { step: number; layer: number } | null = null;
  for (let j = T - 1; j >= 0; j--) {
    if ((j & 15) === 0 || j === T - 1) tick();
    windows.seek(j);
    const local = j - windows.offset;
    let dY = windows.seeds;
    let dOff = local * W;
    for (let k = top; k >= 0; k--) {
      const cell = cells[k];
      const G = cur[k];
      const R = cell.outputSize;
      for (let h = 0; h < R; h++) G[h] += dY[dOff + h];
      const trace = windows.traces[k];
      cell.completeState(trace, local, G, 1);
      if (nonFinite === null && firstNonFinite(G, G.length) >= 0) nonFinite = { step: j, layer: k };
      const input = inputs[k];
      cell.backStep(trace, local, G, 1, {
        prev: nxt[k],
        prevFrom: 0,
        input,
        contribution: null,
        grads: grads.layers[k],
      });
      cur[k] = nxt[k];
      nxt[k] = G;
      if (input) {
        dY = input;
        dOff = 0;
      }
    }
    if (grads.embedding && model.embedding && tokens) {
      const I = model.embedding.cols;
      const row = tokens[j] * I;
      for (let i = 0; i < I; i++) grads.embedding[row + i] += dY[i];
    }
    if (model.readout && grads.readoutWeight && grads.readoutBias) {
      for (let d = 0; d < D; d++) {
        const g = windows.outputGrads[local * D + d];
        grads.readoutBias[d] += g;
        for (let h = 0; h < W; h++) grads.readoutWeight[d * W + h] += g * windows.top[local * W + h];
      }
    }
  }
  return nonFinite;
}
