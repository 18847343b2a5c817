// The lstm cell (cells/lstm.ts for the equations) over a block of sequences: per step one product with W_hhᵀ
// (and W_hrᵀ with projections) for all rows; the input products and the parameter gradients over all steps.
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import type { CellStatsAccumulator } from '../cellStats';
import type { LayerGrads } from '../cells/cell';
import { GATE_FACTOR_BLOCKS, lstmGateFactors, type LstmTrace } from '../cells/lstm';
import type { MatMul } from '../matmul';
import {
  addColumns,
  afterInitial,
  anyNonFinite,
  multiplyRows,
  rowSequence,
  transposed,
  weightGrad,
  type BlockCell,
  type BlockTrace,
} from './blockCell';

export interface LstmBlockTrace extends BlockTrace {
  /** h: (T+1)×n×R (step 0: the initial state). */
  readonly h: Float64Array;
  /** c: (T+1)×n×H. */
  readonly c: Float64Array;
  /** Activated gates i, f, g, o: T×n×4H. */
  readonly gates: Float64Array;
  /** tanh(c_t): T×n×H. */
  readonly tanhC: Float64Array;
  /** m_t = o ⊙ tanh(c_t): T×n×H (a view of h from step 1 without projections). */
  readonly m: Float64Array;
}

export class LstmBlock implements BlockCell<LstmBlockTrace> {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly entriesPerRowStep: number;
  private readonly H: number;
  private readonly P: number;
  private readonly bias: Float64Array;
  private readonly wIhT: Float64Array;
  private readonly wHhT: Float64Array;
  private readonly wHrT: Float64Array | null;

  constructor(
    private readonly w: LayerWeights,
    private readonly mm: MatMul,
  ) {
    const H = w.weightHh.rows / 4;
    this.H = H;
    this.P = w.weightHr ? w.weightHr.rows : 0;
    this.inputSize = w.weightIh.cols;
    this.outputSize = this.P > 0 ? this.P : H;
    this.stateSize = this.outputSize + H;
    const G4 = 4 * H;
    this.bias = new Float64Array(G4);
    for (let i = 0; i < G4; i++) this.bias[i] = w.biasIh[i] + w.biasHh[i];
    this.wIhT = transposed(w.weightIh.data, G4, this.inputSize);
    this.wHhT = transposed(w.weightHh.data, G4, this.outputSize);
    this.wHrT = w.weightHr ? transposed(w.weightHr.data, this.P, H) : null;
    // Trace (h, c, gates, tanh c, m, input) and the backward pass's gate and projection gradients.
    this.entriesPerRowStep = 2 * G4 + 3 * H + 2 * this.outputSize + this.inputSize + (this.P > 0 ? H + this.P : 0);
  }

  forward(input: Float64Array, T: number, n: number, init: Float64Array | null, tick: () => void): LstmBlockTrace {
    const { H, P, mm } = this;
    const R = this.outputSize;
    const S = this.stateSize;
    const I = this.inputSize;
    const G4 = 4 * H;
    const h = new Float64Array((T + 1) * n * R);
    const c = new Float64Array((T + 1) * n * H);
    const gates = new Float64Array(T * n * G4);
    const tanhC = new Float64Array(T * n * H);
    const m = P > 0 ? new Float64Array(T * n * H) : h.subarray(n * R);
    if (init) {
      for (let b = 0; b < n; b++) {
        h.set(init.subarray(b * S, b * S + R), b * R);
        c.set(init.subarray(b * S + R, b * S + S), b * H);
      }
    }
    multiplyRows(mm, T * n, G4, I, input, 0, this.wIhT, gates, 0, false);
    const bias = this.bias;
    for (let t = 0; t < T; t++) {
      tick();
      const go = t * n * G4;
      if (t > 0 || init) mm.multiply(n, G4, R, h, t * n * R, this.wHhT, gates, go, true);
      for (let b = 0; b < n; b++) {
        const z = go + b * G4;
        const cp = (t * n + b) * H;
        const cn = cp + n * H;
        const row = (t * n + b) * H;
        for (let k = 0; k < H; k++) {
          const ig = sigm(gates[z + k] + bias[k]);
          const fg = sigm(gates[z + H + k] + bias[H + k]);
          const gg = Math.tanh(gates[z + 2 * H + k] + bias[2 * H + k]);
          const og = sigm(gates[z + 3 * H + k] + bias[3 * H + k]);
          gates[z + k] = ig;
          gates[z + H + k] = fg;
          gates[z + 2 * H + k] = gg;
          gates[z + 3 * H + k] = og;
          const cv = fg * c[cp + k] + ig * gg;
          c[cn + k] = cv;
          const tc = Math.tanh(cv);
          tanhC[row + k] = tc;
          m[row + k] = og * tc;
        }
      }
      if (this.wHrT) mm.multiply(n, R, H, m, t * n * H, this.wHrT, h, (t + 1) * n * R, false);
    }
    return { T, n, input, h, c, gates, tanhC, m };
  }

  outputs(trace: LstmBlockTrace): Float64Array {
    return afterInitial(trace.h, trace.n, this.outputSize);
  }

  finalState(trace: LstmBlockTrace, out: Float64Array): void {
    const { T, n } = trace;
    const R = this.outputSize;
    const H = this.H;
    const S = this.stateSize;
    for (let b = 0; b < n; b++) {
      out.set(trace.h.subarray((T * n + b) * R, (T * n + b + 1) * R), b * S);
      out.set(trace.c.subarray((T * n + b) * H, (T * n + b + 1) * H), b * S + R);
    }
  }

  backward(
    trace: LstmBlockTrace,
    dY: Float64Array,
    G: Float64Array,
    needInit: boolean,
    grads: LayerGrads,
    dX: Float64Array | null,
    tick: () => void,
  ): boolean {
    const { T, n, gates, tanhC, c } = trace;
    const { H, P, mm } = this;
    const R = this.outputSize;
    const S = this.stateSize;
    const I = this.inputSize;
    const G4 = 4 * H;
    const dZ = new Float64Array(T * n * G4);
    // Projections: ∂ε/∂h_t of every step (for W_hr's gradient) and ∂ε/∂m_t of the current step.
    const gh = P > 0 ? new Float64Array(T * n * R) : null;
    const gm = P > 0 ? new Float64Array(n * H) : null;
    const hPart = new Float64Array(n * R);
    const F = new Float64Array(GATE_FACTOR_BLOCKS * H);
    let cur = G;
    let nxt: Float64Array = new Float64Array(n * S);
    for (let t = T - 1; t >= 0; t--) {
      tick();
      for (let b = 0; b < n; b++) {
        const src = (t * n + b) * R;
        const dst = b * S;
        for (let k = 0; k < R; k++) cur[dst + k] += dY[src + k];
      }
      if (gh && gm && this.w.weightHr) {
        for (let b = 0; b < n; b++) gh.set(cur.subarray(b * S, b * S + R), (t * n + b) * R);
        mm.multiply(n, H, R, gh, t * n * R, this.w.weightHr.data, gm, 0, false);
      }
      for (let b = 0; b < n; b++) {
        const rs = b * S;
        const z = (t * n + b) * G4;
        const row = (t * n + b) * H;
        // c at step t (the state before step t) is row t·n + b of c
        lstmGateFactors(H, gates, z, tanhC, row, c, row, F);
        for (let k = 0; k < H; k++) {
          const gmk = gm ? gm[b * H + k] : cur[rs + k];
          const gc = cur[rs + R + k] + gmk * F[k];
          cur[rs + R + k] = gc;
          dZ[z + k] = gc * F[H + k];
          dZ[z + H + k] = gc * F[2 * H + k];
          dZ[z + 2 * H + k] = gc * F[3 * H + k];
          dZ[z + 3 * H + k] = gmk * F[4 * H + k];
        }
      }
      if (anyNonFinite(cur, 0, n * S)) return true;
      if (t === 0 && !needInit) break;
      mm.multiply(n, R, G4, dZ, t * n * G4, this.w.weightHh.data, hPart, 0, false);
      for (let b = 0; b < n; b++) {
        const rs = b * S;
        const z = (t * n + b) * G4;
        for (let k = 0; k < R; k++) nxt[rs + k] = hPart[b * R + k];
        for (let k = 0; k < H; k++) nxt[rs + R + k] = cur[rs + R + k] * gates[z + H + k];
      }
      [cur, nxt] = [nxt, cur];
    }
    if (needInit && cur !== G) G.set(cur.subarray(0, n * S));
    // Parameter gradients over all steps; W_hh meets h of the step before (step 0: the initial state).
    const rows = T * n;
    weightGrad(mm, rows, dZ, 0, G4, 0, G4, trace.input, 0, I, 0, I, grads.weightIh);
    weightGrad(mm, rows, dZ, 0, G4, 0, G4, trace.h, 0, R, 0, R, grads.weightHh);
    addColumns(grads.biasIh, dZ, rows, G4);
    addColumns(grads.biasHh, dZ, rows, G4);
    if (gh && grads.weightHr) weightGrad(mm, rows, gh, 0, R, 0, R, trace.m, 0, H, 0, H, grads.weightHr);
    if (dX) multiplyRows(mm, rows, I, G4, dZ, 0, this.w.weightIh.data, dX, 0, false);
    return false;
  }

  addStats(trace: LstmBlockTrace, stats: CellStatsAccumulator): void {
    const { T, n } = trace;
    stats.add(
      {
        gates: trace.gates,
        gateStride: 4 * this.H,
        units: trace.m,
        projected: this.P > 0 ? this.outputs(trace) : null,
      },
      T * n,
    );
  }

  extract(trace: LstmBlockTrace, b: number): LstmTrace {
    const { T, n } = trace;
    const H = this.H;
    const R = this.outputSize;
    const output = rowSequence(trace.h, 1, T, n, R, b);
    return {
      length: T,
      input: rowSequence(trace.input, 0, T, n, this.inputSize, b),
      output,
      gates: rowSequence(trace.gates, 0, T, n, 4 * H, b),
      cells: rowSequence(trace.c, 1, T, n, H, b),
      tanhCells: rowSequence(trace.tanhC, 0, T, n, H, b),
      cellOutput: this.P > 0 ? rowSequence(trace.m, 0, T, n, H, b) : output,
    };
  }
}
