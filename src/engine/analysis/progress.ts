// Progress and cancellation of one analysis: the passes count the row-steps they have done, and call check()
// often; it throws CancelledError when the caller cancels and reports the fraction done at most every 50 ms.
import { CancelledError } from '../cancellation';
import type { AnalysisPlan } from './plan';
import type { AnalyzeOptions } from './options';
import { RecursionClock } from './recursionClock';

/** How often progress is reported, at most (ms). */
const PROGRESS_INTERVAL_MS = 50;

/** The work done so far (this thread's, plus the other threads' of a split lag table). */
export class AnalysisProgress {
  /** Row-steps this thread has finished (the passes add to it). */
  done = 0;
  /** The full lag table's walks on every thread (timing only). */
  readonly clock = new RecursionClock();
  private lastReport = Date.now();

  constructor(
    private readonly options: Pick<AnalyzeOptions, 'isCancelled' | 'onProgress'>,
    private readonly plan: Pick<AnalysisPlan, 'split' | 'totalWork'>,
  ) {}

  /** The fraction of the run done, with `extra` row-steps of the step under way. */
  fraction(extra = 0): number {
    return Math.min(1, (this.done + extra + this.othersDone()) / this.plan.totalWork);
  }

  /** Throws CancelledError when cancelled; reports progress when it is time. */
  check(extra: number, phase: string): void {
    if (this.options.isCancelled?.()) throw new CancelledError();
    const now = Date.now();
    if (this.options.onProgress && now - this.lastReport >= PROGRESS_INTERVAL_MS) {
      this.lastReport = now;
      this.options.onProgress(this.fraction(extra), phase);
    }
  }

  /** Row-steps the other threads of a split table have done. */
  private othersDone(): number {
    return this.plan.split ? this.plan.split.splitter.progress() : 0;
  }
}
