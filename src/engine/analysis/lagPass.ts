// The full lag table of a two-pass run (the first pass collected only the short lags), and the merge of the
// other threads' columns when the table is split.
import { accumulateSequenceLags, sequenceLagWork, type LagSequence } from '../stackLags';
import { LagStats } from '../logscale';
import type { Model, Sequence } from '../model/types';
import { forwardSequence } from '../network';
import { checkpointedSequence } from '../block/lagWindows';
import { streamedForward, streamsInSegments, StreamedWindows } from '../block/streamed';
import type { AnalysisPlan } from './plan';
import type { AnalysisProgress } from './progress';

/**
 * The second pass: each sequence's forward pass again (its traces were not kept; in checkpoint form when its
 * trace would not fit the budget, block/lagWindows.ts) and this thread's columns of the table up to plan.maxLag,
 * with the map. Its non-finite norms were already reported by the first pass.
 */
export function runFullLagPass(model: Model, plan: AnalysisPlan, progress: AnalysisProgress): LagStats[] {
  const stats = model.layers.map(() => new LagStats(plan.maxLag + 1));
  const own = plan.split?.own;
  model.sequences.forEach((seq, b) => {
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
      progress.done += sequenceLagWork(plan.shape, seq.length, plan.maxLag);
      return;
    }
    progress.clock.time(() =>
      accumulateSequenceLags({
        shape: plan.shape,
        cells: plan.lagCells,
        fwd,
        maxLag: plan.maxLag,
        stats,
        hooks: {
          step: (rows) => {
            cursor.rows = rows;
            progress.check(rows, 'lags');
          },
        },
        heatmap: plan.heatmap?.request.sequence === b ? plan.heatmap.collector : null,
        safeExponent: plan.safeExponent,
        subset: own,
        rowBytes: plan.lagRowBytes,
      }),
    );
    progress.done += sequenceLagWork(plan.shape, seq.length, plan.maxLag, own);
  });
  return stats;
}

/**
 * Waits for the other threads of a split table and merges their columns into `into` (and their map cells
 * into the plan's map). Returns whether they met a non-finite norm; false when the table is not split.
 */
export function mergeOtherThreads(
  plan: AnalysisPlan,
  into: LagStats[],
  progress: AnalysisProgress,
  phase: string,
): boolean {
  if (!plan.split) return false;
  const partials = plan.split.splitter.finish(() => progress.check(0, phase));
  const heatmap = plan.heatmap?.collector;
  let nonFinite = false;
  for (const p of partials) {
    into.forEach((s, k) => s.merge(p.stats[k]));
    progress.clock.addThread(p.span);
    if (heatmap && p.heatmap) heatmap.merge(p.heatmap);
    nonFinite ||= p.nonFinite;
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
