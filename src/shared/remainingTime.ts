// The time left of a long analysis, estimated from its recent progress, and how the CLI's progress line and the
// editor's progress notification word it. Pure: the caller passes the clock.

/** No estimate before a run has gone this long (ms): its first seconds include the worker's start and set-up. */
export const ESTIMATE_AFTER_MS = 3000;
/**
 * The rate is taken over about this much of the latest progress (ms), so that the estimate follows a change of
 * phase (the passes and the lag table do not cost the same per unit of progress) and smooths the alternation of
 * the forward and backward passes of a batch streamed block by block.
 */
export const RATE_WINDOW_MS = 30000;
/** Estimates below this (s) are not shown: the run is about to end. */
export const SHOW_FROM_SECONDS = 5;

interface Sample {
  at: number;
  fraction: number;
}

/** Follows one run's fraction done (0..1) and estimates the seconds left from its rate over the latest window. */
export class RemainingTime {
  private readonly samples: Sample[] = [];

  /** @param started when the run started (ms, the same clock as `update`'s `now`) */
  constructor(private readonly started: number) {}

  /** Records the fraction done at `now` (ms); returns the estimated seconds left, or undefined when too early. */
  update(fraction: number, now: number): number | undefined {
    if (!(fraction >= 0 && fraction <= 1) || !Number.isFinite(now)) return undefined;
    const last = this.samples[this.samples.length - 1];
    // Progress that goes back (a run counted again from the start) makes the samples before it meaningless; so does
    // the time before the first progress (the worker's start and the set-up), which the rest of the run does not repeat.
    if (last && (fraction < last.fraction || now < last.at || fraction === 0)) this.samples.length = 0;
    this.samples.push({ at: now, fraction });
    // Keep the latest sample at or before the window's start, and those after it.
    let drop = 0;
    while (drop + 1 < this.samples.length - 1 && this.samples[drop + 1].at <= now - RATE_WINDOW_MS) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    if (now - this.started < ESTIMATE_AFTER_MS || fraction >= 1) return undefined;
    const first = this.samples[0];
    const span = now - first.at;
    const gained = fraction - first.fraction;
    if (span < 1000 || gained <= 0) return undefined;
    const left = ((1 - fraction) * span) / gained / 1000;
    return left >= SHOW_FROM_SECONDS ? left : undefined;
  }
}

/** "about 45 s left", "about 12 min left", "about 2 h 10 min left" (rounded to 5 s below 100 s, then 1 min, 10 min). */
export function formatRemaining(seconds: number): string {
  if (seconds < 97.5) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s left`;
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 90) return `about ${minutes} min left`;
  const tens = Math.round(minutes / 10);
  const hours = Math.floor(tens / 6);
  const rest = (tens % 6) * 10;
  return rest === 0 ? `about ${hours} h left` : `about ${hours} h ${rest} min left`;
}
