// The lstm cell (PyTorch nn.LSTM), gate order i, f, g, o:
//   z = W_ih u_t + b_ih + W_hh h_{t−1} + b_hh;  i, f, o = sigm(z_·), g = tanh(z_g)
//   c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t);  state s_t = (h_t, c_t);  y_t = h_t.
// State gradients are the whole derivatives w.r.t. the tensors h_j and c_j (as autograd gives them):
// the c-part includes the path c_j → h_j, added by completeState.
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul } from '../matmul';
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
}

export class LstmCell implements Cell<LstmTrace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly stateSize: number;
  readonly gateRows: number;
  private readonly bias: Float64Array;
  private dZ: Float64Array = new Float64Array(0);
  private hPart: Float64Array = new Float64Array(0);

  constructor(
    private readonly w: LayerWeights,
    private readonly mm: MatMul = plainMatMul,
  ) {
    this.hiddenSize = w.weightHh.cols;
    this.inputSize = w.weightIh.cols;
    this.stateSize = 2 * this.hiddenSize;
    this.gateRows = 4 * this.hiddenSize;
    this.bias = new Float64Array(this.gateRows);
    for (let i = 0; i < this.gateRows; i++) this.bias[i] = w.biasIh[i] + w.biasHh[i];
  }

  forward(input: Float64Array, length: number, tick: () => void = () => undefined): LstmTrace {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const G4 = this.gateRows;
    const output = new Float64Array(length * H);
    const gates = new Float64Array(length * G4);
    const cells = new Float64Array(length * H);
    const tanhCells = new Float64Array(length * H);
    for (let t = 0; t < length; t++) {
      if ((t & 31) === 31) tick();
      const go = t * G4;
      matVec(G4, I, this.w.weightIh.data, input, t * I, gates, go, false);
      if (t > 0) matVec(G4, H, this.w.weightHh.data, output, (t - 1) * H, gates, go, true);
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
        output[t * H + k] = og * tc;
      }
    }
    return { length, input, output, gates, cells, tanhCells };
  }

  completeState(trace: LstmTrace, j: number, G: Float64Array, rows: number): void {
    const H = this.hiddenSize;
    const go = j * 4 * H;
    for (let r = 0; r < rows; r++) {
      const rr = r * 2 * H;
      for (let k = 0; k < H; k++) {
        const tc = trace.tanhCells[j * H + k];
        G[rr + H + k] += G[rr + k] * trace.gates[go + 3 * H + k] * (1 - tc * tc);
      }
    }
  }

  backStep(trace: LstmTrace, j: number, G: Float64Array, rows: number, out: BackStepOut): void {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const G4 = this.gateRows;
    const S = this.stateSize;
    const go = j * G4;
    this.dZ = ensureSize(this.dZ, rows * G4);
    const dZ = this.dZ;
    for (let r = 0; r < rows; r++) {
      const rs = r * S;
      const rz = r * G4;
      for (let k = 0; k < H; k++) {
        const gh = G[rs + k];
        const gc = G[rs + H + k];
        const ig = trace.gates[go + k];
        const fg = trace.gates[go + H + k];
        const gg = trace.gates[go + 2 * H + k];
        const og = trace.gates[go + 3 * H + k];
        const cPrev = j > 0 ? trace.cells[(j - 1) * H + k] : 0;
        dZ[rz + k] = gc * gg * ig * (1 - ig);
        dZ[rz + H + k] = gc * cPrev * fg * (1 - fg);
        dZ[rz + 2 * H + k] = gc * ig * (1 - gg * gg);
        dZ[rz + 3 * H + k] = gh * trace.tanhCells[j * H + k] * og * (1 - og);
      }
    }
    const hPrevOff = (j - 1) * H;
    if (out.contribution) rowNorms(dZ, rows, G4, j > 0 ? norm2(trace.output, hPrevOff, H) : 0, out.contribution);
    if (out.prev && j > 0) {
      const n = rows - out.prevFrom;
      this.hPart = ensureSize(this.hPart, n * H);
      this.mm.multiply(n, H, G4, dZ, out.prevFrom * G4, this.w.weightHh.data, this.hPart, 0, false);
      for (let r = 0; r < n; r++) {
        const src = (r + out.prevFrom) * S;
        const dst = r * S;
        for (let k = 0; k < H; k++) {
          out.prev[dst + k] = this.hPart[r * H + k];
          out.prev[dst + H + k] = G[src + H + k] * trace.gates[go + H + k];
        }
      }
    }
    if (out.input) this.mm.multiply(rows, I, G4, dZ, 0, this.w.weightIh.data, out.input, 0, false);
    if (out.grads) {
      if (j > 0) addOuter(out.grads.weightHh, dZ, rows, G4, trace.output, hPrevOff, H);
      addOuter(out.grads.weightIh, dZ, rows, G4, trace.input, j * I, I);
      addRows(out.grads.biasIh, dZ, rows, G4);
      addRows(out.grads.biasHh, dZ, rows, G4);
    }
  }
}
