// The gru cell (PyTorch nn.GRU), gate order r, z, n:
//   r = sigm(W_ir u + b_ir + W_hr h_{t−1} + b_hr),  z likewise,
//   n = tanh(W_in u + b_in + r ⊙ (W_hn h_{t−1} + b_hn)),  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1};  s_t = y_t = h_t.
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul, type RowWork } from '../matmul';
import { ROW_CHUNK } from '../kernels/rowKernels';
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
  /** gateRowGroup's destinations of the gate gradients (groupContributions). */
  private readonly groupDsts: Float64Array[] = [];
  private readonly groupOffs: number[] = [0, 0, 0, 0];

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
   * z is added. With an even H, the pass over k and the gate gradients' norms run in the kernel's WebAssembly row
   * kernels (kernelGateRows), to the bit the same.
   */
  lagStep(trace: GruTrace, args: LagStepArgs): boolean {
    const { j, G, rows, out } = args;
    const { mm, hiddenSize: H, gateRows: G3 } = this;
    if (!onlyLayerProducts(out) || !mm.stage || !mm.product) return false;
    const go = j * 4 * H;
    const hPrevOff = (j - 1) * H;
    const { prevFrom: from } = out;
    const n = rows - from;
    const prev = j > 0 ? out.prev : null;
    let A: Float64Array | null = null;
    if (prev && n > 0) {
      A = mm.stage(n, H, G3, this.w.weightHh.data);
      if (!A) return false;
    }
    const hNorm = j > 0 ? norm2(trace.output, hPrevOff, H) : 0;
    this.dU = ensureSize(this.dU, 4 * G3);
    const work = A && prev && H % 2 === 0 ? mm.rowWork?.() : null;
    if (work && A) {
      // The rows that leave (at most one) here, the others in WebAssembly.
      if (from > 0) this.gateRowGroup(trace, args, A, 0, from, hNorm);
      A = this.kernelGateRows(trace, args, work, hNorm);
    } else {
      // Rows in groups of four, whose sums run side by side (each in its own order).
      for (let r0 = 0; r0 < rows; r0 += 4) this.gateRowGroup(trace, args, A, r0, Math.min(4, rows - r0), hNorm);
    }
    if (A && prev) {
      mm.product(n, prev, 0);
      for (let r = 0; r < n; r++) {
        const src = (r + from) * H;
        for (let k = 0; k < H; k++) prev[r * H + k] += G[src + k] * trace.gates[go + H + k];
      }
    }
    return true;
  }

  /**
   * lagStep's rows r0 … r0 + c − 1 (c ≤ 4): their first pass (rescaling, norms), the gate gradients into A (rows from
   * on; scratch for a row that leaves), and the gate gradients' norms times ‖h_{j−1}‖ into the contributions.
   */
  private gateRowGroup(
    trace: GruTrace,
    args: LagStepArgs,
    A: Float64Array | null,
    r0: number,
    c: number,
    hNorm: number,
  ): void {
    const { j, G, exp, range, norms, out } = args;
    const { hiddenSize: H, gateRows: G3 } = this;
    const { contribution, prevFrom: from } = out as { contribution: Float64Array; prevFrom: number };
    const go = j * 4 * H;
    const hPrevOff = (j - 1) * H;
    const { gates, output } = trace;
    const scratch = this.dU;
    const q = this.quad;
    const dsts = this.groupDsts;
    const offs = this.groupOffs;
    scanRowGroup(G, r0, c, H, H, exp, range, norms, q);
    for (let i = 0; i < c; i++) {
      const r = r0 + i;
      const toA = A !== null && r >= from;
      dsts[i] = toA ? A : scratch;
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

  /**
   * lagStep's rows from `from` on (j > 0) in WebAssembly (kernels/rowKernels.ts gruGateRows), the same arithmetic
   * as gateRowGroup in the same order, ROW_CHUNK rows at a time: each chunk's first pass here, its state gradients
   * copied beside the product's regions (with the step's gates and h_{j−1}), the gate gradients written into the
   * staged A, and their norms (sumSquaresRows) give the contributions while they are in cache. Returns the staged A
   * as it is after the region (RowWork.input).
   */
  private kernelGateRows(trace: GruTrace, args: LagStepArgs, work: RowWork, hNorm: number): Float64Array {
    const { j, G, exp, range, rows, norms, out } = args;
    const { hiddenSize: H, gateRows: G3 } = this;
    const from = out.prevFrom;
    const contribution = out.contribution as Float64Array;
    const n = rows - from;
    const chunk = Math.min(ROW_CHUNK, n);
    // Doubles: the gates (4H), h_{j−1} (H), the chunk's sums (8) and rows.
    const at = work.region(8 * (5 * H + 8 + chunk * H));
    // The staged input, current after the region (which may have grown the memory).
    const staged = work.input();
    const mem = work.view();
    const gates = at / 8;
    const h = gates + 4 * H;
    const sums = h + H;
    const g = sums + 8;
    mem.set(trace.gates.subarray(j * 4 * H, (j + 1) * 4 * H), gates);
    mem.set(trace.output.subarray((j - 1) * H, j * H), h);
    const kernel = work.kernels.gruGateRows(H);
    for (let r0 = from; r0 < rows; r0 += chunk) {
      const c = Math.min(chunk, rows - r0);
      for (let q0 = r0; q0 < r0 + c; q0 += 4)
        scanRowGroup(G, q0, Math.min(4, r0 + c - q0), H, H, exp, range, norms, this.quad);
      for (let r = r0; r < r0 + c; r++) norms[r] = Math.sqrt(norms[r]);
      mem.set(G.subarray(r0 * H, (r0 + c) * H), g);
      const aRows = staged.byteOffset + 8 * (r0 - from) * G3;
      kernel(8 * g, 8 * gates, 8 * h, aRows, c);
      // The gate gradients' norms, each summed in its memory order (blocks r, z, n), as rowNorms sums.
      work.kernels.sumSquaresRows(aRows, 8 * G3, 8 * G3, c, 8 * sums);
      for (let i = 0; i < c; i++) contribution[r0 + i] = Math.sqrt(mem[sums + i]) * hNorm;
    }
    return staged;
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
