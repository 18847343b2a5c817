// One sequence through the whole stack: forward pass (each layer's directions, a reverse direction on its
// input reversed in time), per-step losses and their output gradients, and the parameter gradients of Σ_t ε_t
// by backpropagation through time, layer by layer from the top (a layer's input gradients at every step are
// complete only once both of its directions have swept the sequence).
import type { Model, Sequence } from './model/types';
import { type Cell, type LayerGrads, type Trace, zeroLayerGrads } from './cells/cell';
import type { LossFunction } from './loss';
import { stepTracesOf, type StepTraces } from './lags';

/** The forward pass of one sequence. */
export interface SequenceForward {
  /**
   * One trace per layer and direction (model.layers order). A reverse direction's trace runs in its own
   * time order: its step τ is the sequence's step T−1−τ.
   */
  traces: Trace[];
  /** Each layer's output sequence, T × (directions · output width): both directions side by side. */
  outputs: Float64Array[];
  /** Σ_t ε_t, or NaN/Infinity when it overflowed. */
  loss: number;
  /** ∂ε_t/∂y_t of the top layer's output for each t: T × its width. */
  seeds: Float64Array;
  /** ∂ε_t/∂o_t for each t: T×D (readout gradients). */
  outputGrads: Float64Array;
  /** First step whose activations or loss are not finite, with its layer (numLayers = the loss). */
  nonFinite: { step: number; layer: number } | null;
  /** The token ids layer 0 read through the embedding, if any. */
  tokens: Int32Array | null;
}

/**
 * A forward pass whose traces may be windows recomputed from checkpoints (block/lagWindows.ts
 * streamedSequenceForward): what backwardSequence and the lag recursion read.
 */
export type StreamedForward = Omit<SequenceForward, 'traces'> & { traces: (Trace | StepTraces)[] };

/** Gradients of all parameters for one sequence, or a batch, or the file. */
export interface ParamGrads {
  /** One per layer and direction (model.layers order). */
  layers: LayerGrads[];
  readoutWeight: Float64Array | null;
  readoutBias: Float64Array | null;
  embedding: Float64Array | null;
}

/** Zeroed gradients shaped like the model's parameters. */
export function zeroParamGrads(model: Model): ParamGrads {
  return {
    layers: model.layers.map(zeroLayerGrads),
    readoutWeight: model.readout ? new Float64Array(model.readout.weight.data.length) : null,
    readoutBias: model.readout ? new Float64Array(model.readout.bias.length) : null,
    embedding: model.embedding ? new Float64Array(model.embedding.data.length) : null,
  };
}

/** Every parameter-gradient array. */
export function gradArrays(g: ParamGrads): Float64Array[] {
  const out: Float64Array[] = [];
  for (const l of g.layers) {
    out.push(l.weightIh, l.weightHh, l.biasIh, l.biasHh);
    if (l.weightHr) out.push(l.weightHr);
  }
  if (g.readoutWeight && g.readoutBias) out.push(g.readoutWeight, g.readoutBias);
  if (g.embedding) out.push(g.embedding);
  return out;
}

/** acc += scale · g, parameter by parameter. */
export function addScaled(acc: ParamGrads, g: ParamGrads, scale: number): void {
  const a = gradArrays(acc);
  const b = gradArrays(g);
  for (let i = 0; i < a.length; i++) for (let k = 0; k < a[i].length; k++) a[i][k] += scale * b[i][k];
}

/** The first row (of `width` entries) of values holding a non-finite entry, or −1. */
export function firstNonFinite(values: Float64Array, width: number): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return Math.floor(i / width);
  return -1;
}

/**
 * Where a forward pass of T steps first overflowed: the earliest step at which some layer's outputs (T rows each,
 * in layer order; the lower layer at a tie) hold a non-finite value, else `lossStep`, the first step whose loss
 * is not finite (−1: none), as layer outputs.length; null when every value was finite.
 */
export function firstOverflow(
  outputs: Float64Array[],
  T: number,
  lossStep: number,
): { step: number; layer: number } | null {
  let found: { step: number; layer: number } | null = null;
  outputs.forEach((output, k) => {
    const bad = firstNonFinite(output, output.length / T);
    if (bad >= 0 && (!found || bad < found.step)) found = { step: bad, layer: k };
  });
  if (!found && lossStep >= 0) found = { step: lossStep, layer: outputs.length };
  return found;
}

/** Layer 0's input sequence (T×I): the data's inputs, or the embedding's rows of the token ids. */
export function layerZeroInput(model: Model, seq: Sequence): Float64Array {
  if (!model.embedding || !seq.tokens) return seq.inputs;
  const E = model.embedding;
  const I = E.cols;
  const out = new Float64Array(seq.length * I);
  for (let t = 0; t < seq.length; t++) out.set(E.data.subarray(seq.tokens[t] * I, (seq.tokens[t] + 1) * I), t * I);
  return out;
}

/** A T×width sequence with its steps in reverse order. */
export function reverseSteps(x: Float64Array, T: number, width: number): Float64Array {
  const out = new Float64Array(T * width);
  for (let t = 0; t < T; t++) out.set(x.subarray(t * width, (t + 1) * width), (T - 1 - t) * width);
  return out;
}

/** Runs the stack and the loss over one sequence. */
export function forwardSequence(
  model: Model,
  cells: Cell[],
  loss: LossFunction,
  seq: Sequence,
  tick: () => void = () => undefined,
): SequenceForward {
  const T = seq.length;
  const dirs = model.bidirectional ? 2 : 1;
  const traces: Trace[] = [];
  const outputs: Float64Array[] = [];
  let input = layerZeroInput(model, seq);
  for (let k = 0; k < model.numLayers; k++) {
    tick();
    const fwd = cells[k * dirs];
    const trace = fwd.forward(input, T, tick);
    traces.push(trace);
    let output = trace.output;
    if (dirs === 2) {
      const rev = cells[k * dirs + 1];
      const revTrace = rev.forward(reverseSteps(input, T, fwd.inputSize), T, tick);
      traces.push(revTrace);
      output = joinDirections(trace.output, revTrace.output, T, fwd.outputSize);
    }
    outputs.push(output);
    input = output;
  }
  const W = dirs * cells[cells.length - 1].outputSize;
  const losses = sequenceLosses(model, loss, seq, outputs[outputs.length - 1], W, tick);
  const nonFinite = firstOverflow(outputs, T, losses.firstNonFinite);
  const { total, seeds, outputGrads } = losses;
  return { traces, outputs, loss: total, seeds, outputGrads, nonFinite, tokens: seq.tokens ?? null };
}

/**
 * The per-step losses of one sequence from its top layer's outputs (T × W): their sum, ∂ε_t/∂y_t (seeds),
 * ∂ε_t/∂o_t, and the first step whose loss is not finite (−1: none).
 */
export function sequenceLosses(
  model: Model,
  loss: LossFunction,
  seq: Sequence,
  top: Float64Array,
  W: number,
  tick: () => void,
): { total: number; seeds: Float64Array; outputGrads: Float64Array; firstNonFinite: number } {
  const T = seq.length;
  const D = model.outputSize;
  const seeds = new Float64Array(T * W);
  const outputGrads = new Float64Array(T * D);
  const dO = new Float64Array(D);
  let total = 0;
  let firstNonFinite = -1;
  tick();
  for (let t = 0; t < T; t++) {
    if ((t & 255) === 255) tick();
    const o = loss.output(top, t);
    const e = loss.stepLoss(o, t, seq.targets, dO);
    if (!Number.isFinite(e) && firstNonFinite < 0) firstNonFinite = t;
    total += e;
    outputGrads.set(dO, t * D);
    loss.backToOutput(dO, seeds, t * W);
  }
  return { total, seeds, outputGrads, firstNonFinite };
}

/** [forward y_t, reverse y_t] for every t, from the reverse trace's own time order. */
function joinDirections(fwd: Float64Array, revOwn: Float64Array, T: number, width: number): Float64Array {
  const out = new Float64Array(T * 2 * width);
  for (let t = 0; t < T; t++) {
    out.set(fwd.subarray(t * width, (t + 1) * width), t * 2 * width);
    out.set(revOwn.subarray((T - 1 - t) * width, (T - t) * width), t * 2 * width + width);
  }
  return out;
}

/**
 * Adds the gradients of Σ_t ε_t for one sequence to `grads` (backpropagation through time). Returns the first
 * non-finite state gradient met (the step, counting down from the last, and the layer).
 */
export function backwardSequence(
  model: Model,
  cells: Cell[],
  fwd: StreamedForward,
  grads: ParamGrads,
  tick: () => void = () => undefined,
): { step: number; layer: number } | null {
  const T = fwd.traces[0].length;
  const dirs = model.bidirectional ? 2 : 1;
  let nonFinite: { step: number; layer: number } | null = null;
  // ∂(Σ ε)/∂y of the layer being processed, T × its width: the loss seeds for the top layer.
  let dY = fwd.seeds;
  for (let k = model.numLayers - 1; k >= 0; k--) {
    const needInput = k > 0 || grads.embedding !== null;
    const I = cells[k * dirs].inputSize;
    const dIn = needInput ? new Float64Array(T * I) : null;
    for (let d = 0; d < dirs; d++) {
      const idx = k * dirs + d;
      const bad = backwardDirection(cells[idx], fwd.traces[idx], dY, d, dirs, dIn, grads.layers[idx], tick);
      if (bad !== null && (!nonFinite || bad > nonFinite.step)) nonFinite = { step: bad, layer: k };
    }
    if (dIn) dY = dIn;
  }
  if (grads.embedding && model.embedding) addEmbeddingGrads(model, fwd, dY, grads.embedding);
  if (model.readout && grads.readoutWeight && grads.readoutBias) {
    const D = model.outputSize;
    const W = model.readout.weight.cols;
    const y = fwd.outputs[fwd.outputs.length - 1];
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        const g = fwd.outputGrads[t * D + d];
        grads.readoutBias[d] += g;
        for (let h = 0; h < W; h++) grads.readoutWeight[d * W + h] += g * y[t * W + h];
      }
    }
  }
  return nonFinite;
}

/**
 * One direction of one layer swept back through its own time order: its state gradients from dY (the layer's
 * output gradients, this direction's columns), its parameter gradients, and its input gradients added into
 * dIn. Returns the sequence step where a state gradient first (from the end of the sweep) became non-finite.
 */
function backwardDirection(
  cell: Cell,
  traces: Trace | StepTraces,
  dY: Float64Array,
  d: number,
  dirs: number,
  dIn: Float64Array | null,
  grads: LayerGrads,
  tick: () => void,
): number | null {
  const source = stepTracesOf(traces);
  const T = source.length;
  const R = cell.outputSize;
  const W = dirs * R;
  const I = cell.inputSize;
  let cur = new Float64Array(cell.stateSize);
  let nxt = new Float64Array(cell.stateSize);
  const input = dIn ? new Float64Array(I) : null;
  let nonFinite: number | null = null;
  for (let tau = T - 1; tau >= 0; tau--) {
    if ((tau & 15) === 0 || tau === T - 1) tick();
    const t = d === 0 ? tau : T - 1 - tau;
    const G = cur;
    const off = t * W + d * R;
    for (let h = 0; h < R; h++) G[h] += dY[off + h];
    const trace = source.seek(tau);
    const local = tau - source.offset;
    cell.completeState(trace, local, G, 1);
    if (nonFinite === null && firstNonFinite(G, G.length) >= 0) nonFinite = t;
    cell.backStep(trace, local, G, 1, { prev: nxt, prevFrom: 0, input, contribution: null, grads });
    if (dIn && input) for (let i = 0; i < I; i++) dIn[t * I + i] += input[i];
    [cur, nxt] = [nxt, cur];
  }
  return nonFinite;
}

/** Scatters layer 0's input gradients (T×I) into the embedding rows of the sequence's tokens. */
function addEmbeddingGrads(model: Model, fwd: StreamedForward, dX: Float64Array, acc: Float64Array): void {
  const E = model.embedding;
  const tokens = fwd.tokens;
  if (!E || !tokens) return;
  const I = E.cols;
  for (let t = 0; t < tokens.length; t++) {
    const row = tokens[t] * I;
    for (let i = 0; i < I; i++) acc[row + i] += dX[t * I + i];
  }
}
