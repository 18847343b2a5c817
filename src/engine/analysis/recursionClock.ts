// Wall time of the full lag table's recursion, all threads together: from the first column's walk on any thread
// to the end of the last one. For the bench's "of kernel (recursion)" figure (tools/bench/bench.ts), which the
// whole-run time cannot give (process start, forward passes, gradients and spectra are outside it). Internal: it
// never enters the report.

/** The recursion's timing of one run. */
export interface LagTiming {
  /** Seconds from the first thread's first column to the last thread's last column. */
  seconds: number;
  /** Threads that ran columns (the caller included). */
  threads: number;
  /** Seconds each thread spent in its own walks (the caller first). */
  busySeconds: number[];
}

/** Milliseconds since the epoch, sub-millisecond, comparable between the threads of one process. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One thread's walks: first start, last end and the time inside them (ms, wallMs). */
export interface ThreadSpan {
  start: number;
  end: number;
  busy: number;
}

/** Collects the spans of every thread's walks of the full table. */
export class RecursionClock {
  private readonly own: ThreadSpan = { start: Infinity, end: -Infinity, busy: 0 };
  private readonly others: ThreadSpan[] = [];

  /** Runs one walk of this thread, timed. */
  time<T>(walk: () => T): T {
    const t0 = wallMs();
    try {
      return walk();
    } finally {
      addSpan(this.own, t0, wallMs());
    }
  }

  /** Another thread's span (ignored when it ran no walk). */
  addThread(span: ThreadSpan): void {
    if (span.end >= span.start && Number.isFinite(span.start)) this.others.push(span);
  }

  /** The timing, or null when no walk ran. */
  timing(): LagTiming | null {
    const spans = [this.own, ...this.others].filter((s) => Number.isFinite(s.start));
    if (spans.length === 0) return null;
    const start = Math.min(...spans.map((s) => s.start));
    const end = Math.max(...spans.map((s) => s.end));
    return {
      seconds: (end - start) / 1000,
      threads: spans.length,
      busySeconds: [this.own, ...this.others].map((s) => s.busy / 1000),
    };
  }
}

/** Adds the walk [t0, t1] to a span. */
export function addSpan(span: ThreadSpan, t0: number, t1: number): void {
  span.start = Math.min(span.start, t0);
  span.end = Math.max(span.end, t1);
  span.busy += t1 - t0;
}
