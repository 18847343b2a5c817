// The lag recursion's input from a forward pass in checkpoint form (network.ts checkpointedForward), for
// sequences whose whole trace would not fit the memory budget: each layer and direction's trace is recomputed
// window by window from its checkpoints as the backward walk reaches it (the gradients' segments, each with one
// more step, so that a window holds step j and the step j − 1 that the backward step reads). A window of one
// sequence is a block of one row: the same forward pass as the gradients' (segmentTrace), in the per-sequence
// layout of cells/ (BlockCell.extract).
import type { Trace } from '../cells/cell';
import type { StepTraces } from '../lags';
import type { LossFunction } from '../loss';
import type { Model, Sequence } from '../model/types';
import { firstOverflow, sequenceLosses, type StreamedForward } from '../network';
import type { LagSequence } from '../stackLags';
import { rowSequence, type BlockCell, type BlockTrace } from './blockCell';
import { blockLosses, checkpointedForward, segmentTrace, type CheckpointedForward } from './network';

/**
 * One cell's trace in windows: window m holds the steps [m·K, m·K + K] (K the segment) and serves the walk's
 * steps j ∈ (m·K, m·K + K], and j = 0 for m = 0.
 */
export class CheckpointWindows implements StepTraces {
  offset = 0;
  /** Windows computed so far (tests: each once per backward walk). */
  recomputed = 0;
  private window = -1;
  private trace: Trace | null = null;

  constructor(
    readonly length: number,
    private readonly segment: number,
    private readonly recompute: (s0: number, len: number) => Trace,
  ) {}

  seek(j: number): Trace {
    const K = this.segment;
    const m = j === 0 ? 0 : Math.floor((j - 1) / K);
    if (m !== this.window || !this.trace) {
      this.trace = null;
      const s0 = m * K;
      this.trace = this.recompute(s0, Math.min(K + 1, this.length - s0));
      this.window = m;
      this.offset = s0;
      this.recomputed++;
    }
    return this.trace;
  }
}

/** Row b of a checkpointed block as the lag recursion's input: windows of every cell, and b's loss seeds. */
export function checkpointedLagSequence(
  model: Model,
  cells: BlockCell[],
  fwd: CheckpointedForward,
  seeds: Float64Array,
  b: number,
  tick: () => void,
): LagSequence {
  const { T, n } = fwd;
  const W = seeds.length / (T * n);
  return {
    traces: cells.map(
      (cell, idx) =>
        new CheckpointWindows(T, fwd.segment, (s0, len) =>
          cell.extract(segmentTrace(model, cells, fwd, idx, s0, len, b, tick), 0),
        ),
    ),
    seeds: rowSequence(seeds, 0, T, n, W, b),
  };
}

/**
 * One sequence's forward pass in checkpoint form (every `segment` steps) as the lag recursion's input, or null
 * when some value was not finite.
 */
export function checkpointedSequence(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  seq: Sequence,
  segment: number,
  tick: () => void,
): LagSequence | null {
  const fwd = checkpointedForward(model, cells, [seq], segment, () => undefined, tick);
  if (!fwd) return null;
  const losses = blockLosses(model, cells, loss, [seq], fwd.top, tick);
  if (losses.nonFinite) return null;
  return checkpointedLagSequence(model, cells, fwd, losses.seeds, 0, tick);
}

/**
 * network.ts's forward pass of one sequence (forwardSequence) in checkpoint form, for a sequence whose whole
 * trace would not fit the budget: the same outputs, losses, seeds and first non-finite step and layer (the values
 * run on past an overflow), with traces that are windows recomputed from checkpoints every `segment` steps, which
 * backwardSequence and the lag recursion read. Every segment's trace goes to `onTrace` (the statistics).
 */
export function streamedSequenceForward(
  model: Model,
  cells: BlockCell[],
  loss: LossFunction,
  seq: Sequence,
  segment: number,
  onTrace: (cell: number, trace: BlockTrace) => void,
  tick: () => void,
): StreamedForward {
  const fwd = checkpointedForward(model, cells, [seq], segment, onTrace, tick, true)!;
  const outputs = [...fwd.inputs.slice(1), fwd.top];
  const W = fwd.top.length / seq.length;
  const losses = sequenceLosses(model, loss, seq, fwd.top, W, tick);
  const nonFinite = firstOverflow(outputs, seq.length, losses.firstNonFinite);
  const { traces } = checkpointedLagSequence(model, cells, fwd, losses.seeds, 0, tick);
  return {
    traces,
    outputs,
    loss: losses.total,
    seeds: losses.seeds,
    outputGrads: losses.outputGrads,
    nonFinite,
    tokens: seq.tokens ?? null,
  };
}
