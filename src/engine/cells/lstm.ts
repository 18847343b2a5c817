// The lstm cell (PyTorch nn.LSTM), gate order i, f, g, o:
//   z = W_ih u_t + b_ih + W_hh h_{t−1} + b_hh;  i, f, o = sigm(z_·), g = tanh(z_g)
//   c_t = f ⊙ c_{t−1} + i ⊙ g;  m_t = o ⊙ tanh(c_t);  h_t = m_t, or W_hr m_t with projections (proj_size P)
//   state s_t = (h_t, c_t) (width H + H, or P + H);  y_t = h_t.
// State gradients are the whole derivatives w.r.t. the tensors h_j and c_j (as autograd gives them):
// the c-part includes the path c_j → h_j, added by completeState: ∂ε/∂c_j += (W_hrᵀ ∂ε/∂h_j) ⊙ o_j ⊙ (1 − tanh² c_j).
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul } from '../matmul';
import type { StatsView } from '../cellStats';
import type { BackStepOut, Cell, Trace } from './cell';
import { addOuter, addRows, ensureSize, rowNorms } from './scratch';

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
  /** Projections: ∂ε/∂h_j of the rows (rows × P, contiguous) and ∂ε/∂m_j = that · W_hr (rows × H). */
  private gh: Float64Array = new Float64Array(0);
  private gm: Float64Array = new Float64Array(0);

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
    const go = j * 4 * H;
    if (this.projSize === 0) {
      for (let r = 0; r < rows; r++) {
        const rr = r * S;
        for (let k = 0; k < H; k++) {
          const tc = trace.tanhCells[j * H + k];
          G[rr + H + k] += G[rr + k] * trace.gates[go + 3 * H + k] * (1 - tc * tc);
        }
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
      for (let k = 0; k < H; k++) {
        const tc = trace.tanhCells[j * H + k];
        G[rr + R + k] += gm[r * H + k] * trace.gates[go + 3 * H + k] * (1 - tc * tc);
      }
    }
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
    for (let r = 0; r < rows; r++) {
      const rs = r * S;
      const rz = r * G4;
      for (let k = 0; k < H; k++) {
        const gm = proj ? this.gm[r * H + k] : G[rs + k];
        const gc = G[rs + R + k];
        const ig = trace.gates[go + k];
        const fg = trace.gates[go + H + k];
        const gg = trace.gates[go + 2 * H + k];
        const og = trace.gates[go + 3 * H + k];
        const cPrev = j > 0 ? trace.cells[(j - 1) * H + k] : 0;
        dZ[rz + k] = gc * gg * ig * (1 - ig);
        dZ[rz + H + k] = gc * cPrev * fg * (1 - fg);
        dZ[rz + 2 * H + k] = gc * ig * (1 - gg * gg);
        dZ[rz + 3 * H + k] = gm * trace.tanhCells[j * H + k] * og * (1 - og);
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
