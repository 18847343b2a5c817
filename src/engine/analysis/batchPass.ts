// The first pass over the data, batch by batch: each sequence's forward pass and loss, its parameter gradients
// by BPTT (summed into its batch's and the whole data's), and its pairs of the lag table up to the plan's
// first lag (this thread's columns of it, when the full table is split and there is no second pass), and the
// gate and unit statistics of each layer from the same forward pass (sequences whose forward pass overflowed
// are left out of them).
import { CellStatsAccumulator } from '../cellStats';
import { sequenceLagWork, type LagSequence } from '../stackLags';
import type { ColumnSubset, LagSink } from '../lags';
import { ChunkMerger } from '../lagChunks';
import { lagWalk, skipOwnChunks, walkOwnChunks } from './chunkPass';
import { LagStats } from '../logscale';
import { SampledLagStats, sampleSubset } from '../lagSample';
import type { Model } from '../model/types';
import {
  addScaled,
  backwardSequence,
  forwardSequence,
  gradArrays,
  zeroParamGrads,
  type ParamGrads,
  type SequenceForward,
  type StreamedForward,
} from '../network';
import type { Finding } from '../report/types';
import { blockBackward, blockForward, checkpointedBlock, extractSequence } from '../block/network';
import { checkpointedLagSequence, streamedSequenceForward } from '../block/lagWindows';
import {
  streamedBackward,
  streamedBackwardSequence,
  streamedForward,
  streamsInSegments,
  StreamedWindows,
} from '../block/streamed';
import { backwardOverflowFinding, forwardOverflowFinding } from './findings';
import { clearGrads, globalMaxAbs, globalNorm } from './gradients';
import { firstPassCost, type AnalysisPlan } from './plan';
import type { AnalysisProgress } from './progress';

/** What the first pass found. */
export interface BatchPassResult {
  /** The mean loss over the sequences (only meaningful when lossFinite). */
  loss: number;
  lossFinite: boolean;
  /** Overflow findings of the forward and backward passes, in sequence order. */
  findings: Finding[];
  /** The global gradient norm and largest |element| of each batch (null where not finite). */
  batchNorms: (number | null)[];
  batchMaxAbs: (number | null)[];
  /** The gradient of the mean loss over all sequences. */
  total: ParamGrads;
  /** The lag table up to plan.firstLag, one LagStats per layer (empty when sampled). */
  lagStats: LagStats[];
  /** The sampled lag table, one per layer, when the plan samples it; else null. */
  sampled: SampledLagStats[] | null;
  /** Whether some lag-table norm was not finite. */
  lagNonFinite: boolean;
  /** The merge of the full table's chunks into lagStats (a one-pass run whose table is chunked), else null. */
  merger: ChunkMerger | null;
  /** Gate and unit statistics, one per layer and direction (model.layers order). */
  cellStats: CellStatsAccumulator[];
}

/** Runs the first pass (see the file comment). */
export function runBatchPass(model: Model, plan: AnalysisPlan, progress: AnalysisProgress): BatchPassResult {
  const B = model.sequences.length;
  const batchSize = model.training.batchSize ?? B;
  const result: BatchPassResult = {
    loss: 0,
    lossFinite: true,
    findings: [],
    batchNorms: [],
    batchMaxAbs: [],
    total: zeroParamGrads(model),
    lagStats: model.layers.map(() => new LagStats(plan.sample ? 0 : plan.firstLag + 1)),
    sampled: plan.sample ? model.layers.map(() => new SampledLagStats(plan.maxLag + 1, plan.sample!)) : null,
    lagNonFinite: false,
    merger: null,
    cellStats: CellStatsAccumulator.forModel(model),
  };
  if (!plan.twoPass && plan.chunks) result.merger = new ChunkMerger(plan.chunks, result.lagStats);
  const scratch = { perSequence: zeroParamGrads(model), block: zeroParamGrads(model) };
  const batchGrads = zeroParamGrads(model);
  for (let start = 0; start < B; start += batchSize) {
    clearGrads(batchGrads);
    const end = Math.min(B, start + batchSize);
    const batch: BatchState = { start, end, grads: batchGrads, finite: true, findings: [] };
    for (const block of blocksOf(model, plan, start, end)) {
      // A block whose values overflowed anywhere runs again sequence by sequence, which reports where.
      const T = model.sequences[block[0]].length;
      const segmented = plan.block.segment(T) < T;
      if (segmented && streamsInSegments(model)) {
        if (runStreamed(model, plan, progress, block, batch, result, scratch.block)) continue;
      } else if (segmented && runCheckpointed(model, plan, progress, block, batch, result, scratch.block)) continue;
      if (!segmented && block.length > 1 && runBlock(model, plan, progress, block, batch, result, scratch.block))
        continue;
      for (const b of block) runSequence(model, plan, progress, b, batch, result, scratch.perSequence);
    }
    // Findings in sequence order (blocks group the sequences by length).
    batch.findings.sort((x, y) => x.b - y.b);
    for (const f of batch.findings) result.findings.push(f.finding);
    const norm = batch.finite ? globalNorm(model, batchGrads) : null;
    result.batchNorms.push(norm !== null && Number.isFinite(norm) ? norm : null);
    const maxAbs = batch.finite ? globalMaxAbs(model, batchGrads) : null;
    result.batchMaxAbs.push(maxAbs !== null && Number.isFinite(maxAbs) ? maxAbs : null);
  }
  return result;
}

/** The training batch under way. */
interface BatchState {
  start: number;
  end: number;
  grads: ParamGrads;
  finite: boolean;
  findings: { b: number; finding: Finding }[];
}

/**
 * The sequences of batch [start, end) in blocks: sequences of one length together (in order of their first
 * sequence), at most the plan's block size of that length in each.
 */
function blocksOf(model: Model, plan: AnalysisPlan, start: number, end: number): number[][] {
  const byLength = new Map<number, number[]>();
  for (let b = start; b < end; b++) {
    const T = model.sequences[b].length;
    const list = byLength.get(T);
    if (list) list.push(b);
    else byLength.set(T, [b]);
  }
  const blocks: number[][] = [];
  for (const [T, list] of byLength) {
    const size = plan.block.blockSize(T);
    for (let i = 0; i < list.length; i += size) blocks.push(list.slice(i, i + size));
  }
  return blocks;
}

/** One block of equal-length sequences by batched BPTT; false (nothing added) when some value overflowed. */
function runBlock(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  block: number[],
  batch: BatchState,
  result: BatchPassResult,
  grads: ParamGrads,
): boolean {
  const { cells, mm } = plan.block;
  const sequences = block.map((b) => model.sequences[b]);
  const T = sequences[0].length;
  progress.check(0, 'forward');
  const fwd = blockForward(model, cells, plan.lossFn, sequences, () => progress.check(0, 'forward'));
  if (fwd.nonFinite) return false;
  clearGrads(grads);
  if (blockBackward(model, cells, fwd, grads, mm, () => progress.check(0, 'gradients'))) return false;
  // Gradients near the end of the double range: their sums overflow, or not, by the order of the terms. The
  // per-sequence passes decide, as before.
  if (!gradsWellInRange(grads)) return false;
  fwd.traces.forEach((trace, i) => cells[i].addStats(trace, result.cellStats[i]));
  addBlockResult(model, progress, block, T, fwd.losses, grads, batch, result);
  block.forEach((b, j) => {
    // Only a sampled sequence's trace (or every one, for an exact table) goes to the lag recursion.
    if (plan.sample && !sampleSubset(plan.sample, b)) return;
    const seq = extractSequence(model, cells, fwd, j);
    const nonFinite = firstPassLags(model, plan, progress, { b, length: T }, seq, result);
    result.lagNonFinite ||= nonFinite;
  });
  return true;
}

/**
 * A block whose traces would not fit the budget: batched BPTT from checkpoints (block/network.ts
 * checkpointedBlock); false (nothing added) when some value overflowed. The lag recursion then takes each
 * sequence's trace window by window, recomputed from the same checkpoints (block/lagWindows.ts).
 */
function runCheckpointed(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  block: number[],
  batch: BatchState,
  result: BatchPassResult,
  grads: ParamGrads,
): boolean {
  const { cells, mm } = plan.block;
  const sequences = block.map((b) => model.sequences[b]);
  const T = sequences[0].length;
  // Statistics are added only once the whole block is known to be finite.
  const stats = CellStatsAccumulator.forModel(model);
  clearGrads(grads);
  progress.check(0, 'forward');
  const kept = checkpointedBlock(
    model,
    cells,
    plan.lossFn,
    sequences,
    plan.block.segment(T),
    grads,
    mm,
    (i, trace) => cells[i].addStats(trace, stats[i]),
    () => progress.check(0, 'gradients'),
  );
  if (!kept || !gradsWellInRange(grads)) return false;
  addWindowedBlock(model, plan, progress, block, T, kept.losses, grads, stats, batch, result, (j, tick) =>
    checkpointedLagSequence(model, cells, kept.forward, kept.seeds, j, tick),
  );
  return true;
}

/**
 * A block of a unidirectional stack whose traces would not fit the budget: batched BPTT segment by segment from
 * checkpoints of every layer, nothing of the sequences' length held (block/streamed.ts); false (nothing added)
 * when some value overflowed. The lag recursion then takes each sequence's windows, recomputed from the same
 * checkpoints.
 */
function runStreamed(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  block: number[],
  batch: BatchState,
  result: BatchPassResult,
  grads: ParamGrads,
): boolean {
  const { cells, mm } = plan.block;
  const sequences = block.map((b) => model.sequences[b]);
  const T = sequences[0].length;
  // Statistics are added only once the whole block is known to be finite.
  const stats = CellStatsAccumulator.forModel(model);
  clearGrads(grads);
  progress.check(0, 'forward');
  const tick = (): void => progress.check(0, 'gradients');
  const fwd = streamedForward(
    model,
    cells,
    plan.lossFn,
    sequences,
    plan.block.segment(T),
    (i, trace) => cells[i].addStats(trace, stats[i]),
    tick,
  );
  if (!fwd) return false;
  if (streamedBackward(model, cells, plan.lossFn, fwd.stack, grads, mm, tick) || !gradsWellInRange(grads)) {
    return false;
  }
  addWindowedBlock(model, plan, progress, block, T, fwd.stack.losses, grads, stats, batch, result, (j, lagTick) =>
    new StreamedWindows(model, cells, plan.lossFn, fwd.stack, j, lagTick).lagSequence(),
  );
  return true;
}

/**
 * Adds a finite block run from checkpoints (runCheckpointed, runStreamed): its statistics, losses and gradient,
 * then each (sampled) sequence's first lag pass over the windows `lagSequence(j, tick)` recomputes as the
 * recursion reaches them, whose checks report the rows done so far.
 */
function addWindowedBlock(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  block: number[],
  T: number,
  losses: ArrayLike<number>,
  grads: ParamGrads,
  stats: CellStatsAccumulator[],
  batch: BatchState,
  result: BatchPassResult,
  lagSequence: (j: number, tick: () => void) => LagSequence,
): void {
  stats.forEach((s, i) => result.cellStats[i].merge(s));
  addBlockResult(model, progress, block, T, losses, grads, batch, result);
  block.forEach((b, j) => {
    if (plan.sample && !sampleSubset(plan.sample, b)) return;
    const cursor = { rows: 0 };
    const tick = (): void => progress.check(cursor.rows, plan.twoPass ? 'short lags' : 'lags');
    const nonFinite = firstPassLags(model, plan, progress, { b, length: T }, lagSequence(j, tick), result, cursor);
    result.lagNonFinite ||= nonFinite;
  });
}

/**
 * Adds a finite block's losses (one per sequence of `block`, each T steps) and gradient to its batch and to the
 * whole data's, and counts its forward and backward work.
 */
function addBlockResult(
  model: Model,
  progress: AnalysisProgress,
  block: number[],
  T: number,
  losses: ArrayLike<number>,
  grads: ParamGrads,
  batch: BatchState,
  result: BatchPassResult,
): void {
  const B = model.sequences.length;
  block.forEach((_, j) => (result.loss += losses[j] / B));
  addScaled(batch.grads, grads, 1 / (batch.end - batch.start));
  addScaled(result.total, grads, 1 / B);
  progress.done += 2 * T * block.length;
}

/** Whether every gradient entry is finite and below 2^1000 in magnitude. */
function gradsWellInRange(grads: ParamGrads): boolean {
  const limit = 2 ** 1000;
  for (const a of gradArrays(grads)) for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]) < limit)) return false;
  return true;
}

/**
 * One sequence by itself (network.ts): a block of one, or each sequence of a block that overflowed. A sequence
 * whose trace would not fit the budget runs from checkpoints (block/lagWindows.ts streamedSequenceForward): the
 * same passes and findings, its traces recomputed window by window.
 */
function runSequence(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  b: number,
  batch: BatchState,
  result: BatchPassResult,
  perSequence: ParamGrads,
): void {
  const B = model.sequences.length;
  const seq = model.sequences[b];
  progress.check(0, 'forward');
  // Windows from checkpoints are recomputed within each pass: their checks report that pass's progress.
  const cursor = { rows: 0 };
  let phase = 'forward';
  const tick = (): void => progress.check(cursor.rows, phase);
  const K = plan.block.segment(seq.length);
  if (K < seq.length && streamsInSegments(model)) {
    runStreamedSequence(model, plan, progress, b, batch, result, perSequence);
    return;
  }
  const stats = K < seq.length ? CellStatsAccumulator.forModel(model) : null;
  const fwd: StreamedForward = stats
    ? streamedSequenceForward(
        model,
        plan.block.cells,
        plan.lossFn,
        seq,
        K,
        (i, tr) => plan.block.cells[i].addStats(tr, stats[i]),
        tick,
      )
    : forwardSequence(model, plan.cells, plan.lossFn, seq, tick);
  // The activations are finite unless a layer overflowed (a loss overflow leaves them valid).
  if (!fwd.nonFinite || fwd.nonFinite.layer === model.numLayers) {
    if (stats) stats.forEach((st, i) => result.cellStats[i].merge(st));
    else addCellStats(plan, fwd as SequenceForward, seq.length, result);
  }
  if (fwd.nonFinite) {
    result.lossFinite = false;
    batch.finite = false;
    batch.findings.push({ b, finding: forwardOverflowFinding(model, b, fwd.nonFinite) });
    progress.done += overflowedWork(plan, result, b, seq.length);
    return;
  }
  result.loss += fwd.loss / B;
  clearGrads(perSequence);
  cursor.rows = seq.length;
  phase = 'gradients';
  const bad = backwardSequence(model, plan.cells, fwd, perSequence, tick);
  if (bad) {
    batch.finite = false;
    batch.findings.push({ b, finding: backwardOverflowFinding(b, bad) });
  }
  addScaled(batch.grads, perSequence, 1 / (batch.end - batch.start));
  addScaled(result.total, perSequence, 1 / B);
  progress.done += 2 * seq.length;
  cursor.rows = 0;
  phase = plan.twoPass ? 'short lags' : 'lags';
  // Without a trace budget's windows (stats null), fwd is the plain forwardSequence trace.
  const nonFinite = firstPassLags(model, plan, progress, { b, length: seq.length }, fwd, result, cursor, !stats);
  result.lagNonFinite ||= nonFinite;
}

/**
 * One sequence of a unidirectional stack whose trace would not fit the budget, by itself (block/streamed.ts): the
 * forward pass segment by segment (run on past an overflow, which it locates), the backward pass and the lag
 * recursion through windows recomputed from its checkpoints; the same findings as runSequence's whole passes.
 */
function runStreamedSequence(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  b: number,
  batch: BatchState,
  result: BatchPassResult,
  perSequence: ParamGrads,
): void {
  const B = model.sequences.length;
  const seq = model.sequences[b];
  const { cells } = plan.block;
  const cursor = { rows: 0 };
  let phase = 'forward';
  const tick = (): void => progress.check(cursor.rows, phase);
  const stats = CellStatsAccumulator.forModel(model);
  const fwd = streamedForward(
    model,
    cells,
    plan.lossFn,
    [seq],
    plan.block.segment(seq.length),
    (i, tr) => cells[i].addStats(tr, stats[i]),
    tick,
    true,
  )!;
  const overflow = fwd.overflow;
  // The activations are finite unless a layer overflowed (a loss overflow leaves them valid).
  if (!overflow || overflow.layer === model.numLayers) stats.forEach((st, i) => result.cellStats[i].merge(st));
  if (overflow) {
    result.lossFinite = false;
    batch.finite = false;
    batch.findings.push({ b, finding: forwardOverflowFinding(model, b, overflow) });
    progress.done += overflowedWork(plan, result, b, seq.length);
    return;
  }
  result.loss += fwd.stack.losses[0] / B;
  clearGrads(perSequence);
  cursor.rows = seq.length;
  phase = 'gradients';
  const windows = new StreamedWindows(model, cells, plan.lossFn, fwd.stack, 0, tick);
  const bad = streamedBackwardSequence(model, plan.cells, windows, perSequence, tick);
  if (bad) {
    batch.finite = false;
    batch.findings.push({ b, finding: backwardOverflowFinding(b, bad) });
  }
  addScaled(batch.grads, perSequence, 1 / (batch.end - batch.start));
  addScaled(result.total, perSequence, 1 / B);
  progress.done += 2 * seq.length;
  cursor.rows = 0;
  phase = plan.twoPass ? 'short lags' : 'lags';
  const nonFinite = firstPassLags(
    model,
    plan,
    progress,
    { b, length: seq.length },
    windows.lagSequence(),
    result,
    cursor,
  );
  result.lagNonFinite ||= nonFinite;
}

/** Adds one sequence's gate activations and unit values to each layer's statistics. */
function addCellStats(plan: AnalysisPlan, fwd: SequenceForward, steps: number, result: BatchPassResult): void {
  fwd.traces.forEach((trace, i) => result.cellStats[i].add(plan.cells[i].statsView(trace), steps));
}

/**
 * Sequence b's pairs up to plan.firstLag. A one-pass run collects its map here, and only this thread's columns
 * when the table is split; the short pass of a two-pass run takes every column and no map.
 */
function firstPassLags(
  model: Model,
  plan: AnalysisPlan,
  progress: AnalysisProgress,
  sequence: { b: number; length: number },
  fwd: LagSequence,
  result: BatchPassResult,
  cursor: { rows: number } = { rows: 0 },
  plain = false,
): boolean {
  // A chunked full table: this thread's chunks of the sequence, on its plain forward trace (as the other threads).
  if (result.merger) {
    const trace = plain
      ? fwd
      : (): LagSequence | null => {
          const again = forwardSequence(model, plan.cells, plan.lossFn, model.sequences[sequence.b], () =>
            progress.check(0, 'lags'),
          );
          return again.nonFinite ? null : again;
        };
    return walkOwnChunks(plan, progress, result.merger, sequence, trace, 'lags', cursor);
  }
  const stats: LagSink[] = result.sampled ?? result.lagStats;
  let own: ColumnSubset | undefined;
  if (plan.sample) {
    // A sampled table: only this sequence's drawn columns (none: nothing to do).
    const subset = sampleSubset(plan.sample, sequence.b);
    if (!subset) return false;
    own = subset;
  }
  // The full table's walks are timed (LagTiming); the short pass and a sample are not the full table.
  const nonFinite = lagWalk(plan, progress, fwd, stats, {
    b: sequence.b,
    subset: own,
    cursor,
    phase: plan.twoPass ? 'short lags' : 'lags',
    maxLag: plan.firstLag,
    map: !plan.twoPass,
    timed: !(plan.twoPass || plan.sample),
  });
  progress.done += sequenceLagWork(plan.shape, sequence.length, plan.firstLag, own);
  return nonFinite;
}

/**
 * The work of a sequence whose forward pass overflowed (it has no lag pairs), for progress; a chunked table's chunks
 * of it that are left are handed to the merger empty.
 */
function overflowedWork(plan: AnalysisPlan, result: BatchPassResult, b: number, T: number): number {
  if (plan.sample) return 2 * T + sampledWork(plan, b, T);
  if (result.merger) return 2 * T + skipOwnChunks(plan, result.merger, b, T);
  return firstPassCost(plan.shape, plan.firstLag, T);
}

/** Work of sequence b's sampled columns (0 when none was drawn). */
function sampledWork(plan: AnalysisPlan, b: number, T: number): number {
  const subset = plan.sample ? sampleSubset(plan.sample, b) : null;
  return subset ? sequenceLagWork(plan.shape, T, plan.maxLag, subset) : 0;
}
