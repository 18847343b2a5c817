// The full lag table of a two-pass run (the first pass collected only the short lags), and the merge of the
// other threads' columns when the table is split.
import { sequenceLagWork, type LagSequence } from '../stackLags';
import { LagStats } from '../logscale';
import type { Model, Sequence } from '../model/types';
import { forwardSequence } from '../network';
import { checkpointedSequence } from '../block/lagWindows';
import { streamedForward, streamsInSegments, StreamedWindows } from '../block/streamed';
import type { AnalysisPlan } from './plan';
import type { AnalysisProgress } from './progress';
import { ChunkMerger } from '../lagChunks';
import { skipOwnChunks, lagWalk, walkOwnChunks } from './chunkPass';

/**
 * The second pass: each sequence's forward pass again (its traces were not kept; in checkpoint form when its
 * trace would not fit the budget, block/lagWindows.ts) and this thread's columns (or chunks) of the table up to
 * plan.maxLag, with the map. Its non-finite norms were already reported by the first pass.
 */
export function runFullLagPass(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
): { stats: LagStats[]; merger: ChunkMerger | null } {
  const stats = model.layers.map(() => new LagStats(plan.maxLag + 1));
  const merger = plan.chunks ? new ChunkMerger(plan.chunks, stats) : null;
  model.sequences.forEach((seq, b) => {
    // Every chunk of this sequence already claimed by other threads: no forward pass needed here.
    if (merger && !plan.chunks!.hasWork(b)) {
      progress.done += seq.length;
      return;
    }
    // Windows from checkpoints are recomputed during the recursion: their checks report the rows done so far.
    const cursor = { rows: 0 };
    const tick = (): void => progress.check(cursor.rows, 'lags');
    const K = plan.block.segment(seq.length);
    const whole = K < seq.length ? null : forwardSequence(model, plan.cells, plan.lossFn, seq, tick);
    const fwd = whole
      ? whole.nonFinite
        ? null
        : whole
      : streamsInSegments(model)
        ? streamedLagSequence(model, plan, seq, K, tick)
        : checkpointedSequence(model, plan.block.cells, plan.lossFn, seq, K, tick);
    progress.done += seq.length;
    if (!fwd) {
      progress.done += merger
        ? skipOwnChunks(plan, merger, b, seq.length)
        : sequenceLagWork(plan.shape, seq.length, plan.maxLag);
      return;
    }
    if (merger) {
      walkOwnChunks(plan, progress, merger, { b, length: seq.length }, fwd, 'lags', cursor);
      return;
    }
    lagWalk(plan, progress, fwd, stats, { b, cursor, phase: 'lags' });
    progress.done += sequenceLagWork(plan.shape, seq.length, plan.maxLag);
  });
  return { stats, merger };
}

/**
 * Waits for the other threads of a split table, merging their chunks as they come (in chunk order, with the
 * caller's), and their map cells into the plan's map. Returns whether they met a non-finite norm.
 */
export function mergeOtherThreads(
  plan: AnalysisPlan,
  merger: ChunkMerger | null,
  progress: AnalysisProgress,
  phase: string,
): boolean {
  let nonFinite = false;
  if (plan.split) {
    const partials = plan.split.splitter.finish(() => {
      merger?.drain();
      progress.check(0, phase);
    });
    const heatmap = plan.heatmap?.collector;
    for (const p of partials) {
      if (heatmap && p.heatmap) heatmap.merge(p.heatmap);
      nonFinite ||= p.nonFinite;
      progress.clock.addThread(p.span);
    }
  }
  if (merger) {
    merger.drain();
    if (!merger.complete) throw new Error('Internal error: a chunk of the lag table was not computed.');
  }
  return nonFinite;
}

/** A unidirectional stack's sequence in windows from checkpoints (block/streamed.ts), or null when not finite. */
function streamedLagSequence(
  model: Model,
  plan: AnalysisPlan,
  seq: Sequence,
  segment: number,
  tick: () => void,
): LagSequence | null {
  const { cells } = plan.block;
  const fwd = streamedForward(model, cells, plan.lossFn, [seq], segment, () => undefined, tick);
  return fwd ? new StreamedWindows(model, cells, plan.lossFn, fwd.stack, 0, tick).lagSequence() : null;
}
