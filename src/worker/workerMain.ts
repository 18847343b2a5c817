// Worker entry: runs analyses off the caller's thread. Thin: parsing and numerics live in the engine.
import { parentPort, workerData } from 'node:worker_threads';
import * as os from 'node:os';
import type { AnalysisWorkerData, AnalyzeParams, FromWorkerMessage, ToWorkerMessage } from './protocol';
import { runAnalysis } from './runAnalysis';
import { CancelledError } from '../engine/cancellation';
import { defaultLagWorkerScript, LagPool } from './lagPool';
import { bootAnalysisThread, KernelCache, lowerPriority } from './threadBoot';

const data = workerData as AnalysisWorkerData | undefined;
const control: Int32Array | undefined = data?.control;
// This thread (and the GEMM helpers it starts later, which inherit it) at the caller's lower priority: see WorkerOptions.
const deferLowering = (data?.lowerPriorityAfterMs ?? 0) > 0;
bootAnalysisThread({ niceness: deferLowering ? 0 : data?.niceness });
/** Whether this thread still has to take the lower priority (deferred until an analysis runs long). */
let lowerPending = deferLowering && (data?.niceness ?? 0) > 0;

/** Lowers this thread's priority once the analysis that started at `started` has run long enough (see protocol). */
function lowerWhenLong(started: number): void {
  if (!lowerPending || performance.now() - started < (data?.lowerPriorityAfterMs ?? 0)) return;
  lowerPending = false;
  lowerPriority(data?.niceness);
}

/** Threads the GEMM kernel may use (this worker plus helpers). */
const KERNEL_THREADS = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));

const port = parentPort;
/**
 * The worker's GEMM kernels, one per precision and thread count (KERNEL_THREADS when the products are
 * split across threads, 1 when the lag table's columns are).
 */
const kernels = new KernelCache(KERNEL_THREADS, data?.niceness);

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
  const started = performance.now();
  runAnalysis(params, {
    matmul: kernels.get(params.precision ?? 'f64'),
    // The gradients are exact whatever the lag table's precision.
    gradientMatmul: kernels.get('f64'),
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
    progress: (fraction, phase, partial) => {
      lowerWhenLong(started);
      send({ type: 'progress', id, fraction, phase, partial });
    },
  }).then(
    (result) => send({ type: 'result', id, result }),
    (error: unknown) => {
      const cancelled = error instanceof CancelledError;
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
