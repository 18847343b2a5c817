// Batched BPTT: the forward and backward passes of one layer and direction over a block of n sequences of the
// same length T at once, so that every step is a matrix product (n rows) instead of n matrix–vector products,
// and the parameter gradients are a few large products over all T·n rows after the sweep.
//
// Layout: step-major, row t·n + b holds sequence b's step t (own time order: a reverse direction's block runs
// on its input reversed in time). A state buffer has T + 1 steps: step 0 is the state before the block's first
// step (zero for a whole sequence; a checkpoint's state for a segment), step t + 1 the state after step t.
import type { CellStatsAccumulator } from '../cellStats';
import type { LayerGrads, Trace } from '../cells/cell';
import type { MatMul } from '../matmul';
import { gemm } from '../linalg';

/** What a block's forward pass keeps for its backward pass. */
export interface BlockTrace {
  readonly T: number;
  readonly n: number;
  /** T×n×I, own time order. */
  readonly input: Float64Array;
}

/** One layer and direction of the stack, batched over the rows of a block. */
export interface BlockCell<Tr extends BlockTrace = BlockTrace> {
  readonly inputSize: number;
  /** Width of y_t (H, or P with projections). */
  readonly outputSize: number;
  /** Width of the state: y_t first, then an lstm's c_t. */
  readonly stateSize: number;
  /** Estimated float64 entries the trace and the backward pass hold per row-step (memory budget). */
  readonly entriesPerRowStep: number;
  /**
   * Runs T steps of n rows from `init` (n×stateSize; null: zero). Calls tick every step (cancellation).
   */
  forward(input: Float64Array, T: number, n: number, init: Float64Array | null, tick: () => void): Tr;
  /** y_t of every step: a T×n×outputSize view. */
  outputs(trace: Tr): Float64Array;
  /** The state after the last step, written into out (n×stateSize). */
  finalState(trace: Tr, out: Float64Array): void;
  /**
   * Backpropagates through the block. dY: ∂/∂y_t (T×n×outputSize, own order). G (n×stateSize): on entry the
   * gradient w.r.t. the state after the last step, on return the gradient w.r.t. `init` (scratch, undefined
   * when `needInit` is false). Adds the parameter gradients into grads and, when dX is given, writes the input
   * gradients (T×n×I). Returns true when a state gradient was not finite (the results are then void).
   */
  backward(
    trace: Tr,
    dY: Float64Array,
    G: Float64Array,
    needInit: boolean,
    grads: LayerGrads,
    dX: Float64Array | null,
    tick: () => void,
  ): boolean;
  /** Adds the block's gate activations and unit values to the statistics. */
  addStats(trace: Tr, stats: CellStatsAccumulator): void;
  /** Row b's whole-sequence trace in the per-sequence layout of cells/ (the lag recursion's input). */
  extract(trace: Tr, b: number): Trace;
}

/** Rows per product: bounds the kernel's copies of A and C (its memory only grows). */
const CHUNK_ROWS = 2048;

/** W (rows×cols, row-major) transposed: cols×rows. */
export function transposed(W: Float64Array, rows: number, cols: number, rowOff = 0): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const src = (rowOff + r) * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = W[src + c];
  }
  return out;
}

/** C (m×n) (+)= A (m×k) · W (k×n), in chunks of rows (W a fixed weight matrix). */
export function multiplyRows(
  mm: MatMul,
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  aOff: number,
  W: Float64Array,
  C: Float64Array,
  cOff: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < m; r += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, m - r);
    mm.multiply(rows, n, k, A, aOff + r * k, W, C, cOff + r * n, accumulate);
  }
}

/** Scratch of weightGrad (grows, reused). */
let vtScratch = new Float64Array(0);
let accScratch = new Float64Array(0);

/**
 * dW (dCols × vCols, row-major) += Σ_rows D[row, dOff … dOff+dCols) ⊗ V[row, vOff … vOff+vCols), for `rows`
 * rows of D (row stride dStride, from row dRow) and V (row stride vStride, from row vRow): a parameter
 * gradient over all the steps of a block. Computed as the product Vᵀ · D in chunks of rows (D as data).
 */
export function weightGrad(
  mm: MatMul,
  rows: number,
  D: Float64Array,
  dRow: number,
  dStride: number,
  dOff: number,
  dCols: number,
  V: Float64Array,
  vRow: number,
  vStride: number,
  vOff: number,
  vCols: number,
  dW: Float64Array,
): void {
  if (rows <= 0 || dCols === 0 || vCols === 0) return;
  const chunk = Math.min(CHUNK_ROWS, rows);
  if (vtScratch.length < vCols * chunk) vtScratch = new Float64Array(vCols * chunk);
  if (accScratch.length < vCols * dStride) accScratch = new Float64Array(vCols * dStride);
  const vt = vtScratch;
  const acc = accScratch;
  acc.fill(0, 0, vCols * dStride);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const c = Math.min(chunk, rows - r0);
    for (let r = 0; r < c; r++) {
      const src = (vRow + r0 + r) * vStride + vOff;
      for (let v = 0; v < vCols; v++) vt[v * c + r] = V[src + v];
    }
    if (mm.multiplyData) mm.multiplyData(vCols, dStride, c, vt, 0, D, (dRow + r0) * dStride, acc, 0, true);
    else gemm(vCols, dStride, c, vt, 0, D, (dRow + r0) * dStride, acc, 0, true);
  }
  for (let g = 0; g < dCols; g++) {
    const row = g * vCols;
    for (let v = 0; v < vCols; v++) dW[row + v] += acc[v * dStride + dOff + g];
  }
}

/** acc[k] += Σ_rows D[row·stride + k], k < width. */
export function addColumns(acc: Float64Array, D: Float64Array, rows: number, stride: number, width = stride): void {
  for (let r = 0; r < rows; r++) {
    const o = r * stride;
    for (let k = 0; k < width; k++) acc[k] += D[o + k];
  }
}

/** Row b's steps [from, from+T) of a step-major buffer (width per row) as a T×width sequence. */
export function rowSequence(
  buf: Float64Array,
  from: number,
  T: number,
  n: number,
  width: number,
  b: number,
): Float64Array {
  const out = new Float64Array(T * width);
  for (let t = 0; t < T; t++) {
    const src = ((from + t) * n + b) * width;
    out.set(buf.subarray(src, src + width), t * width);
  }
  return out;
}

/** Steps 1…T of a (T+1)×n×W buffer whose step 0 is the initial state (a view): y_t of every step. */
export function afterInitial(states: Float64Array, n: number, W: number): Float64Array {
  return states.subarray(n * W);
}

/** Step T of a (T+1)×n×W buffer (each row's last value; a view). */
export function lastStep(states: Float64Array, T: number, n: number, W: number): Float64Array {
  return states.subarray(T * n * W, (T + 1) * n * W);
}

/** Whether some entry of v[off … off+len) is not finite. */
export function anyNonFinite(v: Float64Array, off = 0, len = v.length - off): boolean {
  for (let i = off, e = off + len; i < e; i++) if (!Number.isFinite(v[i])) return true;
  return false;
}
