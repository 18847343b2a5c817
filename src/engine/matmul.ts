// The matrix product the cells use: C (m×n) (+)= A (m×k) · W (k×n), W a weight matrix fixed for a run.
// The plain TypeScript product is the reference path; a GEMM kernel (WebAssembly SIMD, optionally on
// several threads) serves the large products of the lag recursion.
import { gemm } from './linalg';
import type { GemmKernel, Precision } from './kernels';
import type { RowKernels } from './kernels/rowKernels';

export interface MatMul {
  /**
   * log2 of the largest magnitude the product handles without loss: the lag recursion rescales rows
   * whose entries leave [2^−safeExponent, 2^safeExponent] (200: the float32 kernel scales its inputs itself).
   */
  readonly safeExponent: number;
  /** C[cOff..] (m×n) = (or +=) A[aOff..] (m×k) · W (k×n), all row-major and contiguous. */
  multiply(
    m: number,
    n: number,
    k: number,
    A: Float64Array,
    aOff: number,
    W: Float64Array,
    C: Float64Array,
    cOff: number,
    accumulate: boolean,
  ): void;
  /**
   * C[cOff..] (m×n) = (or +=) A[aOff..] (m×k) · B[bOff..] (k×n), where B is data that changes between calls
   * (not a weight matrix: nothing of it is kept). Optional: callers fall back to the plain product. A kernel
   * may drop its resident weights to make room (they are packed again when next used).
   */
  multiplyData?(
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
  ): void;
  /**
   * Zero-copy product with a weight matrix W (k×n), for a caller that computes A itself: returns where to write
   * A (m×k row-major; valid until `product` or another call on this MatMul), or null when this product has no
   * such path (the caller then uses `multiply`). Optional.
   */
  stage?(m: number, n: number, k: number, W: Float64Array): Float64Array | null;
  /**
   * After `stage`: C[cOff..] (m×n, rows `ldc` apart, default n) = A (as written into the staged view) · W; the
   * entries between rows are left as they are.
   */
  product?(m: number, C: Float64Array, cOff: number, ldc?: number): void;
  /**
   * After `stage`, when the staged view is in a kernel's memory: that memory's row kernels and a region beside the
   * product's (RowWork); null otherwise (the view is plain scratch, or there is no kernel). Optional.
   */
  rowWork?(): RowWork | null;
}

/** The per-row arithmetic of a staged product in WebAssembly (kernels/rowKernels.ts), on the kernel's memory. */
export interface RowWork {
  readonly kernels: RowKernels;
  /**
   * Byte offset of a region of `bytes` bytes, valid until the staged product runs. May grow the memory: a view
   * taken before (the staged input) is then stale where the memory is not shared; take `input()` after it.
   */
  region(bytes: number): number;
  /** The whole memory as float64, current after `region`. */
  view(): Float64Array;
  /** The staged product's input view (what `stage` returned), current after `region`. */
  input(): Float64Array;
}

/** The reference product (plain TypeScript). */
export const plainMatMul: MatMul = {
  safeExponent: 200,
  multiply(m, n, k, A, aOff, W, C, cOff, accumulate) {
    gemm(m, n, k, A, aOff, W, 0, C, cOff, accumulate);
  },
  multiplyData(m, n, k, A, aOff, B, bOff, C, cOff, accumulate) {
    gemm(m, n, k, A, aOff, B, bOff, C, cOff, accumulate);
  },
};

/** f64: products of at least this many multiply-adds go to the kernel; smaller ones stay in plain code. */
const KERNEL_MIN_WORK = 16384;

/** A kernel's zero-copy path (WasmGemmKernel, ParallelWasmGemm): A and C in its own memory. */
interface ZeroCopyKernel {
  inputView(m: number): Float64Array;
  outputView(m: number): Float64Array;
  compute(m: number, accumulate: boolean): void;
  /** The row kernels' side (WasmGemmKernel.sideRegion, memoryView, rowKernels). */
  sideRegion?(bytes: number): number;
  memoryView?(): Float64Array;
  rowKernels?(): RowKernels;
}

function zeroCopy(kernel: GemmKernel): ZeroCopyKernel | null {
  const k = kernel as Partial<ZeroCopyKernel>;
  return typeof k.inputView === 'function' && typeof k.outputView === 'function' && typeof k.compute === 'function'
    ? (kernel as unknown as ZeroCopyKernel)
    : null;
}

/** A zero-copy kernel's RowWork (its staged input has `rows()` rows), or null when it has no row kernels. */
function rowWorkOf(k: ZeroCopyKernel | null, rows: () => number): RowWork | null {
  if (!k?.sideRegion || !k.memoryView || !k.rowKernels) return null;
  const kernel = k as Required<ZeroCopyKernel>;
  return {
    kernels: kernel.rowKernels(),
    region: (bytes) => kernel.sideRegion(bytes),
    view: () => kernel.memoryView(),
    input: () => kernel.inputView(rows()),
  };
}

/**
 * Sends products to a GEMM kernel, keeping every weight matrix it has seen resident (one kernel slot each,
 * until reset). A float64 kernel takes the large products (small ones are faster in plain code, and the
 * result is the same to rounding); a float32 kernel takes every product, so one run never mixes precisions
 * except where the kernel itself recomputes rows in float64 (see kernels/wasmGemmModule.ts, "f32 scaling").
 */
export class KernelMatMul implements MatMul {
  private readonly slots = new Map<Float64Array, { shape: string; slot: number }>();
  /** The kernel rescales its float32 inputs itself, so the recursion's rows use the float64 range either way. */
  readonly safeExponent = 200;

  private readonly direct: ZeroCopyKernel | null;
  /** The staged product's m and n (n 0: none staged). */
  private stagedM = 0;
  private stagedN = 0;
  /** The staged product when it is small enough for plain code (its A in plainScratch). */
  private stagedPlain: { k: number; W: Float64Array } | null = null;
  private plainScratch = new Float64Array(0);
  /** The kernel's RowWork (made at the first rowWork; null: it has none). */
  private rowSide: RowWork | null | undefined;

  constructor(private readonly kernel: GemmKernel) {
    this.direct = zeroCopy(kernel);
  }

  /** 'f64' or 'f32': the kernel's arithmetic. */
  get precision(): Precision {
    return this.kernel.precision;
  }

  multiply(
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
    if (this.kernel.precision === 'f64' && m * n * k < KERNEL_MIN_WORK) {
      gemm(m, n, k, A, aOff, W, 0, C, cOff, accumulate);
      return;
    }
    if (m <= 0) return;
    if (n === 0 || k === 0) {
      if (!accumulate) C.fill(0, cOff, cOff + m * n);
      return;
    }
    this.select(n, k, W);
    this.kernel.multiplyResident(m, A, C, accumulate, aOff, cOff);
  }

  /** Makes W (k×n) the kernel's current matrix, packing it the first time. */
  private select(n: number, k: number, W: Float64Array): void {
    const shape = `${k}x${n}`;
    const known = this.slots.get(W);
    if (known && known.shape === shape) this.kernel.useB(known.slot);
    else this.slots.set(W, { shape, slot: this.kernel.addB(k, n, W, 0) });
  }

  /**
   * The kernel's input region for A (m×k), W current: the caller writes A there and calls `product`, which saves
   * the copy of A into the kernel's memory. Null where `multiply` would not use the kernel.
   */
  stage(m: number, n: number, k: number, W: Float64Array): Float64Array | null {
    this.stagedN = 0;
    this.stagedPlain = null;
    if (!this.direct || m <= 0 || n === 0 || k === 0) return null;
    if (this.kernel.precision === 'f64' && m * n * k < KERNEL_MIN_WORK) {
      // A small product runs in plain code, as multiply does: A goes to scratch (and C after it, when product
      // writes rows apart).
      if (this.plainScratch.length < m * (k + n))
        this.plainScratch = new Float64Array(Math.max(m * (k + n), 2 * this.plainScratch.length));
      this.stagedPlain = { k, W };
      this.stagedN = n;
      return this.plainScratch;
    }
    this.select(n, k, W);
    const view = this.direct.inputView(m);
    this.stagedM = m;
    this.stagedN = n;
    return view;
  }

  rowWork(): RowWork | null {
    if (this.stagedN === 0 || this.stagedPlain) return null;
    if (this.rowSide === undefined) this.rowSide = rowWorkOf(this.direct, () => this.stagedM);
    return this.rowSide;
  }

  /** C[cOff..] (m×n, rows `ldc` apart) = the staged A · W. */
  product(m: number, C: Float64Array, cOff: number, ldc?: number): void {
    const n = this.stagedN;
    if (!this.direct || n === 0) throw new Error('KernelMatMul.product: nothing staged');
    this.stagedN = 0;
    const ld = ldc ?? n;
    const plain = this.stagedPlain;
    if (plain) {
      this.stagedPlain = null;
      if (ld === n) {
        gemm(m, n, plain.k, this.plainScratch, 0, plain.W, 0, C, cOff, false);
        return;
      }
      // The rows of C are apart: the product into scratch after A (the same arithmetic), then copied.
      const c0 = m * plain.k;
      gemm(m, n, plain.k, this.plainScratch, 0, plain.W, 0, this.plainScratch, c0, false);
      for (let r = 0; r < m; r++) C.set(this.plainScratch.subarray(c0 + r * n, c0 + (r + 1) * n), cOff + r * ld);
      return;
    }
    this.direct.compute(m, false);
    const out = this.direct.outputView(m);
    const stride = out.length / m;
    if (stride === n && ld === n) C.set(out, cOff);
    else for (let r = 0; r < m; r++) C.set(out.subarray(r * stride, r * stride + n), cOff + r * ld);
  }

  /**
   * A product with a data matrix B: the kernel's resident weights are dropped and B packed in their place (the
   * weights are packed again at their next use, so callers group their data products). Small products and a
   * float32 kernel's (the data products are the exact gradients) run in plain float64 code.
   */
  multiplyData(
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
    if (this.kernel.precision !== 'f64' || m * n * k < KERNEL_MIN_WORK || m <= 0 || n === 0 || k === 0) {
      gemm(m, n, k, A, aOff, B, bOff, C, cOff, accumulate);
      return;
    }
    this.reset();
    this.kernel.addB(k, n, B, bOff);
    this.kernel.multiplyResident(m, A, C, accumulate, aOff, cOff);
    this.reset();
  }

  /** Forgets the resident matrices (their contents may change between runs). */
  reset(): void {
    this.stagedN = 0;
    this.stagedPlain = null;
    this.slots.clear();
    this.kernel.clearB();
  }

  dispose(): void {
    this.reset();
    this.kernel.dispose();
  }
}
