// Lag worker (bundled to dist/lag-worker.js): started by the analysis worker, reused for every run. For each
// job it parses the model itself, runs the forward passes and its columns of the lag table with its own
// single-threaded GEMM kernel, and hands the statistics back through shared memory (see lagProtocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import * as os from 'node:os';
import { enableRelaxedSimd } from './relaxedSimd';
import { loadModelFile } from '../io/loadModel';
import { computeLagShare, lagPartialLength, packLagPartial } from '../engine/lagShare';
import { KernelMatMul } from '../engine/matmul';
import { createGemmKernel } from '../engine/kernels';
import { LagCtrl, LagStatus, type LagErrorMessage, type LagJobMessage, type LagWorkerData } from './lagProtocol';

class Cancelled extends Error {
  constructor() {
    super('Lag job cancelled.');
    this.name = 'CancelledError';
  }
}

function main(data: LagWorkerData): void {
  enableRelaxedSimd();
  // The analysis worker's priority (Linux nice values are per thread; new threads inherit the creator's,
  // set it anyway in case the runtime started this thread from another one).
  if (typeof data.niceness === 'number' && data.niceness > 0) {
    try {
      os.setPriority(Math.min(19, Math.round(data.niceness)));
    } catch {
      // Not permitted or not supported.
    }
  }
  const kernels = new Map<'f64' | 'f32', KernelMatMul>();
  const kernel = (precision: 'f64' | 'f32'): KernelMatMul => {
    let k = kernels.get(precision);
    if (!k) {
      k = new KernelMatMul(createGemmKernel({ precision, threads: 1 }));
      kernels.set(precision, k);
    }
    k.reset();
    return k;
  };

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
      if (isCancelled()) throw new Cancelled();
      Atomics.add(ctrl, LagCtrl.Beat, 1);
      const parsed = loadModelFile(m.text, m.filePath, m.rootDir);
      if (!parsed.model) throw new Error(parsed.problems[0]?.message ?? 'the model did not parse');
      const model = parsed.model;
      const result = new Float64Array(m.result);
      if (result.length !== lagPartialLength(model, m.job)) throw new Error('the result area does not fit the model');
      const partial = computeLagShare(model, m.job, {
        matmul: kernel(m.precision),
        isCancelled,
        cancelled: () => new Cancelled(),
        onRows: (rows) => void Atomics.add(progress, 0, BigInt(rows)),
        tick: () => void Atomics.add(ctrl, LagCtrl.Beat, 1),
      });
      packLagPartial(partial, result);
    } catch (e) {
      if (e instanceof Cancelled) status = LagStatus.Cancelled;
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
