// Lag worker (bundled to dist/lag-worker.js): started by the analysis worker, reused for every run. For each
// job it parses the model itself, runs the forward passes and its columns of the lag table with its own
// single-threaded GEMM kernel, and hands the statistics back through shared memory (see lagProtocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFile } from '../io/loadModel';
import { computeLagShare, lagPartialLength, packLagPartial } from '../engine/lagShare';
import { CancelledError } from '../engine/cancellation';
import { bootAnalysisThread, KernelCache } from './threadBoot';
import { LagCtrl, LagStatus, type LagErrorMessage, type LagJobMessage, type LagWorkerData } from './lagProtocol';

function main(data: LagWorkerData): void {
  // The analysis worker's priority (Linux nice values are per thread; new threads inherit the creator's,
  // set it anyway in case the runtime started this thread from another one).
  bootAnalysisThread({ niceness: data.niceness });
  const kernels = new KernelCache(1);

  parentPort?.on('message', (m: LagJobMessage) => {
    if (m.type !== 'lag-job') return;
    const ctrl = new Int32Array(m.ctrl);
    const progress = new BigInt64Array(m.progress);
    const cancelControl = data.cancelControl;
    const isCancelled = (): boolean =>
      Atomics.load(ctrl, LagCtrl.Abort) !== 0 ||
      (cancelControl !== undefined && Atomics.load(cancelControl, 0) === m.requestId);
    let status: number = LagStatus.Ok;
    try {
      if (isCancelled()) throw new CancelledError('Lag job cancelled.');
      Atomics.add(ctrl, LagCtrl.Beat, 1);
      const parsed = loadModelFile(m.text, m.filePath, m.rootDir);
      if (!parsed.model) throw new Error(parsed.problems[0]?.message ?? 'the model did not parse');
      const model = parsed.model;
      const result = new Float64Array(m.result);
      if (result.length !== lagPartialLength(model, m.job)) throw new Error('the result area does not fit the model');
      const partial = computeLagShare(model, m.job, {
        matmul: kernels.get(m.precision),
        isCancelled,
        cancelled: () => new CancelledError('Lag job cancelled.'),
        onRows: (rows) => void Atomics.add(progress, 0, BigInt(rows)),
        tick: () => void Atomics.add(ctrl, LagCtrl.Beat, 1),
      });
      packLagPartial(partial, result);
    } catch (e) {
      if (e instanceof CancelledError) status = LagStatus.Cancelled;
      else {
        status = LagStatus.Failed;
        const message: LagErrorMessage = { jobId: m.jobId, message: e instanceof Error ? e.message : String(e) };
        // Posted before the status is set, so the analysis worker finds it when it sees FAILED.
        data.errorPort.postMessage(message);
      }
    }
    Atomics.store(ctrl, LagCtrl.Status, status);
    Atomics.notify(ctrl, LagCtrl.Status);
  });
}

const data = workerData as LagWorkerData | undefined;
if (data && data.lagWorker) main(data);
