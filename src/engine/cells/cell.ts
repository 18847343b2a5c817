// The interface every recurrent cell implements: a forward pass over one sequence that keeps what the
// backward pass needs, and a batched backward step that maps the gradients of many loss terms
// (one per row) with respect to the state s_j to those with respect to s_{j−1} and to the input u_j.
import type { StatsView } from '../cellStats';
import type { LayerWeights } from '../model/types';

/** Parameter-gradient accumulators of one layer and direction, shaped like its weights. */
export interface LayerGrads {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array;
  biasHh: Float64Array;
  /** LSTM projections: W_hr [P][H]. */
  weightHr: Float64Array | null;
}

/** Creates zeroed accumulators for a layer and direction. */
export function zeroLayerGrads(w: LayerWeights): LayerGrads {
  return {
    weightIh: new Float64Array(w.weightIh.data.length),
    weightHh: new Float64Array(w.weightHh.data.length),
    biasIh: new Float64Array(w.biasIh.length),
    biasHh: new Float64Array(w.biasHh.length),
    weightHr: w.weightHr ? new Float64Array(w.weightHr.data.length) : null,
  };
}

/**
 * What one sequence's forward pass keeps. `output` is y_t (T × outputSize), the next layer's input. A
 * reverse direction's trace runs in its own time order: its step τ is the sequence's step T−1−τ.
 */
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

/**
 * A recurrent cell bound to one layer's weights (one direction). It runs in its own time order: the network
 * feeds a reverse direction its input reversed in time.
 */
export interface Cell<T extends Trace = Trace> {
  readonly hiddenSize: number;
  readonly inputSize: number;
  /** Width of the output y_t: H, or P for an lstm with projections. */
  readonly outputSize: number;
  /** Size of the state s: H, 2H for lstm (h then c), P + H with projections. The output y is its first entries. */
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
  /**
   * Maps state gradients at step j (rows × stateSize) back one step; see BackStepOut. Must follow
   * completeState of the same step, rows and G, unchanged in between (callers rescale rows before
   * completeState): a cell may reuse what completeState computed.
   */
  backStep(trace: T, j: number, G: Float64Array, rows: number, out: BackStepOut): void;
  /** Where the trace keeps its gate activations and unit values (cellStats.ts; gates-and-timeline.md §1). */
  statsView(trace: T): StatsView;
  /**
   * Optional: the lag recursion's whole step at j in one pass over the rows (lags.ts), with the same results to
   * the bit as its parts in order: rescaleRows (exponents into `exp`), completeState, the row norms of G into
   * `norms` (rowNormsOf), then backStep. Returns false, having changed nothing, when it does not apply to these
   * outputs (the caller then runs the parts; see onlyLayerProducts).
   */
  lagStep?(trace: T, args: LagStepArgs): boolean;
}

/**
 * The arguments of Cell.lagStep: the lag recursion's rows at step j of one layer. lags.ts fills one per layer for a
 * walk and updates it per step (nothing is allocated per step); the cell only reads it.
 */
export interface LagStepArgs {
  /** The step, in the trace's own index. */
  j: number;
  /** The rows' state gradients at j (rows × stateSize), rescaled and completed in place. */
  G: Float64Array;
  /** Each row's base-2 exponent; a rescaled row adds its own. */
  exp: Float64Array;
  rows: number;
  /** Rows whose largest entry leaves [small, big] are rescaled (rescaleRows). */
  range: { big: number; small: number };
  /** Receives the row norms of G (rowNormsOf). */
  norms: Float64Array;
  /** What backStep writes (the parts' last step). */
  out: BackStepOut;
}

/** The outputs a fused lag step computes: the products of one layer only (`prev` and the contributions). */
export interface LayerProductsOut extends BackStepOut {
  input: null;
  contribution: Float64Array;
  grads: null;
}

/**
 * Whether `out` asks for the products of one layer only (contributions; no input or parameter gradients): the
 * fused lag steps compute nothing else, and return false on any other outputs.
 */
export function onlyLayerProducts(out: BackStepOut): out is LayerProductsOut {
  return !out.input && !out.grads && !!out.contribution;
}
