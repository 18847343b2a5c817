// Entry point for the engine: pick a GEMM kernel.
//   const K = createGemmKernel({ precision: 'f64', threads: 2 });
//   K.setB(k, n, W);                       // once per run (W row-major k×n)
//   K.multiplyResident(m, A, C, acc);      // per step: C (m×n) (+)= A (m×k) · W
//   K.dispose();
export { gemmRef, RefGemmKernel, type GemmKernel } from './gemm';
export { WasmGemmKernel, hasRelaxedSimd, type WasmGemmOptions } from './wasmGemm';
export { ParallelWasmGemm, type ParallelGemmOptions } from './parallelGemm';
export type { Precision } from './wasmGemmModule';

import { RefGemmKernel, type GemmKernel } from './gemm';
import { ParallelWasmGemm, type ParallelGemmOptions } from './parallelGemm';
import { WasmGemmKernel } from './wasmGemm';

export interface CreateGemmOptions extends ParallelGemmOptions {
  /** 'ref' forces the plain TypeScript kernel */
  kind?: 'auto' | 'wasm' | 'ref';
}

/**
 * The fastest available kernel: multi-threaded wasm when threads > 1 (and a helper script is found),
 * single-threaded wasm otherwise, the TypeScript reference if WebAssembly SIMD is unavailable.
 * Default threads = 1: the engine opts in to helpers explicitly.
 */
export function createGemmKernel(opts: CreateGemmOptions = {}): GemmKernel {
  if (opts.kind === 'ref') return new RefGemmKernel();
  try {
    if ((opts.threads ?? 1) > 1) {
      const p = new ParallelWasmGemm(opts);
      if (p.threads > 1) return p;
      p.dispose();
    }
    return new WasmGemmKernel(opts);
  } catch (e) {
    if (opts.kind === 'wasm') throw e;
    return new RefGemmKernel();
  }
}
