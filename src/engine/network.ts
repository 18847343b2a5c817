// One sequence through the whole stack: forward pass, per-step losses and their output gradients,
// and the parameter gradients of Σ_t ε_t by backpropagation through time.
import type { Model, Sequence } from './model/types';
import { type Cell, type LayerGrads, type Trace, zeroLayerGrads } from './cells/cell';
import type { LossFunction } from './loss';

/** The forward pass of one sequence. */
export interface SequenceForward {
  traces: Trace[];
  /** Σ_t ε_t, or NaN/Infinity when it overflowed. */
  loss: number;
  /** ∂ε_t/∂y_t of the top layer for each t: T×H. */
  seeds: Float64Array;
  /** ∂ε_t/∂o_t for each t: T×D (readout gradients). */
  outputGrads: Float64Array;
  /** First step whose activations or loss are not finite, with its layer (layers+1 = the loss). */
  nonFinite: { step: number; layer: number } | null;
}

/** Gradients of all parameters for one sequence, or a batch, or the file. */
export interface ParamGrads {
  layers: LayerGrads[];
  readoutWeight: Float64Array | null;
  readoutBias: Float64Array | null;
}

/** Zeroed gradients shaped like the model's parameters. */
export function zeroParamGrads(model: Model): ParamGrads {
  return {
    layers: model.layers.map(zeroLayerGrads),
    readoutWeight: model.readout ? new Float64Array(model.readout.weight.data.length) : null,
    readoutBias: model.readout ? new Float64Array(model.readout.bias.length) : null,
  };
}

/** Every parameter-gradient array, in report order. */
export function gradArrays(g: ParamGrads): Float64Array[] {
  const out: Float64Array[] = [];
  for (const l of g.layers) out.push(l.weightIh, l.weightHh, l.biasIh, l.biasHh);
  if (g.readoutWeight && g.readoutBias) out.push(g.readoutWeight, g.readoutBias);
  return out;
}

/** acc += scale · g, parameter by parameter. */
export function addScaled(acc: ParamGrads, g: ParamGrads, scale: number): void {
  const a = gradArrays(acc);
  const b = gradArrays(g);
  for (let i = 0; i < a.length; i++) for (let k = 0; k < a[i].length; k++) a[i][k] += scale * b[i][k];
}

function firstNonFinite(values: Float64Array, width: number): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return Math.floor(i / width);
  return -1;
}

/** Runs the stack and the loss over one sequence. */
export function forwardSequence(
  model: Model,
  cells: Cell[],
  loss: LossFunction,
  seq: Sequence,
  tick: () => void = () => undefined,
): SequenceForward {
  const traces: Trace[] = [];
  let input = seq.inputs;
  let nonFinite: { step: number; layer: number } | null = null;
  for (let k = 0; k < cells.length; k++) {
    tick();
    const trace = cells[k].forward(input, seq.length, tick);
    traces.push(trace);
    const bad = firstNonFinite(trace.output, cells[k].hiddenSize);
    if (bad >= 0 && (!nonFinite || bad < nonFinite.step)) nonFinite = { step: bad, layer: k };
    input = trace.output;
  }
  const H = model.hiddenSize;
  const D = model.outputSize;
  const top = traces[traces.length - 1].output;
  const seeds = new Float64Array(seq.length * H);
  const outputGrads = new Float64Array(seq.length * D);
  const dO = new Float64Array(D);
  let total = 0;
  tick();
  for (let t = 0; t < seq.length; t++) {
    if ((t & 255) === 255) tick();
    const o = loss.output(top, t);
    const e = loss.stepLoss(o, t, seq.targets, dO);
    if (!Number.isFinite(e) && !nonFinite) nonFinite = { step: t, layer: cells.length };
    total += e;
    outputGrads.set(dO, t * D);
    loss.backToOutput(dO, seeds, t * H);
  }
  return { traces, loss: total, seeds, outputGrads, nonFinite };
}

/**
 * Adds the gradients of Σ_t ε_t for one sequence to `grads` (backpropagation through time).
 * Returns the first step (counting down from the last) where a state gradient stopped being finite.
 */
export function backwardSequence(
  model: Model,
  cells: Cell[],
  fwd: SequenceForward,
  grads: ParamGrads,
  tick: () => void = () => undefined,
): { step: number; layer: number } | null {
  const T = fwd.traces[0].length;
  const H = model.hiddenSize;
  const top = cells.length - 1;
  let cur = cells.map((c) => new Float64Array(c.stateSize));
  let nxt = cells.map((c) => new Float64Array(c.stateSize));
  const inputs = cells.map((c) => new Float64Array(c.inputSize));
  let nonFinite: { step: number; layer: number } | null = null;
  for (let j = T - 1; j >= 0; j--) {
    if ((j & 15) === 0 || j === T - 1) tick();
    for (let k = top; k >= 0; k--) {
      const G = cur[k];
      const from = k === top ? fwd.seeds : inputs[k + 1];
      const fromOff = k === top ? j * H : 0;
      for (let h = 0; h < H; h++) G[h] += from[fromOff + h];
      cells[k].completeState(fwd.traces[k], j, G, 1);
      if (!nonFinite && firstNonFinite(G, G.length) >= 0) nonFinite = { step: j, layer: k };
      cells[k].backStep(fwd.traces[k], j, G, 1, {
        prev: nxt[k],
        prevFrom: 0,
        input: k > 0 ? inputs[k] : null,
        contribution: null,
        grads: grads.layers[k],
      });
    }
    [cur, nxt] = [nxt, cur];
  }
  if (model.readout && grads.readoutWeight && grads.readoutBias) {
    const D = model.outputSize;
    const y = fwd.traces[top].output;
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        const g = fwd.outputGrads[t * D + d];
        grads.readoutBias[d] += g;
        for (let h = 0; h < H; h++) grads.readoutWeight[d * H + h] += g * y[t * H + h];
      }
    }
  }
  return nonFinite;
}
