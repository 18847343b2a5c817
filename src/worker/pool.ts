// A pool of analysis workers: independent analyses (a timeline's checkpoints) run side by side, one per
// worker, up to the pool's size; the rest wait their turn in order.
import * as os from 'os';
import { AnalysisClient, AnalysisError, type RequestOptions, type WorkerOptions } from './client';
import type { AnalyzeParams, AnalyzeResult } from './protocol';

/** Workers a pool starts by default: one per core, at most 8. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}

interface Waiting {
  start: (client: AnalysisClient) => void;
  reject: (error: AnalysisError) => void;
}

export class AnalysisPool {
  private readonly clients: AnalysisClient[] = [];
  private readonly idle: AnalysisClient[] = [];
  private readonly queue: Waiting[] = [];
  private disposed = false;

  constructor(
    workerPath: string,
    readonly size: number = defaultPoolSize(),
    resourceLimits?: { maxOldGenerationSizeMb?: number },
    workerOptions?: WorkerOptions,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const c = new AnalysisClient(workerPath, resourceLimits, workerOptions);
      this.clients.push(c);
      this.idle.push(c);
    }
  }

  /** Runs one analysis on the next free worker. Rejects like AnalysisClient.analyze. */
  analyze(params: AnalyzeParams, options: RequestOptions = {}): Promise<AnalyzeResult> {
    if (this.disposed) return Promise.reject(new AnalysisError('The analysis pool was disposed.', 'disposed'));
    if (options.signal?.aborted) return Promise.reject(new AnalysisError('Analysis cancelled.', 'cancelled'));
    return new Promise<AnalyzeResult>((resolve, reject) => {
      const waiting: Waiting = {
        start: (client) => {
          options.signal?.removeEventListener('abort', onAbort);
          client
            .analyze(params, options)
            .then(resolve, reject)
            .finally(() => this.release(client));
        },
        reject,
      };
      const onAbort = (): void => {
        const at = this.queue.indexOf(waiting);
        if (at >= 0) {
          this.queue.splice(at, 1);
          reject(new AnalysisError('Analysis cancelled.', 'cancelled'));
        }
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const client = this.idle.pop();
      if (client) waiting.start(client);
      else this.queue.push(waiting);
    });
  }

  private release(client: AnalysisClient): void {
    if (this.disposed) return;
    const next = this.queue.shift();
    if (next) next.start(client);
    else this.idle.push(client);
  }

  /** Ends every worker; waiting and running requests are rejected. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.queue.splice(0)) w.reject(new AnalysisError('The analysis pool was disposed.', 'disposed'));
    for (const c of this.clients) c.dispose();
  }
}
