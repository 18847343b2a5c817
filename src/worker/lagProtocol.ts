// The analysis worker ↔ lag worker protocol (src/worker/lagPool.ts, src/worker/lagWorker.ts).
//
// The analysis worker posts one LagJobMessage per job (before its thread blocks in the engine); the lag
// worker answers only through shared memory: a status word it sets and notifies when done, a progress
// counter and a result area. An error's text goes over the worker's error port (read synchronously).
import type { MessagePort } from 'node:worker_threads';
import type { LagJob } from '../engine/lagShare';
import type { Precision } from '../engine/kernels';

/** Int32 slots of a job's control block. */
export const LagCtrl = {
  /** RUNNING until the lag worker is done; then OK, CANCELLED or FAILED (notified). */
  Status: 0,
  /** Set by the analysis worker to stop the job (its caller was cancelled or failed). */
  Abort: 1,
  /** Incremented by the lag worker now and then: a sign of life while it parses or runs forward passes. */
  Beat: 2,
} as const;
export const LAG_CTRL_SLOTS = 4;

export const LagStatus = { Running: 0, Ok: 1, Cancelled: 2, Failed: 3 } as const;

/** workerData of a lag worker. */
export interface LagWorkerData {
  lagWorker: true;
  /** The client's cancel block (slot 0: the id of the request to cancel). */
  cancelControl?: Int32Array;
  /** Nice value of the analysis worker, applied to this thread too (Linux). */
  niceness?: number;
  /** Where the lag worker reports an error's text. */
  errorPort: MessagePort;
}

/** Analysis worker → lag worker: one share of a lag table. */
export interface LagJobMessage {
  type: 'lag-job';
  /** The analysis request's id (cancelled when the cancel block holds it). */
  requestId: number;
  /** Unique per job (error messages carry it). */
  jobId: number;
  text: string;
  filePath: string;
  rootDir: string;
  precision: Precision;
  job: LagJob;
  /** LAG_CTRL_SLOTS Int32 (see LagCtrl). */
  ctrl: SharedArrayBuffer;
  /** One BigInt64: row-steps done (Atomics.add). */
  progress: SharedArrayBuffer;
  /** lagPartialLength doubles: the packed LagPartial. */
  result: SharedArrayBuffer;
}

/** Lag worker → analysis worker (error port): why a job failed. */
export interface LagErrorMessage {
  jobId: number;
  message: string;
}
