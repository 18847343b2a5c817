// What every analysis thread (the analysis worker and its lag threads) does when it starts: WebAssembly
// relaxed SIMD before its first kernel, the lower priority its creator asked for, and a cache of its GEMM
// kernels.
import * as os from 'node:os';
import * as v8 from 'node:v8';
import { createGemmKernel, type Precision } from '../engine/kernels';
import { KernelMatMul } from '../engine/matmul';

/**
 * Node 20's V8 (11.3) keeps WebAssembly relaxed SIMD, whose fused multiply-add makes the lag products
 * about 15% faster, behind a flag that later V8 versions ship enabled. Set it before the first kernel
 * is compiled; the kernel checks by validation whether it took effect and falls back otherwise.
 */
export function enableRelaxedSimd(): void {
  const [major, minor] = process.versions.v8.split('.').map(Number);
  if (major !== 11 || minor >= 4) return;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Without it the kernel uses separate multiplies and adds.
  }
}

/**
 * Runs this thread at a nice value (0..19; 0 or undefined: unchanged). Linux nice values are per thread
 * and inherited by the threads it starts later (the GEMM helpers).
 */
export function lowerPriority(niceness: number | undefined): void {
  if (typeof niceness !== 'number' || niceness <= 0) return;
  try {
    os.setPriority(Math.min(19, Math.round(niceness)));
  } catch {
    // Not permitted or not supported: run at the normal priority.
  }
}

/** Starts an analysis thread: relaxed SIMD for its kernels, then its priority. */
export function bootAnalysisThread(options: { niceness?: number }): void {
  enableRelaxedSimd();
  lowerPriority(options.niceness);
}

/**
 * A thread's GEMM kernels, one per precision and thread count, created on first use and kept (compiling a
 * kernel costs milliseconds; its resident weights are reset for every run).
 */
export class KernelCache {
  private readonly byKey = new Map<string, KernelMatMul>();

  /**
   * @param defaultThreads threads of a kernel when get() is not told (1: this thread only).
   * @param niceness nice value of a kernel's helper threads (they lower their own priority at start).
   */
  constructor(
    private readonly defaultThreads = 1,
    private readonly niceness?: number,
  ) {}

  /** The kernel for this precision and thread count, reset for a new run. */
  get(precision: Precision, threads = this.defaultThreads): KernelMatMul {
    const key = `${precision}x${threads}`;
    let k = this.byKey.get(key);
    if (!k) {
      k = new KernelMatMul(createGemmKernel({ precision, threads, niceness: this.niceness }));
      this.byKey.set(key, k);
    }
    k.reset();
    return k;
  }
}
