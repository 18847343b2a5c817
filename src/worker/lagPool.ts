// The analysis worker's lag threads: started once (on the first run that splits its lag table) and reused.
// LagPool.splitter() gives the engine a LagSplitter for one request: start() posts the jobs (the engine
// calls it before it blocks), finish() waits on the shared status words in short slices, polling the
// engine's cancellation check, and reads the packed results. A thread that fails rejects the run with
// its message; one that stops responding (no progress for stallMs) rejects it after that timeout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, resourceLimits, Worker, type MessagePort } from 'node:worker_threads';
import type { Model } from '../engine/model/types';
import { lagPartialLength, unpackLagPartial, type LagJob, type LagPartial, type LagSplitter } from '../engine/lagShare';
import type { MatMul } from '../engine/matmul';
import type { Precision } from '../engine/kernels';
import {
  LAG_CTRL_SLOTS,
  LagCtrl,
  LagStatus,
  type LagErrorMessage,
  type LagJobMessage,
  type LagWorkerData,
} from './lagProtocol';

/** The lag worker script next to this bundle (dist/lag-worker.js), or the tsc output. */
export function defaultLagWorkerScript(): string | undefined {
  for (const name of ['lag-worker.js', 'lagWorker.js']) {
    const p = path.join(__dirname, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

interface LagThread {
  worker: Worker;
  errors: MessagePort;
  alive: boolean;
}

export interface LagPoolOptions {
  /** Threads besides the analysis worker's own. */
  helpers: number;
  script: string;
  cancelControl?: Int32Array;
  niceness?: number;
  /** Milliseconds without any sign of life from a busy lag thread before the run fails (default 30 s). */
  stallMs?: number;
}

/** What the splitter needs from the request. */
export interface LagRequest {
  requestId: number;
  text: string;
  filePath: string;
  rootDir: string;
  precision: Precision;
  model: Model;
  /** The caller's single-threaded product (made when the table is split). */
  matmul: () => MatMul;
}

/** Slice of the waits (ms): cancellation is checked at least this often. */
const WAIT_SLICE_MS = 20;

export class LagPool {
  private readonly threads: (LagThread | undefined)[];
  private nextJob = 1;

  constructor(private readonly options: LagPoolOptions) {
    this.threads = new Array<LagThread | undefined>(options.helpers).fill(undefined);
  }

  get helpers(): number {
    return this.threads.length;
  }

  /** A running lag thread for slot i (a new one if it never started or died). */
  private thread(i: number): LagThread {
    const current = this.threads[i];
    if (current && current.alive) return current;
    const channel = new MessageChannel();
    const data: LagWorkerData = {
      lagWorker: true,
      cancelControl: this.options.cancelControl,
      niceness: this.options.niceness,
      errorPort: channel.port2,
    };
    const worker = new Worker(this.options.script, {
      workerData: data,
      transferList: [channel.port2],
      // The analysis worker's own heap limit, if it has one.
      resourceLimits: resourceLimits.maxOldGenerationSizeMb
        ? { maxOldGenerationSizeMb: resourceLimits.maxOldGenerationSizeMb }
        : undefined,
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const t: LagThread = { worker, errors: channel.port1, alive: true };
    const dead = (): void => {
      t.alive = false;
      t.errors.close();
    };
    worker.on('error', dead);
    worker.on('exit', dead);
    this.threads[i] = t;
    return t;
  }

  /** The engine's hook for one request. */
  splitter(req: LagRequest): LagSplitter {
    interface Running {
      thread: LagThread;
      jobId: number;
      job: LagJob;
      ctrl: Int32Array;
      progress: BigInt64Array;
      result: Float64Array;
    }
    let running: Running[] = [];
    const stallMs = this.options.stallMs ?? 30_000;
    return {
      threads: this.threads.length + 1,
      get matmul(): MatMul {
        return req.matmul();
      },
      start: (jobs: LagJob[]): void => {
        running = jobs.map((job, i) => {
          const thread = this.thread(i);
          const ctrl = new SharedArrayBuffer(LAG_CTRL_SLOTS * 4);
          const progress = new SharedArrayBuffer(8);
          const result = new SharedArrayBuffer(8 * lagPartialLength(req.model, job));
          const jobId = this.nextJob++;
          const message: LagJobMessage = {
            type: 'lag-job',
            requestId: req.requestId,
            jobId,
            text: req.text,
            filePath: req.filePath,
            rootDir: req.rootDir,
            precision: req.precision,
            job,
            ctrl,
            progress,
            result,
          };
          thread.worker.postMessage(message);
          return {
            thread,
            jobId,
            job,
            ctrl: new Int32Array(ctrl),
            progress: new BigInt64Array(progress),
            result: new Float64Array(result),
          };
        });
      },
      progress: (): number => {
        let rows = 0;
        for (const r of running) rows += Number(Atomics.load(r.progress, 0));
        return rows;
      },
      finish: (check: () => void): LagPartial[] => {
        const out: LagPartial[] = [];
        for (const r of running) {
          let lastSign = -1;
          let lastChange = Date.now();
          for (;;) {
            const status = Atomics.load(r.ctrl, LagCtrl.Status);
            if (status !== LagStatus.Running) {
              if (status === LagStatus.Ok) break;
              if (status === LagStatus.Cancelled) {
                check(); // the request was cancelled: throws
                throw new Error('A lag thread stopped before its columns were done.');
              }
              throw new Error(`A lag thread failed: ${this.errorOf(r.thread, r.jobId)}`);
            }
            Atomics.wait(r.ctrl, LagCtrl.Status, LagStatus.Running, WAIT_SLICE_MS);
            check();
            // Progress or a beat of the thread's forward passes; nothing for stallMs: it died or hangs.
            const sign = Number(Atomics.load(r.progress, 0)) + Atomics.load(r.ctrl, LagCtrl.Beat);
            const now = Date.now();
            if (sign !== lastSign) {
              lastSign = sign;
              lastChange = now;
            } else if (now - lastChange > stallMs || !r.thread.alive) {
              this.retire(r.thread);
              throw new Error(
                `A lag thread stopped responding (no progress for ${Math.round((now - lastChange) / 1000)} s).`,
              );
            }
          }
          out.push(unpackLagPartial(req.model, r.job, r.result));
        }
        running = [];
        return out;
      },
      abort: (): void => {
        for (const r of running) {
          Atomics.store(r.ctrl, LagCtrl.Abort, 1);
        }
        running = [];
      },
    };
  }

  /** Stops a thread that hangs or died; its slot gets a new one on the next run. */
  private retire(thread: LagThread): void {
    thread.alive = false;
    void thread.worker.terminate();
  }

  /** The error text a lag thread posted for a job. */
  private errorOf(thread: LagThread, jobId: number): string {
    for (;;) {
      const m = receiveMessageOnPort(thread.errors);
      if (!m) return 'unknown error';
      const e = m.message as LagErrorMessage;
      if (e.jobId === jobId) return e.message;
    }
  }

  dispose(): void {
    for (const t of this.threads) void t?.worker.terminate();
    this.threads.fill(undefined);
  }
}
