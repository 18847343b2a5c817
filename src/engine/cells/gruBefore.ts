// The gru cell with the reset gate applied before W_hn (Keras reset_after=False, ONNX linear_before_reset=0;
// checkpoints.md section 3, `gru_reset: "before"`), gate order r, z, n as PyTorch stores the weights:
//   r = sigm(W_ir u + b_ir + W_hr h_{t−1} + b_hr),  z likewise,
//   q_t = r ⊙ h_{t−1},  n = tanh(W_in u + b_in + W_hn q_t + b_hn),
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1};  s_t = y_t = h_t.
// Backward, for g = ∂ε/∂h_t:
//   ∂ε/∂a_n = g ⊙ (1 − z) ⊙ (1 − n²)                      (a_n: n's pre-activation)
//   ∂ε/∂a_z = g ⊙ (h_{t−1} − n) ⊙ z ⊙ (1 − z)
//   ∂ε/∂q_t = ∂ε/∂a_n · W_hn,   ∂ε/∂a_r = ∂ε/∂q_t ⊙ h_{t−1} ⊙ r ⊙ (1 − r)
//   ∂ε/∂h_{t−1} = [∂ε/∂a_r, ∂ε/∂a_z] · W_h{r,z} + ∂ε/∂q_t ⊙ r + g ⊙ z
//   ∂W_h{r,z} += [∂a_r, ∂a_z]ᵀ h_{t−1};  ∂W_hn += ∂a_nᵀ q_t;  ∂b_hh += [∂a_r, ∂a_z, ∂a_n];  ∂W_ih += (same)ᵀ u_t.
// The temporal contribution (step j's term of ∂ε/∂W_hh) has the Frobenius norm
//   √(‖[∂a_r, ∂a_z]‖² ‖h_{j−1}‖² + ‖∂a_n‖² ‖q_j‖²).
import type { LayerWeights } from '../model/types';
import { sigm } from '../activation';
import { matVec, norm2 } from '../linalg';
import { plainMatMul, type MatMul } from '../matmul';
import type { StatsView } from '../cellStats';
import type { BackStepOut, Cell } from './cell';
import type { GruTrace } from './gru';
import { addOuter, addRows, ensureSize } from './scratch';

export class GruBeforeCell implements Cell<GruTrace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly gateRows: number;
  /** W_h{r,z} (rows 0 … 2H−1 of weight_hh) and W_hn (rows 2H … 3H−1), as fixed views for the products. */
  private readonly wRz: Float64Array;
  private readonly wN: Float64Array;
  private dRz: Float64Array = new Float64Array(0);
  private dN: Float64Array = new Float64Array(0);
  private dQ: Float64Array = new Float64Array(0);
  private dI: Float64Array = new Float64Array(0);

  constructor(
    private readonly w: LayerWeights,
    private readonly mm: MatMul = plainMatMul,
  ) {
    this.hiddenSize = w.weightHh.cols;
    this.inputSize = w.weightIh.cols;
    this.outputSize = this.hiddenSize;
    this.stateSize = this.hiddenSize;
    this.gateRows = 3 * this.hiddenSize;
    const H = this.hiddenSize;
    this.wRz = w.weightHh.data.subarray(0, 2 * H * H);
    this.wN = w.weightHh.data.subarray(2 * H * H, 3 * H * H);
  }

  /** Trace gates per step: r, z, n and q = r ⊙ h_{t−1} (T×4H). */
  forward(input: Float64Array, length: number, tick: () => void = () => undefined): GruTrace {
    const H = this.hiddenSize;
    const I = this.inputSize;
    const G3 = this.gateRows;
    const output = new Float64Array(length * H);
    const gates = new Float64Array(length * 4 * H);
    const gi = new Float64Array(G3);
    const gh = new Float64Array(2 * H);
    const hn = new Float64Array(H);
    for (let t = 0; t < length; t++) {
      if ((t & 31) === 31) tick();
      matVec(G3, I, this.w.weightIh.data, input, t * I, gi, 0, false);
      for (let k = 0; k < G3; k++) gi[k] += this.w.biasIh[k];
      if (t > 0) matVec(2 * H, H, this.wRz, output, (t - 1) * H, gh, 0, false);
      else gh.fill(0);
      for (let k = 0; k < 2 * H; k++) gh[k] += this.w.biasHh[k];
      const go = t * 4 * H;
      for (let k = 0; k < H; k++) {
        const r = sigm(gi[k] + gh[k]);
        const hPrev = t > 0 ? output[(t - 1) * H + k] : 0;
        gates[go + k] = r;
        gates[go + H + k] = sigm(gi[H + k] + gh[H + k]);
        gates[go + 3 * H + k] = r * hPrev;
      }
      matVec(H, H, this.wN, gates, go + 3 * H, hn, 0, false);
      for (let k = 0; k < H; k++) {
        const z = gates[go + H + k];
        const n = Math.tanh(gi[2 * H + k] + hn[k] + this.w.biasHh[2 * H + k]);
        const hPrev = t > 0 ? output[(t - 1) * H + k] : 0;
        gates[go + 2 * H + k] = n;
        output[t * H + k] = (1 - z) * n + z * hPrev;
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

  backStep(trace: GruTrace, j: number, G: Float64Array, rows: number, out: BackStepOut): void {
    const H = this.hiddenSize;
    const H2 = 2 * H;
    const I = this.inputSize;
    const G3 = this.gateRows;
    const go = j * 4 * H;
    const hPrevOff = (j - 1) * H;
    this.dRz = ensureSize(this.dRz, rows * H2);
    this.dN = ensureSize(this.dN, rows * H);
    this.dQ = ensureSize(this.dQ, rows * H);
    this.dI = ensureSize(this.dI, rows * G3);
    const { dRz, dN, dQ, dI } = this;
    for (let r = 0; r < rows; r++) {
      const rh = r * H;
      for (let k = 0; k < H; k++) {
        const g = G[rh + k];
        const z = trace.gates[go + H + k];
        const n = trace.gates[go + 2 * H + k];
        const hPrev = j > 0 ? trace.output[hPrevOff + k] : 0;
        dN[rh + k] = g * (1 - z) * (1 - n * n);
        dRz[r * H2 + H + k] = g * (hPrev - n) * z * (1 - z);
      }
    }
    // ∂ε/∂q = ∂ε/∂a_n · W_hn, then the reset gate's pre-activation gradient.
    this.mm.multiply(rows, H, H, dN, 0, this.wN, dQ, 0, false);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < H; k++) {
        const rg = trace.gates[go + k];
        const hPrev = j > 0 ? trace.output[hPrevOff + k] : 0;
        dRz[r * H2 + k] = dQ[r * H + k] * hPrev * rg * (1 - rg);
      }
      dI.set(dRz.subarray(r * H2, (r + 1) * H2), r * G3);
      dI.set(dN.subarray(r * H, (r + 1) * H), r * G3 + H2);
    }
    if (out.contribution) {
      const hNorm = j > 0 ? norm2(trace.output, hPrevOff, H) : 0;
      const qNorm = j > 0 ? norm2(trace.gates, go + 3 * H, H) : 0;
      for (let r = 0; r < rows; r++) {
        let a = 0;
        for (let i = r * H2, e = i + H2; i < e; i++) a += dRz[i] * dRz[i];
        let b = 0;
        for (let i = r * H, e = i + H; i < e; i++) b += dN[i] * dN[i];
        out.contribution[r] = Math.sqrt(a * hNorm * hNorm + b * qNorm * qNorm);
      }
    }
    if (out.prev && j > 0) {
      const n = rows - out.prevFrom;
      this.mm.multiply(n, H, H2, dRz, out.prevFrom * H2, this.wRz, out.prev, 0, false);
      for (let r = 0; r < n; r++) {
        const src = r + out.prevFrom;
        for (let k = 0; k < H; k++) {
          out.prev[r * H + k] += dQ[src * H + k] * trace.gates[go + k] + G[src * H + k] * trace.gates[go + H + k];
        }
      }
    }
    if (out.input) this.mm.multiply(rows, I, G3, dI, 0, this.w.weightIh.data, out.input, 0, false);
    if (out.grads) {
      const whh = out.grads.weightHh;
      if (j > 0) {
        addOuter(whh.subarray(0, H2 * H), dRz, rows, H2, trace.output, hPrevOff, H);
        addOuter(whh.subarray(H2 * H), dN, rows, H, trace.gates, go + 3 * H, H);
      }
      addRows(out.grads.biasHh, dI, rows, G3);
      addOuter(out.grads.weightIh, dI, rows, G3, trace.input, j * I, I);
      addRows(out.grads.biasIh, dI, rows, G3);
    }
  }
}
