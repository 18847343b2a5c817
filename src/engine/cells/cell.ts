// The interface every recurrent cell implements: a forward pass over one sequence that keeps what the
// backward pass needs, and a batched backward step that maps the gradients of many loss terms
// (one per row) with respect to the state s_j to those with respect to s_{j−1} and to the input u_j.
import type { LayerWeights } from '../model/types';

/** Parameter-gradient accumulators of one layer, shaped like its weights. */
export interface LayerGrads {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array;
  biasHh: Float64Array;
}

/** Creates zeroed accumulators for a layer. */
export function zeroLayerGrads(w: LayerWeights): LayerGrads {
  return {
    weightIh: new Float64Array(w.weightIh.data.length),
    weightHh: new Float64Array(w.weightHh.data.length),
    biasIh: new Float64Array(w.biasIh.length),
    biasHh: new Float64Array(w.biasHh.length),
  };
}

/** What one sequence's forward pass keeps. `output` is y_t (T×H), the next layer's input. */
export interface Trace {
  readonly length: number;
  readonly input: Float64Array;
  readonly output: Float64Array;
}

/** Outputs of one batched backward step; every buffer holds `rows` rows. */
export interface BackStepOut {
  /** Gradient w.r.t. s_{j−1} (rows × stateSize), for rows [prevFrom, rows) only; null to skip. */
  prev: Float64Array | null;
  /** First row for which `prev` is computed (rows before it are dropped); written at prev row 0. */
  prevFrom: number;
  /** Gradient w.r.t. the input u_j (rows × inputSize); null to skip. */
  input: Float64Array | null;
  /** ‖∂ε/∂u_j‖ · ‖v_{j−1}‖ per row (the eq. 3 temporal contribution); null to skip. */
  contribution: Float64Array | null;
  /** Parameter gradients to accumulate into; null to skip. */
  grads: LayerGrads | null;
}

/** A recurrent cell bound to one layer's weights. */
export interface Cell<T extends Trace = Trace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  /** Size of the state s: H, or 2H for lstm (h then c). The output y is the first H entries. */
  readonly stateSize: number;
  /** Rows of the recurrent matrix: G·H. */
  readonly gateRows: number;
  /** Runs one sequence (input T×I row-major); calls tick every few steps (progress, cancellation). */
  forward(input: Float64Array, length: number, tick?: () => void): T;
  /**
   * Completes state gradients at step j after the y-part received its gradients from the loss and the
   * layer above (lstm adds the path c_j → h_j to the c-part). Rows × stateSize, in place.
   */
  completeState(trace: T, j: number, G: Float64Array, rows: number): void;
  /** Maps state gradients at step j (rows × stateSize) back one step; see BackStepOut. */
  backStep(trace: T, j: number, G: Float64Array, rows: number, out: BackStepOut): void;
}
