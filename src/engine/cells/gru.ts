// The gru cell (PyTorch nn.GRU), gate order r, z, n:
//   r = sigm(W_ir u + b_ir + W_hr h_{t−1} + b_hr),  z likewise,
//   n = tanh(W_in u + b_in + r ⊙ (W_hn h_{t−1} + b_hn)),  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1};  s_t = y_t = h_t.
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul } from '../matmul';
import type { StatsView } from '../cellStats';
import { onlyLayerProducts, type BackStepOut, type Cell, type LagStepArgs, type Trace } from './cell';
import { addOuter, addRows, ensureSize, groupContributions, rowNorms, scanRowGroup } from './scratch';

/** Forward values of one sequence. */
export interface GruTrace extends Trace {
  /** Per step r, z, n and W_hn h_{t−1} + b_hn: T×4H. */
  readonly gates: Float64Array;
}

export class GruCell implements Cell<GruTrace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly gateRows: number;
  private dU: Float64Array = new Float64Array(0);
  private dI: Float64Array = new Float64Array(0);
  /** lagStep's per-group sums (scratch.ts scanRowGroup, groupContributions). */
  private readonly quad = new Float64Array(8);

  constructor(
    private readonly w: LayerWeights,
    private readonly mm: MatMul = plainMatMul,
  ) {
    this.hiddenSize = w.weightHh.cols;
    this.inputSize = w.weightIh.cols;
    this.outputSize = this.hiddenSize;
    this.stateSize = this.hiddenSize;
    this.gateRows = 3 * this.hiddenSize;
  }

  forward(input: Float64Array, length: number, tick: () => void = () => undefined): GruTrace {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const G3 = this.gateRows;
    const output = new Float64Array(length * H);
    const gates = new Float64Array(length * 4 * H);
    const gi = new Float64Array(G3);
    const gh = new Float64Array(G3);
    for (let t = 0; t < length; t++) {
      if ((t & 31) === 31) tick();
      matVec(G3, I, this.w.weightIh.data, input, t * I, gi, 0, false);
      for (let k = 0; k < G3; k++) gi[k] += this.w.biasIh[k];
      if (t > 0) matVec(G3, H, this.w.weightHh.data, output, (t - 1) * H, gh, 0, false);
      else gh.fill(0);
      for (let k = 0; k < G3; k++) gh[k] += this.w.biasHh[k];
      const go = t * 4 * H;
      for (let k = 0; k < H; k++) {
        const r = sigm(gi[k] + gh[k]);
        const z = sigm(gi[H + k] + gh[H + k]);
        const hn = gh[2 * H + k];
        const n = Math.tanh(gi[2 * H + k] + r * hn);
        const hPrev = t > 0 ? output[(t - 1) * H + k] : 0;
        output[t * H + k] = (1 - z) * n + z * hPrev;
        gates[go + k] = r;
        gates[go + H + k] = z;
        gates[go + 2 * H + k] = n;
        gates[go + 3 * H + k] = hn;
      }
    }
    return { length, input, output, gates };
  }

  /** Gates r, z, n (stride 4H: the fourth block is not a gate); units h_t. */
  statsView(trace: GruTrace): StatsView {
    return { gates: trace.gates, gateStride: 4 * this.hiddenSize, units: trace.output, projected: null };
  }

  completeState(): void {
    // The state is the output itself: nothing to add.
  }

  /**
   * The lag recursion's step (Cell.lagStep) for the products of one layer (no input gradient, no parameter
   * gradients), with the same results to the bit as rescaleRows, rowNormsOf and backStep in order. Per row: one
   * pass finds the largest entry (rescaling) and the squared norm, four rows side by side so that their sums'
   * dependency chains overlap (each still summed in its own order); one pass over k writes the gate gradients
   * ∂ε/∂(W_hh h_{j−1} + b_hh) straight into the kernel's input region (MatMul.stage), whose norm is then summed in
   * their memory order (blocks r, z, n), as rowNorms sums it. The product writes into `prev`, then the path through
   * z is added.
   */
  lagStep(trace: GruTrace, args: LagStepArgs): boolean {
    const { j, G, exp, rows, range, norms, out } = args;
    const { mm, hiddenSize: H, gateRows: G3 } = this;
    if (!onlyLayerProducts(out) || !mm.stage || !mm.product) return false;
    const go = j * 4 * H;
    const hPrevOff = (j - 1) * H;
    const { contribution, prevFrom: from } = out;
    const n = rows - from;
    const prev = j > 0 ? out.prev : null;
    let A: Float64Array | null = null;
    if (prev && n > 0) {
      A = mm.stage(n, H, G3, this.w.weightHh.data);
      if (!A) return false;
    }
    const { gates, output } = trace;
    const hNorm = j > 0 ? norm2(output, hPrevOff, H) : 0;
    this.dU = ensureSize(this.dU, 4 * G3);
    const scratch = this.dU;
    const q = this.quad;
    const dsts = [scratch, scratch, scratch, scratch];
    const offs = [0, 0, 0, 0];
    // Rows in groups of four, whose sums run side by side (each in its own order).
    for (let r0 = 0; r0 < rows; r0 += 4) {
      const c = Math.min(4, rows - r0);
      scanRowGroup(G, r0, c, H, H, exp, range, norms, q);
      for (let i = 0; i < c; i++) {
        const r = r0 + i;
        const toA = A !== null && r >= from;
        dsts[i] = toA ? (A as Float64Array) : scratch;
        offs[i] = toA ? (r - from) * G3 : i * G3;
        norms[r] = Math.sqrt(norms[r]);
        const g0 = r * H;
        const dst = dsts[i];
        const d0 = offs[i];
        for (let k = 0; k < H; k++) {
          const g = G[g0 + k];
          const rg_ = gates[go + k];
          const z = gates[go + H + k];
          const nk = gates[go + 2 * H + k];
          const hn = gates[go + 3 * H + k];
          const hPrev = j > 0 ? output[hPrevOff + k] : 0;
          const dan = g * (1 - z) * (1 - nk * nk);
          dst[d0 + k] = dan * hn * rg_ * (1 - rg_);
          dst[d0 + H + k] = g * (hPrev - nk) * z * (1 - z);
          dst[d0 + 2 * H + k] = dan * rg_;
        }
      }
      groupContributions(dsts, offs, c, G3, hNorm, q, contribution, r0);
    }
    if (A && prev) {
      mm.product(n, prev, 0);
      for (let r = 0; r < n; r++) {
        const src = (r + from) * H;
        for (let k = 0; k < H; k++) prev[r * H + k] += G[src + k] * gates[go + H + k];
      }
    }
    return true;
  }

  backStep(trace: GruTrace, j: number, G: Float64Array, rows: number, out: BackStepOut): void {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const G3 = this.gateRows;
    const go = j * 4 * H;
    const hPrevOff = (j - 1) * H;
    this.dU = ensureSize(this.dU, rows * G3);
    this.dI = ensureSize(this.dI, rows * G3);
    const { dU, dI } = this;
    for (let r = 0; r < rows; r++) {
      const rh = r * H;
      const rg = r * G3;
      for (let k = 0; k < H; k++) {
        const g = G[rh + k];
        const rg_ = trace.gates[go + k];
        const z = trace.gates[go + H + k];
        const n = trace.gates[go + 2 * H + k];
        const hn = trace.gates[go + 3 * H + k];
        const hPrev = j > 0 ? trace.output[hPrevOff + k] : 0;
        const dan = g * (1 - z) * (1 - n * n);
        const dz = g * (hPrev - n) * z * (1 - z);
        const dr = dan * hn * rg_ * (1 - rg_);
        dU[rg + k] = dr;
        dU[rg + H + k] = dz;
        dU[rg + 2 * H + k] = dan * rg_;
        dI[rg + k] = dr;
        dI[rg + H + k] = dz;
        dI[rg + 2 * H + k] = dan;
      }
    }
    if (out.contribution) rowNorms(dU, rows, G3, j > 0 ? norm2(trace.output, hPrevOff, H) : 0, out.contribution);
    if (out.prev && j > 0) {
      const n = rows - out.prevFrom;
      this.mm.multiply(n, H, G3, dU, out.prevFrom * G3, this.w.weightHh.data, out.prev, 0, false);
      for (let r = 0; r < n; r++) {
        const src = (r + out.prevFrom) * H;
        for (let k = 0; k < H; k++) out.prev[r * H + k] += G[src + k] * trace.gates[go + H + k];
      }
    }
    if (out.input) this.mm.multiply(rows, I, G3, dI, 0, this.w.weightIh.data, out.input, 0, false);
    if (out.grads) {
      if (j > 0) addOuter(out.grads.weightHh, dU, rows, G3, trace.output, hPrevOff, H);
      addRows(out.grads.biasHh, dU, rows, G3);
      addOuter(out.grads.weightIh, dI, rows, G3, trace.input, j * I, I);
      addRows(out.grads.biasIh, dI, rows, G3);
    }
  }
}
