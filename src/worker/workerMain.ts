// Worker entry: runs analyses off the caller's thread. Thin: parsing and numerics live in the engine.
import { parentPort, workerData } from 'node:worker_threads';
import { enableRelaxedSimd } from './relaxedSimd';
import * as os from 'node:os';
import type { AnalyzeParams, FromWorkerMessage, ToWorkerMessage } from './protocol';
import { runAnalysis } from './runAnalysis';
import { KernelMatMul } from '../engine/matmul';
import { createGemmKernel } from '../engine/kernels';
import { defaultLagWorkerScript, LagPool } from './lagPool';

enableRelaxedSimd();

/** Threads the GEMM kernel may use (this worker plus helpers). */
const KERNEL_THREADS = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));

/**
 * The worker's GEMM kernels, one per precision and thread count (KERNEL_THREADS when the products are
 * split across threads, 1 when the lag table's columns are), created on first use and kept.
 */
class Kernels {
  private readonly byKey = new Map<string, KernelMatMul>();

  get(precision: 'f64' | 'f32', threads = KERNEL_THREADS): KernelMatMul {
    const key = `${precision}x${threads}`;
    let k = this.byKey.get(key);
    if (!k) {
      k = new KernelMatMul(createGemmKernel({ precision, threads }));
      this.byKey.set(key, k);
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

/**
 * Lag threads (KERNEL_THREADS − 1, dist/lag-worker.js), started on the first run whose lag table is split
 * across threads and reused. They run at this worker's priority.
 */
let lagPool: LagPool | null | undefined;
function lagThreads(): LagPool | null {
  if (lagPool === undefined) {
    const script = defaultLagWorkerScript();
    lagPool =
      KERNEL_THREADS > 1 && script
        ? new LagPool({ helpers: KERNEL_THREADS - 1, script, cancelControl: control, niceness: data?.niceness })
        : null;
  }
  return lagPool;
}

function send(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

function analyze(id: number, params: AnalyzeParams): void {
  runAnalysis(params, {
    matmul: kernels.get(params.precision ?? 'f64'),
    lagSplit: (model) =>
      lagThreads()?.splitter({
        requestId: id,
        text: params.text,
        filePath: params.filePath,
        rootDir: params.rootDir,
        precision: params.precision ?? 'f64',
        model,
        matmul: () => kernels.get(params.precision ?? 'f64', 1),
      }),
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
