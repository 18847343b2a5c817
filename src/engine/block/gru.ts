// The gru cell over a block of sequences, both forms (cells/gru.ts: reset after W_hn, PyTorch; cells/gruBefore.ts:
// reset before W_hn). Gates per row-step r, z, n and a fourth block: W_hn h_{t−1} + b_hn (after) or
// q = r ⊙ h_{t−1} (before), as in the per-sequence trace.
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import type { CellStatsAccumulator } from '../cellStats';
import type { LayerGrads } from '../cells/cell';
import type { GruTrace } from '../cells/gru';
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

export interface GruBlockTrace extends BlockTrace {
  /** h: (T+1)×n×H (step 0: the initial state). */
  readonly h: Float64Array;
  /** r, z, n and the fourth block: T×n×4H. */
  readonly gates: Float64Array;
}

export class GruBlock implements BlockCell<GruBlockTrace> {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly entriesPerRowStep: number;
  private readonly H: number;
  private readonly wIhT: Float64Array;
  /** after: W_hhᵀ (H×3H); before: W_h{r,z}ᵀ (H×2H). */
  private readonly wHT: Float64Array;
  /** before: W_hnᵀ (H×H) and W_hn and W_h{r,z} (views of weight_hh). */
  private readonly wNT: Float64Array | null;
  private readonly wN: Float64Array;
  private readonly wRz: Float64Array;

  constructor(
    private readonly w: LayerWeights,
    private readonly before: boolean,
    private readonly mm: MatMul,
  ) {
    const H = w.weightHh.cols;
    this.H = H;
    this.inputSize = w.weightIh.cols;
    this.outputSize = H;
    this.stateSize = H;
    this.wIhT = transposed(w.weightIh.data, 3 * H, this.inputSize);
    this.wHT = transposed(w.weightHh.data, before ? 2 * H : 3 * H, H);
    this.wNT = before ? transposed(w.weightHh.data, H, H, 2 * H) : null;
    this.wRz = w.weightHh.data.subarray(0, 2 * H * H);
    this.wN = w.weightHh.data.subarray(2 * H * H, 3 * H * H);
    this.entriesPerRowStep = 12 * H + this.inputSize;
  }

  forward(input: Float64Array, T: number, n: number, init: Float64Array | null, tick: () => void): GruBlockTrace {
    const { H, mm } = this;
    const G3 = 3 * H;
    const H4 = 4 * H;
    const I = this.inputSize;
    const bi = this.w.biasIh;
    const bh = this.w.biasHh;
    const h = new Float64Array((T + 1) * n * H);
    const gates = new Float64Array(T * n * H4);
    if (init) h.set(init.subarray(0, n * H));
    const gi = new Float64Array(n * G3);
    const gh = new Float64Array(n * (this.before ? 2 * H : G3));
    const q = this.before ? new Float64Array(n * H) : null;
    const hn = this.before ? new Float64Array(n * H) : null;
    const ghW = this.before ? 2 * H : G3;
    for (let t = 0; t < T; t++) {
      tick();
      mm.multiply(n, G3, I, input, t * n * I, this.wIhT, gi, 0, false);
      if (t > 0 || init) mm.multiply(n, ghW, H, h, t * n * H, this.wHT, gh, 0, false);
      else gh.fill(0);
      const hp = t * n * H;
      const ho = hp + n * H;
      for (let b = 0; b < n; b++) {
        const go = (t * n + b) * H4;
        const ri = b * G3;
        const rh = b * ghW;
        for (let k = 0; k < H; k++) {
          const r = sigm(gi[ri + k] + bi[k] + (gh[rh + k] + bh[k]));
          const z = sigm(gi[ri + H + k] + bi[H + k] + (gh[rh + H + k] + bh[H + k]));
          gates[go + k] = r;
          gates[go + H + k] = z;
          if (this.before) {
            gates[go + 3 * H + k] = r * h[hp + b * H + k];
          } else {
            const hnk = gh[rh + 2 * H + k] + bh[2 * H + k];
            const nk = Math.tanh(gi[ri + 2 * H + k] + bi[2 * H + k] + r * hnk);
            gates[go + 2 * H + k] = nk;
            gates[go + 3 * H + k] = hnk;
            h[ho + b * H + k] = (1 - z) * nk + z * h[hp + b * H + k];
          }
        }
      }
      if (q && hn && this.wNT) {
        // n = tanh(W_in u + b_in + W_hn q + b_hn), q = r ⊙ h_{t−1} (the fourth block, stride 4H).
        for (let b = 0; b < n; b++) {
          const go = (t * n + b) * H4;
          for (let k = 0; k < H; k++) q[b * H + k] = gates[go + 3 * H + k];
        }
        mm.multiply(n, H, H, q, 0, this.wNT, hn, 0, false);
        for (let b = 0; b < n; b++) {
          const go = (t * n + b) * H4;
          for (let k = 0; k < H; k++) {
            const z = gates[go + H + k];
            const nk = Math.tanh(gi[b * G3 + 2 * H + k] + bi[2 * H + k] + hn[b * H + k] + bh[2 * H + k]);
            gates[go + 2 * H + k] = nk;
            h[ho + b * H + k] = (1 - z) * nk + z * h[hp + b * H + k];
          }
        }
      }
    }
    return { T, n, input, h, gates };
  }

  outputs(trace: GruBlockTrace): Float64Array {
    return afterInitial(trace.h, trace.n, this.H);
  }

  finalState(trace: GruBlockTrace, out: Float64Array): void {
    out.set(lastStep(trace.h, trace.T, trace.n, this.H));
  }

  backward(
    trace: GruBlockTrace,
    dY: Float64Array,
    G: Float64Array,
    needInit: boolean,
    grads: LayerGrads,
    dX: Float64Array | null,
    tick: () => void,
  ): boolean {
    const { T, n, h, gates } = trace;
    const { H, mm } = this;
    const G3 = 3 * H;
    const H2 = 2 * H;
    const H4 = 4 * H;
    const I = this.inputSize;
    const nh = n * H;
    // ∂ε/∂(input pre-activations) of every step, r, z, n blocks: what W_ih and b_ih take.
    const dI = new Float64Array(T * n * G3);
    // after: ∂ε/∂(W_hh h + b_hh) of every step (its n block is ∂a_n ⊙ r); before: ∂ε/∂q_t and a contiguous [∂a_r, ∂a_z].
    const dU = this.before ? null : new Float64Array(T * n * G3);
    const dQ = this.before ? new Float64Array(nh) : null;
    const dRz = this.before ? new Float64Array(n * H2) : null;
    const dN = this.before ? new Float64Array(nh) : null;
    const prev = new Float64Array(nh);
    for (let t = T - 1; t >= 0; t--) {
      tick();
      const o = t * nh;
      for (let i = 0; i < nh; i++) G[i] += dY[o + i];
      if (anyNonFinite(G, 0, nh)) return true;
      for (let b = 0; b < n; b++) {
        const go = (t * n + b) * H4;
        const ro = (t * n + b) * G3;
        const hp = o + b * H;
        for (let k = 0; k < H; k++) {
          const g = G[b * H + k];
          const z = gates[go + H + k];
          const nk = gates[go + 2 * H + k];
          const dan = g * (1 - z) * (1 - nk * nk);
          const dz = g * (h[hp + k] - nk) * z * (1 - z);
          dI[ro + H + k] = dz;
          dI[ro + 2 * H + k] = dan;
          if (dU) {
            const r = gates[go + k];
            const dr = dan * gates[go + 3 * H + k] * r * (1 - r);
            dI[ro + k] = dr;
            dU[ro + k] = dr;
            dU[ro + H + k] = dz;
            dU[ro + 2 * H + k] = dan * r;
          } else if (dN) {
            dN[b * H + k] = dan;
          }
        }
      }
      if (dQ && dN && dRz) {
        mm.multiply(n, H, H, dN, 0, this.wN, dQ, 0, false);
        for (let b = 0; b < n; b++) {
          const go = (t * n + b) * H4;
          const ro = (t * n + b) * G3;
          for (let k = 0; k < H; k++) {
            const r = gates[go + k];
            const dr = dQ[b * H + k] * h[o + b * H + k] * r * (1 - r);
            dI[ro + k] = dr;
            dRz[b * H2 + k] = dr;
            dRz[b * H2 + H + k] = dI[ro + H + k];
          }
        }
      }
      if (t === 0 && !needInit) break;
      if (dU) mm.multiply(n, H, G3, dU, t * n * G3, this.w.weightHh.data, prev, 0, false);
      else if (dRz) mm.multiply(n, H, H2, dRz, 0, this.wRz, prev, 0, false);
      for (let b = 0; b < n; b++) {
        const go = (t * n + b) * H4;
        for (let k = 0; k < H; k++) {
          let v = prev[b * H + k] + G[b * H + k] * gates[go + H + k];
          if (dQ) v += dQ[b * H + k] * gates[go + k];
          G[b * H + k] = v;
        }
      }
    }
    const rows = T * n;
    weightGrad(mm, rows, dI, 0, G3, 0, G3, trace.input, 0, I, 0, I, grads.weightIh);
    addColumns(grads.biasIh, dI, rows, G3);
    if (dU) {
      weightGrad(mm, rows, dU, 0, G3, 0, G3, h, 0, H, 0, H, grads.weightHh);
      addColumns(grads.biasHh, dU, rows, G3);
    } else {
      // [∂a_r, ∂a_z] meet h_{t−1}; ∂a_n meets q_t (the fourth gate block).
      weightGrad(mm, rows, dI, 0, G3, 0, H2, h, 0, H, 0, H, grads.weightHh.subarray(0, H2 * H));
      weightGrad(mm, rows, dI, 0, G3, H2, H, gates, 0, H4, 3 * H, H, grads.weightHh.subarray(H2 * H));
      addColumns(grads.biasHh, dI, rows, G3);
    }
    if (dX) multiplyRows(mm, rows, I, G3, dI, 0, this.w.weightIh.data, dX, 0, false);
    return false;
  }

  addStats(trace: GruBlockTrace, stats: CellStatsAccumulator): void {
    const { T, n } = trace;
    stats.add({ gates: trace.gates, gateStride: 4 * this.H, units: this.outputs(trace), projected: null }, T * n);
  }

  extract(trace: GruBlockTrace, b: number): GruTrace {
    const { T, n } = trace;
    const H = this.H;
    return {
      length: T,
      input: rowSequence(trace.input, 0, T, n, this.inputSize, b),
      output: rowSequence(trace.h, 1, T, n, H, b),
      gates: rowSequence(trace.gates, 0, T, n, 4 * H, b),
    };
  }
}
