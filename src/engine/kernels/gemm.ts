// Dense row-major float64 matrix products for the engine's batched backward recursion:
// C (m×n) = A (m×k) · B (k×n), or C += A·B. B (the weights) is fixed for a whole run, A changes per step.
import type { Precision } from './wasmGemmModule';

/**
 * Plain TypeScript reference: C[cOff + i*n + j] (+)= Σ_p A[aOff + i*k + p] · B[bOff + p*n + j].
 * i-k-j loop order (streams rows of B and C). k = 0 gives C = 0 (or C unchanged when accumulating).
 */
export function gemmRef(
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
  accumulate: boolean,
): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    if (!accumulate) C.fill(0, ci, ci + n);
    const ai = aOff + i * k;
    for (let p = 0; p < k; p++) {
      const a = A[ai + p];
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
    }
  }
}

/**
 * A matrix-product kernel. Two ways to use it:
 *  - one-shot `multiply(m, n, k, A, B, C, accumulate)` (packs B on every call: O(k·n) extra);
 *  - resident B: `setB(k, n, B)` once, then `multiplyResident(m, A, C, accumulate)` per step, which
 *    copies O(m·k + m·n) and allocates nothing (after the first call at the largest m). Several matrices
 *    can stay resident: `addB` packs one more and returns its slot, `useB(slot)` makes it current.
 * All matrices are row-major Float64Array; A is m×k, B is k×n, C is m×n.
 */
export interface GemmKernel {
  readonly name: string;
  /** The arithmetic of the products: 'f64', or 'f32' (see wasmGemmModule.ts, "f32 scaling"). */
  readonly precision: Precision;
  multiply(
    m: number,
    n: number,
    k: number,
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    accumulate: boolean,
  ): void;
  /** Makes B (k×n, row-major from bOff) resident in the kernel's memory, packed, and the only one. */
  setB(k: number, n: number, B: Float64Array, bOff?: number): void;
  /** Makes one more matrix resident (the others stay) and current; returns its slot for useB. */
  addB(k: number, n: number, B: Float64Array, bOff?: number): number;
  /** Makes the matrix of an addB slot current. */
  useB(slot: number): void;
  /** Forgets every resident matrix. */
  clearB(): void;
  /** C (m×n, from cOff) (+)= A (m×k, from aOff) · resident B. */
  multiplyResident(
    m: number,
    A: Float64Array,
    C: Float64Array,
    accumulate: boolean,
    aOff?: number,
    cOff?: number,
  ): void;
  /** Releases memory held by the kernel (it must not be used afterwards). */
  dispose(): void;
}

/** The reference as a GemmKernel (for tests and as a fallback when WebAssembly is unavailable). */
export class RefGemmKernel implements GemmKernel {
  readonly name = 'ref-f64';
  readonly precision = 'f64';
  private k = 0;
  private n = 0;
  private B: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private slots: { k: number; n: number; B: Float64Array<ArrayBufferLike> }[] = [];

  multiply(
    m: number,
    n: number,
    k: number,
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    gemmRef(m, n, k, A, 0, B, 0, C, 0, accumulate);
  }

  setB(k: number, n: number, B: Float64Array, bOff = 0): void {
    this.clearB();
    this.addB(k, n, B, bOff);
  }

  addB(k: number, n: number, B: Float64Array, bOff = 0): number {
    this.slots.push({ k, n, B: B.slice(bOff, bOff + k * n) });
    this.useB(this.slots.length - 1);
    return this.slots.length - 1;
  }

  useB(slot: number): void {
    const s = this.slots[slot];
    if (!s) throw new RangeError(`gemm.useB: no slot ${slot}`);
    this.k = s.k;
    this.n = s.n;
    this.B = s.B;
  }

  clearB(): void {
    this.slots = [];
    this.k = this.n = 0;
    this.B = new Float64Array(0);
  }

  multiplyResident(m: number, A: Float64Array, C: Float64Array, accumulate: boolean, aOff = 0, cOff = 0): void {
    gemmRef(m, this.n, this.k, A, aOff, this.B, 0, C, cOff, accumulate);
  }

  dispose(): void {
    this.clearB();
  }
}
