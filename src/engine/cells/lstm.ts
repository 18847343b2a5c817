// The lstm cell (PyTorch nn.LSTM), gate order i, f, g, o:
//   z = W_ih u_t + b_ih + W_hh h_{t−1} + b_hh;  i, f, o = sigm(z_·), g = tanh(z_g)
//   c_t = f ⊙ c_{t−1} + i ⊙ g;  m_t = o ⊙ tanh(c_t);  h_t = m_t, or W_hr m_t with projections (proj_size P)
//   state s_t = (h_t, c_t) (width H + H, or P + H);  y_t = h_t.
// State gradients are the whole derivatives w.r.t. the tensors h_j and c_j (as autograd gives them):
// the c-part includes the path c_j → h_j, added by completeState: ∂ε/∂c_j += (W_hrᵀ ∂ε/∂h_j) ⊙ o_j ⊙ (1 − tanh² c_j).
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul, type RowWork } from '../matmul';
import { ROW_CHUNK } from '../kernels/rowKernels';
import type { StatsView } from '../cellStats';
import { onlyLayerProducts, type BackStepOut, type Cell, type LagStepArgs, type Trace } from './cell';
import { addOuter, addRows, ensureSize, groupContributions, rowNorms, scanRowGroup } from './scratch';

/** Forward values of one sequence. */
export interface LstmTrace extends Trace {
  /** Activated gates i, f, g, o per step: T×4H. */
  readonly gates: Float64Array;
  /** Cell states c_t: T×H. */
  readonly cells: Float64Array;
  /** tanh(c_t): T×H. */
  readonly tanhCells: Float64Array;
  /** m_t = o_t ⊙ tanh(c_t), T×H: what W_hr projects (the output itself without projections). */
  readonly cellOutput: Float64Array;
}

/** Blocks of H doubles that lstmGateFactors writes (out has GATE_FACTOR_BLOCKS · H entries). */
export const GATE_FACTOR_BLOCKS = 5;

/**
 * The factors of one step's backward pass that depend on the step's forward values and not on the row (the loss
 * term), H each (i, f, g, o the gates, c the cell state, c₋ the state before the step):
 *   out[k]       o·(1 − tanh² c)     ∂ε/∂c += ∂ε/∂m ⊙ this
 *   out[H + k]   g·i·(1 − i)         ∂ε/∂a_i = ∂ε/∂c ⊙ this
 *   out[2H + k]  c₋·f·(1 − f)        ∂ε/∂a_f = ∂ε/∂c ⊙ this
 *   out[3H + k]  i·(1 − g²)          ∂ε/∂a_g = ∂ε/∂c ⊙ this
 *   out[4H + k]  tanh c·o·(1 − o)    ∂ε/∂a_o = ∂ε/∂m ⊙ this
 * Every backward pass of the lstm (completeState, backStep, the fused lagStep and the batched block pass) multiplies
 * by these same numbers, so they agree to the bit; the lag recursion computes them once per step for all its rows.
 * @param go offset of the step's gates (i, f, g, o: 4H) in `gates`
 * @param to offset of the step's tanh c in `tanhCells`
 * @param cells the cell states holding c₋ at `co`, or null for the initial state 0
 */
export function lstmGateFactors(
  H: number,
  gates: Float64Array,
  go: number,
  tanhCells: Float64Array,
  to: number,
  cells: Float64Array | null,
  co: number,
  out: Float64Array,
): void {
  for (let k = 0; k < H; k++) {
    const ig = gates[go + k];
    const fg = gates[go + H + k];
    const gg = gates[go + 2 * H + k];
    const og = gates[go + 3 * H + k];
    const tc = tanhCells[to + k];
    const cPrev = cells ? cells[co + k] : 0;
    out[k] = og * (1 - tc * tc);
    out[H + k] = gg * ig * (1 - ig);
    out[2 * H + k] = cPrev * fg * (1 - fg);
    out[3 * H + k] = ig * (1 - gg * gg);
    out[4 * H + k] = tc * og * (1 - og);
  }
}

export class LstmCell implements Cell<LstmTrace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly gateRows: number;
  /** P (0 without projections). */
  private readonly projSize: number;
  private readonly bias: Float64Array;
  private dZ: Float64Array = new Float64Array(0);
  private hPart: Float64Array = new Float64Array(0);
  /** lstmGateFactors of the step at hand (stepFactors). */
  private factors: Float64Array = new Float64Array(0);
  /** Projections: ∂ε/∂h_j of the rows (rows × P, contiguous) and ∂ε/∂m_j = that · W_hr (rows × H). */
  private gh: Float64Array = new Float64Array(0);
  private gm: Float64Array = new Float64Array(0);
  /** lagStep's per-group sums (scratch.ts scanRowGroup, groupContributions). */
  private readonly quad = new Float64Array(8);
  /** gateRowGroup's destinations of the gate gradients (groupContributions). */
  private readonly groupDsts: Float64Array[] = [];
  private readonly groupOffs: number[] = [0, 0, 0, 0];

  constructor(
    private readonly w: LayerWeights,
    private readonly mm: MatMul = plainMatMul,
  ) {
    this.hiddenSize = w.weightHh.rows / 4;
    this.inputSize = w.weightIh.cols;
    this.projSize = w.weightHr ? w.weightHr.rows : 0;
    this.outputSize = this.projSize > 0 ? this.projSize : this.hiddenSize;
    this.stateSize = this.outputSize + this.hiddenSize;
    this.gateRows = 4 * this.hiddenSize;
    this.bias = new Float64Array(this.gateRows);
    for (let i = 0; i < this.gateRows; i++) this.bias[i] = w.biasIh[i] + w.biasHh[i];
  }

  forward(input: Float64Array, length: number, tick: () => void = () => undefined): LstmTrace {
    const H = this.hiddenSize;
    const R = this.outputSize;
    const I = this.inputSize;
    const G4 = this.gateRows;
    const output = new Float64Array(length * R);
    const gates = new Float64Array(length * G4);
    const cells = new Float64Array(length * H);
    const tanhCells = new Float64Array(length * H);
    const cellOutput = this.projSize > 0 ? new Float64Array(length * H) : output;
    for (let t = 0; t < length; t++) {
      if ((t & 31) === 31) tick();
      const go = t * G4;
      matVec(G4, I, this.w.weightIh.data, input, t * I, gates, go, false);
      if (t > 0) matVec(G4, R, this.w.weightHh.data, output, (t - 1) * R, gates, go, true);
      for (let k = 0; k < G4; k++) gates[go + k] += this.bias[k];
      for (let k = 0; k < H; k++) {
        const ig = sigm(gates[go + k]);
        const fg = sigm(gates[go + H + k]);
        const gg = Math.tanh(gates[go + 2 * H + k]);
        const og = sigm(gates[go + 3 * H + k]);
        gates[go + k] = ig;
        gates[go + H + k] = fg;
        gates[go + 2 * H + k] = gg;
        gates[go + 3 * H + k] = og;
        const cPrev = t > 0 ? cells[(t - 1) * H + k] : 0;
        const c = fg * cPrev + ig * gg;
        cells[t * H + k] = c;
        const tc = Math.tanh(c);
        tanhCells[t * H + k] = tc;
        cellOutput[t * H + k] = og * tc;
      }
      if (this.projSize > 0) matVec(R, H, this.weightHr, cellOutput, t * H, output, t * R, false);
    }
    return { length, input, output, gates, cells, tanhCells, cellOutput };
  }

  /** Gates i, f, g, o (stride 4H); units m_t = o ⊙ tanh(c_t); with projections also h_t = W_hr m_t. */
  statsView(trace: LstmTrace): StatsView {
    return {
      gates: trace.gates,
      gateStride: this.gateRows,
      units: trace.cellOutput,
      projected: this.projSize > 0 ? trace.output : null,
    };
  }

  private get weightHr(): Float64Array {
    return (this.w.weightHr as { data: Float64Array }).data;
  }

  completeState(trace: LstmTrace, j: number, G: Float64Array, rows: number): void {
    const H = this.hiddenSize;
    const R = this.outputSize;
    const S = this.stateSize;
    const F = this.stepFactors(trace, j);
    if (this.projSize === 0) {
      for (let r = 0; r < rows; r++) {
        const rr = r * S;
        for (let k = 0; k < H; k++) G[rr + H + k] += G[rr + k] * F[k];
      }
      return;
    }
    // ∂ε/∂m_j = ∂ε/∂h_j · W_hr (rows × H), kept for backStep (the output gate's gradient).
    this.gh = ensureSize(this.gh, rows * R);
    this.gm = ensureSize(this.gm, rows * H);
    const { gh, gm } = this;
    for (let r = 0; r < rows; r++) for (let p = 0; p < R; p++) gh[r * R + p] = G[r * S + p];
    this.mm.multiply(rows, H, R, gh, 0, this.weightHr, gm, 0, false);
    for (let r = 0; r < rows; r++) {
      const rr = r * S;
      for (let k = 0; k < H; k++) G[rr + R + k] += gm[r * H + k] * F[k];
    }
  }

  /** lstmGateFactors of step j, in this cell's scratch (valid until the next call). */
  private stepFactors(trace: LstmTrace, j: number): Float64Array {
    const H = this.hiddenSize;
    this.factors = ensureSize(this.factors, GATE_FACTOR_BLOCKS * H);
    lstmGateFactors(
      H,
      trace.gates,
      j * 4 * H,
      trace.tanhCells,
      j * H,
      j > 0 ? trace.cells : null,
      (j - 1) * H,
      this.factors,
    );
    return this.factors;
  }

  /**
   * The lag recursion's step (Cell.lagStep) for the products of one layer (no input gradient, no parameter
   * gradients), with the same results to the bit as rescaleRows, completeState, rowNormsOf and backStep in order.
   * Per row: one pass finds the largest entry (rescaling) and the h-part's squared norm (four rows side by side, so
   * that their sums' dependency chains overlap, each still summed in its own order); one pass over k completes
   * ∂ε/∂c_j, adds it to the norm, writes the four gate gradients ∂ε/∂z straight into the kernel's input region
   * (MatMul.stage) and ∂ε/∂c_{j−1} into `prev`; ∂ε/∂z's norm is then summed in its memory order (gate blocks i, f,
   * g, o), as rowNorms sums it. The product writes ∂ε/∂h_{j−1} into `prev`'s rows directly. With projections the
   * rows' h-parts go straight into the kernel for ∂ε/∂m_j = ∂ε/∂h_j · W_hr first (all rows rescaled before).
   * With an even H, the pass over k and the gate gradients' norms run in the kernel's WebAssembly row kernels
   * (kernelGateRows), to the bit the same.
   */
  lagStep(trace: LstmTrace, args: LagStepArgs): boolean {
    const { j, G, exp, rows, range, norms, out } = args;
    const { mm, hiddenSize: H, outputSize: R, stateSize: S, gateRows: G4 } = this;
    if (!onlyLayerProducts(out) || !mm.stage || !mm.product) return false;
    const proj = this.projSize > 0;
    const { prevFrom: from } = out;
    const n = rows - from;
    const prev = j > 0 ? out.prev : null;
    const q = this.quad;
    let gm: Float64Array = G;
    if (proj) {
      // ∂ε/∂m_j of every row first: rows rescaled (the h-parts' sums of squares into `norms`), their h-parts into
      // the kernel.
      const V = mm.stage(rows, H, R, this.weightHr);
      if (!V) return false;
      for (let r0 = 0; r0 < rows; r0 += 4) {
        const c = Math.min(4, rows - r0);
        scanRowGroup(G, r0, c, R, S, exp, range, norms, q);
        for (let r = r0; r < r0 + c; r++) for (let i = 0; i < R; i++) V[r * R + i] = G[r * S + i];
      }
      this.gm = ensureSize(this.gm, rows * H);
      mm.product(rows, this.gm, 0);
      gm = this.gm;
    }
    let A: Float64Array | null = null;
    let staged = false;
    if (prev && n > 0) {
      A = mm.stage(n, R, G4, this.w.weightHh.data);
      if (A) staged = true;
      else if (!proj) return false;
      else {
        // Not reached with KernelMatMul (its stage fails for both products or neither): the parts' product.
        this.dZ = ensureSize(this.dZ, n * G4);
        A = this.dZ;
      }
    }
    const hNorm = j > 0 ? norm2(trace.output, (j - 1) * R, R) : 0;
    const F = this.stepFactors(trace, j);
    this.hPart = ensureSize(this.hPart, 4 * G4);
    const work = staged && H % 2 === 0 ? mm.rowWork?.() : null;
    if (work && A && prev) {
      // The rows that leave (at most one) here, the others in WebAssembly.
      if (from > 0) {
        if (!proj) scanRowGroup(G, 0, from, R, S, exp, range, norms, q);
        this.gateRowGroup(trace, args, gm, A, 0, from, F, hNorm);
      }
      A = this.kernelGateRows(trace, args, work, F, hNorm);
    } else {
      // Rows in groups of four, whose sums run side by side (each in its own order).
      for (let r0 = 0; r0 < rows; r0 += 4) {
        const c = Math.min(4, rows - r0);
        if (!proj) scanRowGroup(G, r0, c, R, S, exp, range, norms, q);
        this.gateRowGroup(trace, args, gm, A, r0, c, F, hNorm);
      }
    }
    if (A && prev) {
      if (staged) mm.product(n, prev, 0, S);
      else {
        const hPart = new Float64Array(n * R);
        mm.multiply(n, R, G4, A, 0, this.w.weightHh.data, hPart, 0, false);
        for (let r = 0; r < n; r++) prev.set(hPart.subarray(r * R, (r + 1) * R), r * S);
      }
    }
    return true;
  }

  /**
   * lagStep's rows r0 … r0 + c − 1 (c ≤ 4) after their first pass: ∂ε/∂c_j completed, its squares added to the
   * norms, the gate gradients into A (rows from on; scratch for a row that leaves), ∂ε/∂c_{j−1} into `prev`, and
   * the gate gradients' norms times ‖h_{j−1}‖ into the contributions.
   */
  private gateRowGroup(
    trace: LstmTrace,
    args: LagStepArgs,
    gm: Float64Array,
    A: Float64Array | null,
    r0: number,
    c: number,
    F: Float64Array,
    hNorm: number,
  ): void {
    const { j, G, norms, out } = args;
    const { hiddenSize: H, outputSize: R, stateSize: S, gateRows: G4 } = this;
    const proj = this.projSize > 0;
    const { contribution, prevFrom: from } = out as { contribution: Float64Array; prevFrom: number };
    const prev = j > 0 ? out.prev : null;
    const go = j * G4;
    const { gates } = trace;
    const scratch = this.hPart;
    const dsts = this.groupDsts;
    const offs = this.groupOffs;
    for (let i = 0; i < c; i++) {
      const r = r0 + i;
      const g0 = r * S;
      const toA = A !== null && r >= from;
      const dst = toA ? A : scratch;
      const d0 = toA ? (r - from) * G4 : i * G4;
      dsts[i] = dst;
      offs[i] = d0;
      const p0 = (r - from) * S + R;
      const m0 = proj ? r * H : g0;
      let ss = norms[r];
      for (let k = 0; k < H; k++) {
        const gmk = gm[m0 + k];
        // completeState: ∂ε/∂c_j += ∂ε/∂m_j ⊙ o_j ⊙ (1 − tanh² c_j).
        const gc = G[g0 + R + k] + gmk * F[k];
        ss += gc * gc;
        dst[d0 + k] = gc * F[H + k];
        dst[d0 + H + k] = gc * F[2 * H + k];
        dst[d0 + 2 * H + k] = gc * F[3 * H + k];
        dst[d0 + 3 * H + k] = gmk * F[4 * H + k];
        if (toA) (prev as Float64Array)[p0 + k] = gc * gates[go + H + k];
      }
      norms[r] = Math.sqrt(ss);
    }
    groupContributions(dsts, offs, c, G4, hNorm, this.quad, contribution, r0);
  }

  /**
   * lagStep's rows from `from` on in WebAssembly (kernels/rowKernels.ts lstmGateRows), the same arithmetic as
   * gateRowGroup in the same order, ROW_CHUNK rows at a time: each chunk's first pass here (without projections;
   * with them it came before the W_hr product), its state gradients (and ∂ε/∂m_j with projections) and sums so far
   * are copied beside the product's regions (with the step's factors and forget gate), the gate gradients are
   * written into the staged A, the sums and ∂ε/∂c_{j−1} are copied back (the product writes `prev`'s h-parts
   * after), and the gate gradients' norms give the contributions while they are in cache. Returns the staged A as
   * it is after the region (RowWork.input).
   */
  private kernelGateRows(
    trace: LstmTrace,
    args: LagStepArgs,
    work: RowWork,
    F: Float64Array,
    hNorm: number,
  ): Float64Array {
    const { j, G, rows, norms, out } = args;
    const { hiddenSize: H, stateSize: S, gateRows: G4, projSize: P } = this;
    const from = out.prevFrom;
    const prev = out.prev as Float64Array;
    const contribution = out.contribution as Float64Array;
    const n = rows - from;
    const chunk = Math.min(ROW_CHUNK, n);
    // Doubles: the factors (5H), the forget gate (H), the chunk's sums (of the state and of the gate gradients, 8
    // each), its rows, rows of prev and (projections) rows of ∂ε/∂m_j.
    const at = work.region(8 * (6 * H + 16 + chunk * (2 * S + (P ? H : 0))));
    // The staged input, current after the region (which may have grown the memory).
    const staged = work.input();
    const mem = work.view();
    const f = at / 8;
    const fg = f + 5 * H;
    const ss = fg + H;
    const sums = ss + 8;
    const g = sums + 8;
    const p = g + chunk * S;
    // ∂ε/∂m_j: the state rows' h-parts, or their own rows (the W_hr product's) with projections.
    const m = P ? p + chunk * S : g;
    mem.set(F.subarray(0, 5 * H), f);
    mem.set(trace.gates.subarray(j * G4 + H, j * G4 + 2 * H), fg);
    const kernel = work.kernels.lstmGateRows(H, P);
    for (let r0 = from; r0 < rows; r0 += chunk) {
      const c = Math.min(chunk, rows - r0);
      for (let q0 = r0; !P && q0 < r0 + c; q0 += 4) {
        scanRowGroup(G, q0, Math.min(4, r0 + c - q0), this.outputSize, S, args.exp, args.range, norms, this.quad);
      }
      mem.set(G.subarray(r0 * S, (r0 + c) * S), g);
      if (P) mem.set(this.gm.subarray(r0 * H, (r0 + c) * H), m);
      mem.set(norms.subarray(r0, r0 + c), ss);
      const aRows = staged.byteOffset + 8 * (r0 - from) * G4;
      kernel(8 * m, 8 * g, 8 * f, 8 * fg, 8 * ss, aRows, 8 * p, c);
      for (let i = 0; i < c; i++) norms[r0 + i] = Math.sqrt(mem[ss + i]);
      prev.set(mem.subarray(p, p + c * S), (r0 - from) * S);
      // The gate gradients' norms, each summed in its memory order (gate blocks i, f, g, o), as rowNorms sums.
      work.kernels.sumSquaresRows(aRows, 8 * G4, 8 * G4, c, 8 * sums);
      for (let i = 0; i < c; i++) contribution[r0 + i] = Math.sqrt(mem[sums + i]) * hNorm;
    }
    return staged;
  }

  backStep(trace: LstmTrace, j: number, G: Float64Array, rows: number, out: BackStepOut): void {
    const H = this.hiddenSize;
    const R = this.outputSize;
    const I = this.inputSize;
    const G4 = this.gateRows;
    const S = this.stateSize;
    const go = j * G4;
    const proj = this.projSize > 0;
    this.dZ = ensureSize(this.dZ, rows * G4);
    const dZ = this.dZ;
    const F = this.stepFactors(trace, j);
    for (let r = 0; r < rows; r++) {
      const rs = r * S;
      const rz = r * G4;
      for (let k = 0; k < H; k++) {
        const gm = proj ? this.gm[r * H + k] : G[rs + k];
        const gc = G[rs + R + k];
        dZ[rz + k] = gc * F[H + k];
        dZ[rz + H + k] = gc * F[2 * H + k];
        dZ[rz + 2 * H + k] = gc * F[3 * H + k];
        dZ[rz + 3 * H + k] = gm * F[4 * H + k];
      }
    }
    const hPrevOff = (j - 1) * R;
    if (out.contribution) rowNorms(dZ, rows, G4, j > 0 ? norm2(trace.output, hPrevOff, R) : 0, out.contribution);
    if (out.prev && j > 0) {
      const n = rows - out.prevFrom;
      this.hPart = ensureSize(this.hPart, n * R);
      this.mm.multiply(n, R, G4, dZ, out.prevFrom * G4, this.w.weightHh.data, this.hPart, 0, false);
      for (let r = 0; r < n; r++) {
        const src = (r + out.prevFrom) * S;
        const dst = r * S;
        for (let k = 0; k < R; k++) out.prev[dst + k] = this.hPart[r * R + k];
        for (let k = 0; k < H; k++) out.prev[dst + R + k] = G[src + R + k] * trace.gates[go + H + k];
      }
    }
    if (out.input) this.mm.multiply(rows, I, G4, dZ, 0, this.w.weightIh.data, out.input, 0, false);
    if (out.grads) {
      if (j > 0) addOuter(out.grads.weightHh, dZ, rows, G4, trace.output, hPrevOff, R);
      addOuter(out.grads.weightIh, dZ, rows, G4, trace.input, j * I, I);
      addRows(out.grads.biasIh, dZ, rows, G4);
      addRows(out.grads.biasHh, dZ, rows, G4);
      if (proj && out.grads.weightHr) addOuter(out.grads.weightHr, this.gh, rows, R, trace.cellOutput, j * H, H);
    }
  }
}
