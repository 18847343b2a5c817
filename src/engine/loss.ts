// The readout o_t = W y_t + b and the per-step losses of model-format.md, with their gradients.
import { layerOutputWidth, type Model } from './model/types';
import { matVec } from './linalg';

/** Per-step loss ε_t and ∂ε_t/∂o_t for one sequence's outputs. */
export class LossFunction {
  readonly outputSize: number;
  /** W: the width of the top layer's output y_t (directions × H, or × P with projections). */
  private readonly width: number;
  private readonly o: Float64Array;

  constructor(private readonly model: Model) {
    this.outputSize = model.outputSize;
    this.width = layerOutputWidth(model);
    this.o = new Float64Array(model.outputSize);
  }

  /** Network output o_t at step t of the top layer's outputs y (T×W); written into a shared buffer. */
  output(y: Float64Array, t: number): Float64Array {
    const H = this.width;
    const r = this.model.readout;
    if (!r) {
      this.o.set(y.subarray(t * H, t * H + H));
    } else {
      matVec(r.weight.rows, H, r.weight.data, y, t * H, this.o, 0, false);
      for (let d = 0; d < r.bias.length; d++) this.o[d] += r.bias[d];
    }
    return this.o;
  }

  /**
   * ε_t for step t given o_t, writing ∂ε_t/∂o_t into dO (length D).
   * `targets` are the sequence's targets (T×D for mse, T class indices for cross_entropy).
   */
  stepLoss(o: Float64Array, t: number, targets: Float64Array | undefined, dO: Float64Array): number {
    const D = this.outputSize;
    switch (this.model.loss) {
      case 'sum': {
        let s = 0;
        for (let d = 0; d < D; d++) {
          s += o[d];
          dO[d] = 1;
        }
        return s;
      }
      case 'mse': {
        let s = 0;
        for (let d = 0; d < D; d++) {
          const e = o[d] - (targets as Float64Array)[t * D + d];
          s += e * e;
          dO[d] = (2 * e) / D;
        }
        return s / D;
      }
      case 'cross_entropy': {
        const target = (targets as Float64Array)[t];
        let max = -Infinity;
        for (let d = 0; d < D; d++) if (o[d] > max) max = o[d];
        let z = 0;
        for (let d = 0; d < D; d++) z += Math.exp(o[d] - max);
        const logZ = max + Math.log(z);
        for (let d = 0; d < D; d++) dO[d] = Math.exp(o[d] - logZ) - (d === target ? 1 : 0);
        return logZ - o[target];
      }
    }
  }

  /** ∂ε/∂y_t = readoutᵀ dO (or dO itself), written into dY (length W). */
  backToOutput(dO: Float64Array, dY: Float64Array, dYOff: number): void {
    const H = this.width;
    const r = this.model.readout;
    if (!r) {
      for (let h = 0; h < H; h++) dY[dYOff + h] = dO[h];
      return;
    }
    for (let h = 0; h < H; h++) dY[dYOff + h] = 0;
    for (let d = 0; d < r.weight.rows; d++) {
      const g = dO[d];
      if (g === 0) continue;
      for (let h = 0; h < H; h++) dY[dYOff + h] += g * r.weight.data[d * H + h];
    }
  }
}
