// Worker entry: runs analyses off the caller's thread. Thin: parsing and numerics live in the engine.
import { parentPort, workerData } from 'node:worker_threads';
import * as v8 from 'node:v8';
import * as os from 'node:os';
import type { AnalyzeParams, FromWorkerMessage, ToWorkerMessage } from './protocol';
import { runAnalysis } from './runAnalysis';
import { KernelMatMul } from '../engine/matmul';
import { createGemmKernel } from '../engine/kernels';

/**
 * Node 20's V8 (11.3) keeps WebAssembly relaxed SIMD, whose fused multiply-add makes the lag products
 * about 15% faster, behind a flag that later V8 versions ship enabled. Set it before the first kernel
 * is compiled; the kernel checks by validation whether it took effect and falls back otherwise.
 */
function enableRelaxedSimd(): void {
  const [major, minor] = process.versions.v8.split('.').map(Number);
  if (major !== 11 || minor >= 4) return;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Without it the kernel uses separate multiplies and adds.
  }
}
enableRelaxedSimd();

/** Threads the GEMM kernel may use (this worker plus helpers). */
const KERNEL_THREADS = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));

/** The worker's GEMM kernels, one per precision, created on first use and kept for later runs. */
class Kernels {
  private readonly byPrecision = new Map<'f64' | 'f32', KernelMatMul>();

  get(precision: 'f64' | 'f32'): KernelMatMul {
    let k = this.byPrecision.get(precision);
    if (!k) {
      k = new KernelMatMul(createGemmKernel({ precision, threads: KERNEL_THREADS }));
      this.byPrecision.set(precision, k);
    }
    k.reset();
    return k;
  }
}

const data = workerData as { control?: Int32Array; niceness?: number } | undefined;
const control: Int32Array | undefined = data?.control;

// A lower priority for this thread (and the GEMM helpers it starts later, which inherit it): see WorkerOptions.
if (typeof data?.niceness === 'number' && data.niceness > 0) {
  try {
    os.setPriority(Math.min(19, Math.round(data.niceness)));
  } catch {
    // Not permitted or not supported: run at the normal priority.
  }
}
const port = parentPort;
const kernels = new Kernels();

function send(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

function analyze(id: number, params: AnalyzeParams): void {
  runAnalysis(params, {
    matmul: kernels.get(params.precision ?? 'f64'),
    isCancelled: () => control !== undefined && Atomics.load(control, 0) === id,
    progress: (fraction, phase, partial) => send({ type: 'progress', id, fraction, phase, partial }),
  }).then(
    (result) => send({ type: 'result', id, result }),
    (error: unknown) => {
      const cancelled = error instanceof Error && error.name === 'CancelledError';
      send({ type: 'error', id, cancelled, message: error instanceof Error ? error.message : String(error) });
    },
  );
}

port?.on('message', (message: ToWorkerMessage) => {
  switch (message.type) {
    case 'analyze':
      analyze(message.id, message.params);
      return;
    case 'cancel':
      // The client also sets the shared cancel slot, which the running analysis polls.
      return;
    default: {
      const unexpected: never = message;
      void unexpected;
    }
  }
});
