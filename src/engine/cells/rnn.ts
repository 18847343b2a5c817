// The vanilla rnn cell in its two forms:
//   elman   (PyTorch nn.RNN):       h_t = σ(W_ih u_t + b_ih + W_hh h_{t−1} + b_hh),   s_t = y_t = h_t
//   pascanu (Pascanu et al., eq. 1): x_t = W_hh σ(x_{t−1}) + W_ih u_t + b_ih + b_hh,  s_t = y_t = x_t
import type { LayerWeights, Nonlinearity, RnnForm } from '../model/types';
import { ACTIVATIONS, type Activation } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul, type RowWork } from '../matmul';
import { ROW_CHUNK } from '../kernels/rowKernels';
import { rescaleRow } from '../logscale';
import type { StatsView } from '../cellStats';
import { onlyLayerProducts, type BackStepOut, type Cell, type LagStepArgs, type Trace } from './cell';
import { addOuter, addRows, ensureSize, rowNorms } from './scratch';

/** Forward values of one sequence. */
export interface RnnTrace extends Trace {
  /** elman: pre-activations a_t; pascanu: σ(x_t). T×H. */
  readonly aux: Float64Array;
}

export class RnnCell implements Cell<RnnTrace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly gateRows: number;
  private readonly act: Activation;
  private readonly bias: Float64Array;
  /** σ(0) repeated: what W_hh multiplies at t = 0 in the pascanu form. */
  private readonly sigmaZero: Float64Array;
  private scratch: Float64Array = new Float64Array(0);
  /** σ′ at the current step. */
  private readonly deriv: Float64Array;

  constructor(
    private readonly w: LayerWeights,
    nonlinearity: Nonlinearity,
    private readonly form: RnnForm,
    private readonly mm: MatMul = plainMatMul,
  ) {
    this.hiddenSize = w.weightHh.cols;
    this.inputSize = w.weightIh.cols;
    this.outputSize = this.hiddenSize;
    this.stateSize = this.hiddenSize;
    this.gateRows = this.hiddenSize;
    this.act = ACTIVATIONS[nonlinearity];
    this.bias = new Float64Array(this.hiddenSize);
    for (let i = 0; i < this.hiddenSize; i++) this.bias[i] = w.biasIh[i] + w.biasHh[i];
    this.sigmaZero = new Float64Array(this.hiddenSize).fill(this.act.f(0));
    this.deriv = new Float64Array(this.hiddenSize);
  }

  forward(input: Float64Array, length: number, tick: () => void = () => undefined): RnnTrace {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const output = new Float64Array(length * H);
    const aux = new Float64Array(length * H);
    const { f } = this.act;
    for (let t = 0; t < length; t++) {
      if ((t & 31) === 31) tick();
      const o = t * H;
      matVec(H, I, this.w.weightIh.data, input, t * I, output, o, false);
      for (let i = 0; i < H; i++) output[o + i] += this.bias[i];
      if (this.form === 'elman') {
        if (t > 0) matVec(H, H, this.w.weightHh.data, output, o - H, output, o, true);
        for (let i = 0; i < H; i++) {
          aux[o + i] = output[o + i];
          output[o + i] = f(output[o + i]);
        }
      } else {
        if (t > 0) matVec(H, H, this.w.weightHh.data, aux, o - H, output, o, true);
        else matVec(H, H, this.w.weightHh.data, this.sigmaZero, 0, output, o, true);
        for (let i = 0; i < H; i++) aux[o + i] = f(output[o + i]);
      }
    }
    return { length, input, output, aux };
  }

  /** No gates; units h_t (elman) or σ(x_t) (pascanu). */
  statsView(trace: RnnTrace): StatsView {
    return { gates: null, gateStride: 0, units: this.form === 'elman' ? trace.output : trace.aux, projected: null };
  }

  completeState(): void {
    // The state is the output itself: nothing to add.
  }

  /**
   * The lag recursion's step (Cell.lagStep) for the products of one layer (no input gradient, no parameter
   * gradients): one pass per row finds its largest entry and its squared norm and writes ∂ε/∂a_j (elman) or the
   * row itself (pascanu) straight into the kernel's input region (MatMul.stage), so the state gradients are read
   * once. A row that must be rescaled is rescaled first and read again, as rescaleRows does. With an even H, the rows
   * that go on to the product take the kernel's WebAssembly row kernel (kernelRows), to the bit the same.
   */
  lagStep(trace: RnnTrace, args: LagStepArgs): boolean {
    const { j, rows, out } = args;
    if (!onlyLayerProducts(out) || !this.mm.stage || !this.mm.product) return false;
    const H = this.hiddenSize;
    const o = j * H;
    const { prevFrom: from } = out;
    const n = rows - from;
    const prev = j > 0 ? out.prev : null;
    let A: Float64Array | null = null;
    if (prev && n > 0) {
      A = this.mm.stage(n, H, H, this.w.weightHh.data);
      if (!A) return false;
    }
    const elman = this.form === 'elman';
    const prevState = elman ? trace.output : trace.aux;
    const v = j > 0 ? prevState : elman ? null : this.sigmaZero;
    const vNorm = v ? norm2(v, j > 0 ? o - H : 0, H) : 0;
    const { df } = this.act;
    const d = this.deriv;
    // What the product takes: ∂ε/∂a_j = G ⊙ σ′(a_j) (elman), or the row itself (pascanu; times 1 is exact).
    if (elman) for (let i = 0; i < H; i++) d[i] = df(trace.aux[o + i], trace.output[o + i]);
    else d.fill(1);
    this.scratch = ensureSize(this.scratch, H);
    const work = A && H % 2 === 0 ? this.mm.rowWork?.() : null;
    // The rows that leave (no product), or all rows: here; the others in WebAssembly.
    for (let r = 0; r < (work ? from : rows); r++) {
      const toA = A !== null && r >= from;
      this.rowPass(args, r, toA ? (A as Float64Array) : this.scratch, toA ? (r - from) * H : 0, vNorm);
    }
    if (work && A) A = this.kernelRows(args, work, vNorm);
    if (A && prev) {
      this.mm.product(n, prev, 0);
      if (!elman) {
        // ∂x_j/∂x_{j−1} = W_hh diag(σ′(x_{j−1})).
        for (let i = 0; i < H; i++) d[i] = df(trace.output[o - H + i], trace.aux[o - H + i]);
        for (let r = 0; r < n; r++) {
          const rr = r * H;
          for (let i = 0; i < H; i++) prev[rr + i] *= d[i];
        }
      }
    }
    return true;
  }

  /**
   * lagStep's row r: its largest entry and squared norm, then its destination dst[d0 …] = the row ⊙ deriv (σ′(a_j),
   * or ones for the pascanu form) and that one's squared norm; a row that must be rescaled is rescaled first and read
   * again, as rescaleRows does. Its norm and contribution (times vNorm) go to norms and the contributions.
   */
  private rowPass(args: LagStepArgs, r: number, dst: Float64Array, d0: number, vNorm: number): void {
    const { G, exp, range, norms, out } = args;
    const H = this.hiddenSize;
    const d = this.deriv;
    const g0 = r * H;
    for (let pass = 0; pass < 2; pass++) {
      let max = 0;
      let ss = 0;
      let sx = 0;
      for (let i = 0; i < H; i++) {
        const g = G[g0 + i];
        const a = Math.abs(g);
        if (a > max) max = a;
        ss += g * g;
        const x = g * d[i];
        dst[d0 + i] = x;
        sx += x * x;
      }
      if (pass === 0) {
        const e = rescaleRow(G, g0, H, max, range);
        if (e !== 0) {
          exp[r] += e;
          continue;
        }
      }
      this.rowDone(out, norms, r, ss, sx, vNorm);
      break;
    }
  }

  /** A row's norm and contribution from its sums of squares (of the state gradient and of what the product takes). */
  private rowDone(out: BackStepOut, norms: Float64Array, r: number, ss: number, sx: number, vNorm: number): void {
    const norm = Math.sqrt(ss);
    norms[r] = norm;
    (out.contribution as Float64Array)[r] = this.form === 'elman' ? Math.sqrt(sx) * vNorm : norm * vNorm;
  }

  /**
   * lagStep's rows from `from` on in WebAssembly (kernels/rowKernels.ts rnnRows), ROW_CHUNK rows at a time: the rows
   * are copied beside the product's regions, the kernel writes row ⊙ deriv into the staged A and returns each row's
   * largest entry and sums of squares, in the order rowPass sums. A row that must be rescaled is rescaled here and
   * run again by rowPass (rare). Returns the staged A as it is after the region (RowWork.input).
   */
  private kernelRows(args: LagStepArgs, work: RowWork, vNorm: number): Float64Array {
    const { G, exp, range, rows, norms, out } = args;
    const H = this.hiddenSize;
    const from = out.prevFrom;
    const n = rows - from;
    const chunk = Math.min(ROW_CHUNK, n);
    // Doubles: the factors (H), the chunk's results (3 per row) and rows.
    const at = work.region(8 * (H + chunk * (3 + H)));
    // The staged input, current after the region (which may have grown the memory).
    const staged = work.input();
    const mem = work.view();
    const d = at / 8;
    const res = d + H;
    const g = res + 3 * chunk;
    mem.set(this.deriv, d);
    const kernel = work.kernels.rnnRows(H);
    for (let r0 = from; r0 < rows; r0 += chunk) {
      const c = Math.min(chunk, rows - r0);
      mem.set(G.subarray(r0 * H, (r0 + c) * H), g);
      kernel(8 * g, 8 * d, staged.byteOffset + 8 * (r0 - from) * H, 8 * res, c);
      for (let i = 0; i < c; i++) {
        const r = r0 + i;
        const e = rescaleRow(G, r * H, H, mem[res + 3 * i], range);
        if (e === 0) this.rowDone(out, norms, r, mem[res + 3 * i + 1], mem[res + 3 * i + 2], vNorm);
        else {
          exp[r] += e;
          this.rowPass(args, r, staged, (r - from) * H, vNorm);
        }
      }
    }
    return staged;
  }

  backStep(trace: RnnTrace, j: number, G: Float64Array, rows: number, out: BackStepOut): void {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const o = j * H;
    // v_{j−1}: what W_hh multiplies at step j.
    const prevState = this.form === 'elman' ? trace.output : trace.aux;
    const v = j > 0 ? prevState : this.form === 'pascanu' ? this.sigmaZero : null;
    const vOff = j > 0 ? o - H : 0;
    const vNorm = v ? norm2(v, vOff, H) : 0;
    let dA: Float64Array;
    if (this.form === 'elman') {
      // ∂ε/∂a_j = G ⊙ σ′(a_j); a_j receives W_hh h_{j−1}. Its row norms give the contributions.
      const { df } = this.act;
      const d = this.deriv;
      for (let i = 0; i < H; i++) d[i] = df(trace.aux[o + i], trace.output[o + i]);
      this.scratch = ensureSize(this.scratch, rows * H);
      dA = this.scratch;
      const contribution = out.contribution;
      for (let r = 0; r < rows; r++) {
        const rr = r * H;
        let ss = 0;
        for (let i = 0; i < H; i++) {
          const x = G[rr + i] * d[i];
          dA[rr + i] = x;
          ss += x * x;
        }
        if (contribution) contribution[r] = Math.sqrt(ss) * vNorm;
      }
    } else {
      dA = G; // x_j receives W_hh σ(x_{j−1}) directly.
      if (out.contribution) rowNorms(dA, rows, H, vNorm, out.contribution);
    }
    if (out.prev && j > 0) {
      const n = rows - out.prevFrom;
      this.mm.multiply(n, H, H, dA, out.prevFrom * H, this.w.weightHh.data, out.prev, 0, false);
      if (this.form === 'pascanu') {
        // ∂x_j/∂x_{j−1} = W_hh diag(σ′(x_{j−1})).
        const { df } = this.act;
        const d = this.deriv;
        for (let i = 0; i < H; i++) d[i] = df(trace.output[o - H + i], trace.aux[o - H + i]);
        for (let r = 0; r < n; r++) {
          const rr = r * H;
          for (let i = 0; i < H; i++) out.prev[rr + i] *= d[i];
        }
      }
    }
    if (out.input) this.mm.multiply(rows, I, H, dA, 0, this.w.weightIh.data, out.input, 0, false);
    if (out.grads) {
      if (v) addOuter(out.grads.weightHh, dA, rows, H, v, vOff, H);
      addOuter(out.grads.weightIh, dA, rows, H, trace.input, j * I, I);
      addRows(out.grads.biasIh, dA, rows, H);
      addRows(out.grads.biasHh, dA, rows, H);
    }
  }
}
