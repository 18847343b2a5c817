// The rnn cell (cells/rnn.ts for the equations of both forms) over a block of sequences.
//   elman:   v = h (the state), a_t = W_ih u_t + b + W_hh h_{t−1}, h_t = σ(a_t)
//   pascanu: the state is x; v = σ(x) is what W_hh multiplies, x_t = W_ih u_t + b + W_hh σ(x_{t−1})
// State buffers have T+1 steps (step 0: the initial state; σ(0) for pascanu from a zero state).
import type { LayerWeights, Nonlinearity, RnnForm } from '../model/types';
import { ACTIVATIONS, type Activation } from '../activation';
import type { CellStatsAccumulator } from '../cellStats';
import type { LayerGrads } from '../cells/cell';
import type { RnnTrace } from '../cells/rnn';
import type { MatMul } from '../matmul';
import {
  addColumns,
  afterInitial,
  anyNonFinite,
  lastStep,
  multiplyRows,
  rowSequence,
  transposed,
  weightGrad,
  type BlockCell,
  type BlockTrace,
} from './blockCell';

export interface RnnBlockTrace extends BlockTrace {
  /** The state s (elman h, pascanu x): (T+1)×n×H. */
  readonly s: Float64Array;
  /** elman: the pre-activations a_t (T×n×H); pascanu: σ(x) ((T+1)×n×H, step 0 from the initial state). */
  readonly aux: Float64Array;
}

export class RnnBlock implements BlockCell<RnnBlockTrace> {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly entriesPerRowStep: number;
  private readonly H: number;
  private readonly act: Activation;
  private readonly bias: Float64Array;
  private readonly wIhT: Float64Array;
  private readonly wHhT: Float64Array;

  constructor(
    private readonly w: LayerWeights,
    nonlinearity: Nonlinearity,
    private readonly form: RnnForm,
    private readonly mm: MatMul,
  ) {
    const H = w.weightHh.cols;
    this.H = H;
    this.inputSize = w.weightIh.cols;
    this.outputSize = H;
    this.stateSize = H;
    this.act = ACTIVATIONS[nonlinearity];
    this.bias = new Float64Array(H);
    for (let i = 0; i < H; i++) this.bias[i] = w.biasIh[i] + w.biasHh[i];
    this.wIhT = transposed(w.weightIh.data, H, this.inputSize);
    this.wHhT = transposed(w.weightHh.data, H, H);
    this.entriesPerRowStep = 4 * H + this.inputSize;
  }

  forward(input: Float64Array, T: number, n: number, init: Float64Array | null, tick: () => void): RnnBlockTrace {
    const { H, mm, bias } = this;
    const { f } = this.act;
    const elman = this.form === 'elman';
    const s = new Float64Array((T + 1) * n * H);
    const aux = new Float64Array((elman ? T : T + 1) * n * H);
    const nh = n * H;
    if (init) s.set(init.subarray(0, n * H));
    if (!elman) for (let i = 0; i < n * H; i++) aux[i] = f(s[i]);
    // Step t's result goes to s at step t+1: first W_ih u_t for every step.
    multiplyRows(mm, T * n, H, this.inputSize, input, 0, this.wIhT, s, n * H, false);
    for (let t = 0; t < T; t++) {
      tick();
      const o = (t + 1) * n * H;
      // The per-sequence order of the sums (cells/rnn.ts): W_ih u_t + b, then + W_hh v_{t−1}.
      for (let b = 0; b < n; b++) for (let k = 0; k < H; k++) s[o + b * H + k] += bias[k];
      if (elman) {
        if (t > 0 || init) mm.multiply(n, H, H, s, t * n * H, this.wHhT, s, o, true);
        const a = t * n * H;
        for (let i = 0; i < nh; i++) {
          const v = s[o + i];
          aux[a + i] = v;
          s[o + i] = f(v);
        }
      } else {
        mm.multiply(n, H, H, aux, t * n * H, this.wHhT, s, o, true);
        for (let i = 0; i < nh; i++) aux[o + i] = f(s[o + i]);
      }
    }
    return { T, n, input, s, aux };
  }

  outputs(trace: RnnBlockTrace): Float64Array {
    return afterInitial(trace.s, trace.n, this.H);
  }

  finalState(trace: RnnBlockTrace, out: Float64Array): void {
    out.set(lastStep(trace.s, trace.T, trace.n, this.H));
  }

  backward(
    trace: RnnBlockTrace,
    dY: Float64Array,
    G: Float64Array,
    needInit: boolean,
    grads: LayerGrads,
    dX: Float64Array | null,
    tick: () => void,
  ): boolean {
    const { T, n, s, aux } = trace;
    const { H, mm } = this;
    const { df } = this.act;
    const elman = this.form === 'elman';
    const I = this.inputSize;
    // ∂ε/∂a_t (elman) or ∂ε/∂x_t (pascanu) of every step: what the parameters' gradients take.
    const dA = new Float64Array(T * n * H);
    const nh = n * H;
    for (let t = T - 1; t >= 0; t--) {
      tick();
      const o = t * nh;
      for (let i = 0; i < nh; i++) G[i] += dY[o + i];
      if (anyNonFinite(G, 0, nh)) return true;
      if (elman) {
        const so = o + nh;
        for (let i = 0; i < nh; i++) dA[o + i] = G[i] * df(aux[o + i], s[so + i]);
      } else {
        dA.set(G.subarray(0, nh), o);
      }
      if (t === 0 && !needInit) break;
      mm.multiply(n, H, H, dA, o, this.w.weightHh.data, G, 0, false);
      // pascanu: ∂x_t/∂x_{t−1} = W_hh diag(σ′(x_{t−1})); x_{t−1} is step t of s.
      if (!elman) for (let i = 0; i < nh; i++) G[i] *= df(s[o + i], aux[o + i]);
    }
    const rows = T * n;
    weightGrad(mm, rows, dA, 0, H, 0, H, trace.input, 0, I, 0, I, grads.weightIh);
    // W_hh meets the v of the step before: h (elman, zero at a zero start) or σ(x) (pascanu, σ(0) then).
    weightGrad(mm, rows, dA, 0, H, 0, H, elman ? s : aux, 0, H, 0, H, grads.weightHh);
    addColumns(grads.biasIh, dA, rows, H);
    addColumns(grads.biasHh, dA, rows, H);
    if (dX) multiplyRows(mm, rows, I, H, dA, 0, this.w.weightIh.data, dX, 0, false);
    return false;
  }

  addStats(trace: RnnBlockTrace, stats: CellStatsAccumulator): void {
    const { T, n } = trace;
    const units = this.form === 'elman' ? this.outputs(trace) : trace.aux.subarray(n * this.H);
    stats.add({ gates: null, gateStride: 0, units, projected: null }, T * n);
  }

  extract(trace: RnnBlockTrace, b: number): RnnTrace {
    const { T, n } = trace;
    const H = this.H;
    return {
      length: T,
      input: rowSequence(trace.input, 0, T, n, this.inputSize, b),
      output: rowSequence(trace.s, 1, T, n, H, b),
      aux: rowSequence(trace.aux, this.form === 'elman' ? 0 : 1, T, n, H, b),
    };
  }
}
