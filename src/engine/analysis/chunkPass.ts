// The caller's part of a full lag table in chunks (lagChunks.ts): at each sequence it claims that sequence's chunks
// that are left, runs them and hands them to the merger, which merges every chunk in index order. Its walks and the
// unsplit table's (lagPass.ts) and the first pass's (batchPass.ts) are one lagWalk.
import { LagStats } from '../logscale';
import type { ChunkMerger } from '../lagChunks';
import type { ColumnSubset, LagSink } from '../lags';
import { accumulateSequenceLags, sequenceLagWork, type LagSequence } from '../stackLags';
import type { AnalysisPlan } from './plan';
import type { AnalysisProgress } from './progress';

/**
 * Runs this thread's chunks of sequence b (those no other thread has claimed) on the sequence's plain forward
 * trace: `trace` is it, or computes it (the other threads compute it that way, and a chunk's figures must not
 * depend on the thread that ran it); null when that forward pass overflowed (the chunks are then empty). Returns
 * whether a norm was not finite.
 */
export function walkOwnChunks(
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  merger: ChunkMerger,
  sequence: { b: number; length: number },
  trace: LagSequence | (() => LagSequence | null),
  phase: string,
  cursor: { rows: number } = { rows: 0 },
): boolean {
  const claims = plan.chunks!;
  const { b, length: T } = sequence;
  if (!claims.hasWork(b)) return false;
  // Shared spectra that no thread has taken yet come before this thread's first chunk.
  plan.spectra?.runAll(() => progress.check(0, 'spectra'));
  const fwd = typeof trace === 'function' ? trace() : trace;
  if (!fwd) {
    progress.done += skipOwnChunks(plan, merger, b, T);
    return false;
  }
  let nonFinite = false;
  for (;;) {
    const c = claims.claim(b);
    if (c < 0) break;
    const subset = claims.layout.subset(b, c);
    const stats = Array.from({ length: claims.layers }, () => new LagStats(plan.maxLag + 1));
    nonFinite = lagWalk(plan, progress, fwd, stats, { b, subset, cursor, phase }) || nonFinite;
    progress.done += sequenceLagWork(plan.shape, T, plan.maxLag, subset);
    cursor.rows = 0;
    merger.add(claims.layout.first[b] + c, stats);
  }
  return nonFinite;
}

/** Which walk of a sequence's lag pairs `lagWalk` runs, and where its checks report. */
export interface LagWalk {
  /** The sequence (the map is drawn for one). */
  b: number;
  /** Its columns t to walk (default: all). */
  subset?: ColumnSubset;
  /** Receives the walk's rows so far (not yet in progress.done), for checks made outside the walk. */
  cursor: { rows: number };
  /** The phase the walk's checks report. */
  phase: string;
  /** Its lags up to this (default plan.maxLag: the full table). */
  maxLag?: number;
  /** Whether the map is drawn here when it is this sequence's (default true; not in a two-pass run's short pass). */
  map?: boolean;
  /** Whether the walk counts in the recursion's timing (LagTiming; default true): only the full table's walks do. */
  timed?: boolean;
}

/** One walk of sequence `walk.b`'s lag pairs (its columns `walk.subset`) into `stats`. Returns whether a norm was not finite. */
export function lagWalk(
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  fwd: LagSequence,
  stats: LagSink[],
  walk: LagWalk,
): boolean {
  const { b, subset, cursor, phase, maxLag = plan.maxLag, map = true, timed = true } = walk;
  const run = (): boolean =>
    accumulateSequenceLags({
      shape: plan.shape,
      cells: plan.lagCells,
      fwd,
      maxLag,
      stats,
      hooks: {
        step: (rows) => {
          // Rows of this walk (not yet in progress.done).
          cursor.rows = rows;
          progress.check(rows, phase);
        },
      },
      heatmap: map && plan.heatmap?.request.sequence === b ? plan.heatmap.collector : null,
      safeExponent: plan.safeExponent,
      subset,
      rowBytes: plan.lagRowBytes,
    });
  return timed ? progress.clock.time(run) : run();
}

/**
 * A sequence without pairs (its forward pass overflowed): its chunks that are left, as empty statistics (another
 * thread that claimed some finds the same overflow and hands back empty ones). Returns their work.
 */
export function skipOwnChunks(plan: AnalysisPlan, merger: ChunkMerger, b: number, T: number): number {
  const claims = plan.chunks!;
  let work = 0;
  for (;;) {
    const c = claims.claim(b);
    if (c < 0) return work;
    work += sequenceLagWork(plan.shape, T, plan.maxLag, claims.layout.subset(b, c));
    merger.add(
      claims.layout.first[b] + c,
      Array.from({ length: claims.layers }, () => new LagStats(plan.maxLag + 1)),
    );
  }
}
