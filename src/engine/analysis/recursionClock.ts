// Wall time of the full lag table's recursion, all threads together: from the first column's walk on any thread
// to the end of the last one. For the bench's "of kernel (recursion)" figure (tools/bench/bench.ts), which the
// whole-run time cannot give (process start, forward passes, gradients and spectra are outside it). Also each
// thread's CPU time inside its walks (Linux), for the recursion's rate per CPU-second: on two cores the walks share
// the CPU with the analysis thread's passes, which the wall time counts and the CPU time does not. Internal: it
// never enters the report.
import * as fs from 'fs';

/** The recursion's timing of one run. */
export interface LagTiming {
  /** Seconds from the first thread's first column to the last thread's last column. */
  seconds: number;
  /** Threads that ran columns (the caller included). */
  threads: number;
  /** Seconds each thread spent in its own walks (the caller first). */
  busySeconds: number[];
  /** CPU seconds each thread ran inside its walks (as busySeconds), or null where the system does not tell. */
  cpuSeconds: (number | null)[];
}

/** Milliseconds since the epoch, sub-millisecond, comparable between the threads of one process. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * This thread's CPU time so far (ms): the scheduler's run time of the calling thread (/proc/thread-self/schedstat,
 * nanoseconds), or NaN where there is no such file. The kernel brings that count up to date at its ticks and
 * context switches, so a reading lags by up to a tick (1–10 ms): the difference over one short walk can be 0 or a
 * tick too much, the sum over a run's many walks is right on average (each walk's errors at its two ends cancel in
 * expectation).
 */
export function threadCpuMs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** One thread's walks: first start, last end, the time inside them (ms, wallMs) and the CPU time inside them (ms). */
export interface ThreadSpan {
  start: number;
  end: number;
  busy: number;
  cpu: number;
}

/** A span with no walk yet. */
export function emptySpan(): ThreadSpan {
  return { start: Infinity, end: -Infinity, busy: 0, cpu: 0 };
}

/** Runs one walk of a thread, adding its wall and CPU time to `span`. */
export function timeWalk<T>(span: ThreadSpan, walk: () => T): T {
  const t0 = wallMs();
  const c0 = threadCpuMs();
  try {
    return walk();
  } finally {
    addSpan(span, t0, wallMs(), threadCpuMs() - c0);
  }
}

/** Collects the spans of every thread's walks of the full table. */
export class RecursionClock {
  private readonly own: ThreadSpan = emptySpan();
  private readonly others: ThreadSpan[] = [];

  /** Runs one walk of this thread, timed. */
  time<T>(walk: () => T): T {
    return timeWalk(this.own, walk);
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
      cpuSeconds: [this.own, ...this.others].map((s) => (Number.isFinite(s.cpu) ? s.cpu / 1000 : null)),
    };
  }
}

/** Adds the walk [t0, t1] (wall ms), which ran `cpu` ms on the CPU (NaN: unknown), to a span. */
export function addSpan(span: ThreadSpan, t0: number, t1: number, cpu: number): void {
  span.start = Math.min(span.start, t0);
  span.end = Math.max(span.end, t1);
  span.busy += t1 - t0;
  span.cpu += cpu;
}
