// The matrix product the cells use: C (m×n) (+)= A (m×k) · W (k×n), W a weight matrix fixed for a run.
// The plain TypeScript product is the reference path; a GEMM kernel (WebAssembly SIMD, optionally on
// several threads) serves the large products of the lag recursion.
import { gemm } from './linalg';
import type { GemmKernel } from './kernels';

export interface MatMul {
  /**
   * log2 of the largest magnitude the product handles without loss: the lag recursion rescales rows
   * whose entries leave [2^−safeExponent, 2^safeExponent] (float64: 200; float32 products: 40).
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
}

/** The reference product (plain TypeScript). */
export const plainMatMul: MatMul = {
  safeExponent: 200,
  multiply(m, n, k, A, aOff, W, C, cOff, accumulate) {
    gemm(m, n, k, A, aOff, W, 0, C, cOff, accumulate);
  },
};

/** Products of at least this many multiply-adds go to the kernel; smaller ones stay in plain code. */
const KERNEL_MIN_WORK = 16384;

/** Sends large products to a GEMM kernel, keeping the last weight matrix resident in it. */
export class KernelMatMul implements MatMul {
  private resident: Float64Array | null = null;
  private residentShape = '';
  readonly safeExponent: number;

  constructor(private readonly kernel: GemmKernel) {
    this.safeExponent = kernel.name.includes('f32') ? 40 : 200;
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
    if (m * n * k < KERNEL_MIN_WORK) {
      gemm(m, n, k, A, aOff, W, 0, C, cOff, accumulate);
      return;
    }
    const shape = `${k}x${n}`;
    if (this.resident !== W || this.residentShape !== shape) {
      this.kernel.setB(k, n, W, 0);
      this.resident = W;
      this.residentShape = shape;
    }
    this.kernel.multiplyResident(m, A, C, accumulate, aOff, cOff);
  }

  /** Forgets the resident matrix (its contents may change between runs). */
  reset(): void {
    this.resident = null;
    this.residentShape = '';
  }

  dispose(): void {
    this.reset();
    this.kernel.dispose();
  }
}
