// The client side of the analysis worker: requests, progress, cancel and timeouts.
// Used by the CLI and the extension host. Every pending request is rejected when the worker
// errors, exits, times out, or the client is disposed.
import { Worker } from 'node:worker_threads';
import type {
  AnalysisWorkerData,
  AnalyzeParams,
  AnalyzeResult,
  FromWorkerMessage,
  ProgressMessage,
  ToWorkerMessage,
} from './protocol';

/** Why an analysis did not produce a result. */
export class AnalysisError extends Error {
  constructor(
    message: string,
    readonly reason: 'cancelled' | 'timeout' | 'worker-exit' | 'worker-error' | 'disposed' | 'internal',
  ) {
    super(message);
    this.name = 'AnalysisError';
  }
}

/** Options of one request. */
export interface RequestOptions {
  onProgress?: (progress: ProgressMessage) => void;
  /** Milliseconds before the request is abandoned (the worker is restarted). 0 or undefined: none. */
  timeoutMs?: number;
  /** Cancels the request when aborted. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (result: AnalyzeResult) => void;
  reject: (error: AnalysisError) => void;
  options: RequestOptions;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

/** How the worker thread runs. */
export interface WorkerOptions {
  /**
   * Nice value (0..19) of the worker thread and the GEMM helper threads it starts (Linux nice values are per
   * thread and inherited): the extension host runs analyses below its own priority, so on a busy machine its event
   * loop gets a core first. 0 or undefined: unchanged.
   */
  niceness?: number;
  /** See AnalysisWorkerData.lowerPriorityAfterMs: the worker thread takes `niceness` only once a run is this long. */
  lowerPriorityAfterMs?: number;
  /**
   * Called after the worker thread ended for any reason but dispose() (stopped, restarted after a timeout, crashed,
   * exited), once its pending requests were rejected, with whether that worker had answered any request (one that
   * never did may fail at start: starting another at once could loop). The extension starts a fresh one ahead of the
   * next analysis.
   */
  onWorkerEnded?: (answered: boolean) => void;
}

/** Index in the shared control block: the id of the request to cancel. */
const CANCEL_SLOT = 0;

/** One lazily started worker and the requests in flight on it. */
export class AnalysisClient {
  private worker: Worker | undefined;
  private control: Int32Array | undefined;
  /** Whether the current worker answered a request (a result or an error message). */
  private answered = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;

  /** @param workerPath absolute path of the built worker bundle (dist/worker.js). */
  constructor(
    private readonly workerPath: string,
    private readonly resourceLimits?: { maxOldGenerationSizeMb?: number },
    private readonly workerOptions: WorkerOptions = {},
  ) {}

  /** Runs one analysis. Rejects with AnalysisError when cancelled, timed out, or the worker dies. */
  analyze(params: AnalyzeParams, options: RequestOptions = {}): Promise<AnalyzeResult> {
    if (this.disposed) return Promise.reject(new AnalysisError('The analysis client was disposed.', 'disposed'));
    if (options.signal?.aborted) return Promise.reject(new AnalysisError('Analysis cancelled.', 'cancelled'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<AnalyzeResult>((resolve, reject) => {
      const entry: Pending = { resolve, reject, options };
      if (options.timeoutMs && options.timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.finish(id, new AnalysisError(`Analysis timed out after ${options.timeoutMs} ms.`, 'timeout'));
          this.restartWorker();
        }, options.timeoutMs);
      }
      if (options.signal) {
        entry.onAbort = () => this.cancel(id);
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.set(id, entry);
      const message: ToWorkerMessage = { type: 'analyze', id, params };
      worker.postMessage(message);
    });
  }

  /** Whether a worker thread is running (started and not ended). */
  get hasWorker(): boolean {
    return this.worker !== undefined;
  }

  /** Cancels one request: the worker stops at its next check (well within 200 ms). */
  cancel(id: number): void {
    if (!this.pending.has(id)) return;
    if (this.control) Atomics.store(this.control, CANCEL_SLOT, id);
    const message: ToWorkerMessage = { type: 'cancel', id };
    this.worker?.postMessage(message);
    this.finish(id, new AnalysisError('Analysis cancelled.', 'cancelled'));
  }

  /** Number of requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Terminates the worker (for tests and recovery); pending requests are rejected. */
  async terminateWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.detach(new AnalysisError('The analysis worker was stopped.', 'worker-exit'));
    await worker.terminate();
  }

  /** Rejects everything pending and ends the worker. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const worker = this.worker;
    this.detach(new AnalysisError('The analysis client was disposed.', 'disposed'), false);
    void worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const control = new Int32Array(new SharedArrayBuffer(4 * 4));
    const worker = new Worker(this.workerPath, {
      workerData: {
        control,
        niceness: this.workerOptions.niceness ?? 0,
        lowerPriorityAfterMs: this.workerOptions.lowerPriorityAfterMs,
      } satisfies AnalysisWorkerData,
      resourceLimits: this.resourceLimits,
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on('message', (message: FromWorkerMessage) => this.onMessage(message));
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      const heap = this.resourceLimits?.maxOldGenerationSizeMb;
      const message =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `The analysis ran out of memory${heap ? ` (the worker's heap is bounded at ${heap} MB)` : ''}.`
          : `The analysis worker failed: ${error.message}`;
      this.detach(new AnalysisError(message, 'worker-error'));
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.detach(new AnalysisError(`The analysis worker stopped unexpectedly (exit code ${code}).`, 'worker-exit'));
    });
    this.worker = worker;
    this.control = control;
    return worker;
  }

  private restartWorker(): void {
    const worker = this.worker;
    if (!worker) return;
    this.detach(new AnalysisError('The analysis worker was restarted.', 'worker-exit'));
    void worker.terminate();
  }

  /** Forgets the current worker and rejects all pending requests with `error`; tells onWorkerEnded unless disposing. */
  private detach(error: AnalysisError, notify = true): void {
    const had = this.worker !== undefined;
    const answered = this.answered;
    this.worker = undefined;
    this.control = undefined;
    this.answered = false;
    for (const id of [...this.pending.keys()]) this.finish(id, error);
    if (had && notify) this.workerOptions.onWorkerEnded?.(answered);
  }

  private onMessage(message: FromWorkerMessage): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.type) {
      case 'progress':
        entry.options.onProgress?.(message);
        return;
      case 'result':
        this.answered = true;
        this.finish(message.id, undefined, message.result);
        return;
      case 'error':
        this.answered = true;
        this.finish(message.id, new AnalysisError(message.message, message.cancelled ? 'cancelled' : 'internal'));
        return;
      default: {
        const unexpected: never = message;
        void unexpected;
      }
    }
  }

  private finish(id: number, error?: AnalysisError, result?: AnalyzeResult): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.onAbort) entry.options.signal?.removeEventListener('abort', entry.onAbort);
    if (error) entry.reject(error);
    else if (result) entry.resolve(result);
  }
}
