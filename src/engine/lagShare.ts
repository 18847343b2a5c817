// Splitting the lag table's columns across threads. Columns t (loss terms) are independent: each thread
// runs the whole recursion (elementwise work and its own matrix products) for its subset of t, and the
// per-lag statistics merge at the end. The engine stays synchronous and free of threads: the caller
// (the worker layer) implements LagSplitter; the engine decides the shares and merges.
import type { Model } from './model/types';
import { buildCells } from './cells';
import type { MatMul } from './matmul';
import { LossFunction } from './loss';
import { forwardSequence } from './network';
import type { ColumnSubset } from './lags';
import { accumulateSequenceLags, columnWork, sequenceLagWork, stackShapeOf, type StackShape } from './stackLags';
import { heatmapCollectorFor, type HeatmapRequest } from './heatmap';
import { LagStats } from './logscale';
import { addSpan, wallMs, type ThreadSpan } from './analysis/recursionClock';

/** One thread's part of a full lag table: the lag cap, the map request and its columns. */
export interface LagJob {
  maxLag: number;
  heatmap: HeatmapRequest | null;
  share: ColumnSubset;
}

/** What one thread computed: statistics of its columns (one LagStats per layer), its map cells. */
export interface LagPartial {
  stats: LagStats[];
  heatmap: Float64Array[] | null;
  nonFinite: boolean;
  /** When this thread's walks ran (for the recursion's timing; not part of the statistics). */
  span: ThreadSpan;
}

/** The other threads of a split lag table, as the worker layer provides them. */
export interface LagSplitter {
  /** Threads that share the columns, the caller included. */
  readonly threads: number;
  /** Lag-table flops from which the table is split (default SPLIT_MIN_FLOPS). */
  readonly minFlops?: number;
  /** The caller's matrix product while the other threads run (single-threaded: every core is busy). */
  readonly matmul: MatMul;
  /** Starts the other threads, one job each (returns at once). */
  start(jobs: LagJob[]): void;
  /** Row-steps the other threads have done so far. */
  progress(): number;
  /**
   * Waits for the other threads and returns their results in the order of `start`'s jobs. Calls
   * `check` every few milliseconds while waiting (it throws to cancel). Throws when a thread fails or
   * stops responding.
   */
  finish(check: () => void): LagPartial[];
  /** Stops the other threads' jobs (the caller was cancelled or failed). Safe to call at any time. */
  abort(): void;
}

/** Doubles a packed LagPartial takes: the statistics of every layer, the non-finite flag, the span and the map. */
export function lagPartialLength(model: Model, job: Pick<LagJob, 'maxLag' | 'heatmap'>): number {
  const h = heatmapCollectorFor(model, job.heatmap);
  const layers = model.layers.length;
  return layers * (job.maxLag + 1) * LagStats.PACKED_PER_LAG + 4 + (h ? layers * h.size * h.size : 0);
}

/** Writes a partial result into `out` (lagPartialLength doubles). */
export function packLagPartial(partial: LagPartial, out: Float64Array<ArrayBufferLike>): void {
  let o = 0;
  for (const s of partial.stats) {
    s.pack(out, o);
    o += s.lags * LagStats.PACKED_PER_LAG;
  }
  out[o++] = partial.nonFinite ? 1 : 0;
  out[o++] = partial.span.start;
  out[o++] = partial.span.end;
  out[o++] = partial.span.busy;
  if (partial.heatmap)
    for (const cells of partial.heatmap) {
      out.set(cells, o);
      o += cells.length;
    }
}

/** Reads a partial result written by packLagPartial (copies: `data` may be reused). */
export function unpackLagPartial(
  model: Model,
  job: Pick<LagJob, 'maxLag' | 'heatmap'>,
  data: Float64Array<ArrayBufferLike>,
): LagPartial {
  const lags = job.maxLag + 1;
  let o = 0;
  const stats = model.layers.map(() => {
    const s = LagStats.unpack(lags, data, o);
    o += lags * LagStats.PACKED_PER_LAG;
    return s;
  });
  const nonFinite = data[o++] !== 0;
  const span = { start: data[o], end: data[o + 1], busy: data[o + 2] };
  o += 3;
  const h = heatmapCollectorFor(model, job.heatmap);
  const heatmap = h
    ? h.cells.map((c) => {
        const cells = data.slice(o, o + c.length);
        o += c.length;
        return cells;
      })
    : null;
  return { stats, heatmap, nonFinite, span };
}

/** Hooks of a lag job on another thread. */
export interface LagJobHooks {
  /** The matrix product of the recursion (default plain code). */
  matmul?: MatMul;
  /** Polled every step; true stops the job (it throws `cancelled()`). */
  isCancelled: () => boolean;
  cancelled: () => Error;
  /** Row-steps done since the last call (progress). */
  onRows: (rows: number) => void;
  /** Called every few steps of the forward passes (a sign of life). */
  tick?: () => void;
}

/**
 * One thread's part of the full lag table: the forward pass of every sequence (as analyzeModel runs
 * it) and the recursion for the job's columns. The caller merges the partial statistics.
 */
export function computeLagShare(model: Model, job: LagJob, hooks: LagJobHooks): LagPartial {
  const cells = buildCells(model);
  const lagCells = hooks.matmul ? buildCells(model, hooks.matmul) : cells;
  const safeExponent = hooks.matmul?.safeExponent ?? 200;
  const lossFn = new LossFunction(model);
  const stats = model.layers.map(() => new LagStats(job.maxLag + 1));
  const heatmap = heatmapCollectorFor(model, job.heatmap);
  const shape = stackShapeOf(model);
  const check = (): void => {
    hooks.tick?.();
    if (hooks.isCancelled()) throw hooks.cancelled();
  };
  let nonFinite = false;
  const span: ThreadSpan = { start: Infinity, end: -Infinity, busy: 0 };
  model.sequences.forEach((seq, b) => {
    check();
    const fwd = forwardSequence(model, cells, lossFn, seq, check);
    if (fwd.nonFinite) return;
    let reported = 0;
    const onStep = (rows: number): void => {
      check();
      const whole = Math.floor(rows);
      if (whole > reported) {
        hooks.onRows(whole - reported);
        reported = whole;
      }
    };
    const t0 = wallMs();
    nonFinite =
      accumulateSequenceLags({
        shape,
        cells: lagCells,
        fwd,
        maxLag: job.maxLag,
        stats,
        hooks: { step: onStep },
        heatmap: heatmap && job.heatmap?.sequence === b ? heatmap : null,
        safeExponent,
        subset: job.share,
      }) || nonFinite;
    addSpan(span, t0, wallMs());
    const total = Math.floor(sequenceLagWork(shape, seq.length, job.maxLag, job.share));
    if (total > reported) hooks.onRows(total - reported);
  });
  return { stats, heatmap: heatmap ? heatmap.cells : null, nonFinite, span };
}

/** Lag-table flops (all layers) below which splitting the columns does not pay for a thread's start. */
export const SPLIT_MIN_FLOPS = 2e9;

/**
 * Column shares of `threads` threads, the caller's first, for sequences of these lengths. The caller
 * also runs the gradients, the spectra (and the short-lag pass of a two-pass run): `callerExtra`
 * estimates that work in row-steps, and the caller takes fewer columns so that all finish together.
 * Columns are dealt in blocks within a period of 64 per thread (interleaved, so every share gets short
 * and long columns alike); the block widths balance the exact row-steps.
 */
export function columnShares(
  threads: number,
  lengths: readonly number[],
  maxLag: number,
  callerExtra: number,
  shape: StackShape = { layers: 1, directions: 1 },
): ColumnSubset[] {
  const stride = 64 * threads;
  // Row-steps of the columns of each residue t mod stride (unidirectional: column t takes min(t, L) + 1 steps).
  const residue = new Float64Array(stride);
  for (const T of lengths) {
    for (let t = 0; t < T; t++) residue[t % stride] += columnWork(shape, T, maxLag, t);
  }
  const prefix = new Float64Array(stride + 1);
  for (let r = 0; r < stride; r++) prefix[r + 1] = prefix[r] + residue[r];
  const total = prefix[stride];
  // The others' widths: the residues [from, stride) cut into blocks of about equal work.
  const cut = (from: number): number[] => {
    const bounds = [from];
    for (let i = 1; i < threads - 1; i++) {
      const target = prefix[from] + ((total - prefix[from]) * i) / (threads - 1);
      let r = bounds[i - 1] + 1;
      while (r < stride - (threads - 1 - i) && prefix[r] < target) r++;
      bounds.push(r);
    }
    bounds.push(stride);
    return bounds;
  };
  let best = { own: 1, cost: Infinity, bounds: [1] };
  for (let own = 1; own <= stride - (threads - 1); own++) {
    const bounds = cut(own);
    let cost = prefix[own] + callerExtra;
    for (let i = 0; i + 1 < bounds.length; i++) cost = Math.max(cost, prefix[bounds[i + 1]] - prefix[bounds[i]]);
    if (cost < best.cost) best = { own, cost, bounds };
  }
  const shares: ColumnSubset[] = [{ stride, offset: 0, width: best.own }];
  for (let i = 0; i + 1 < best.bounds.length; i++)
    shares.push({ stride, offset: best.bounds[i], width: best.bounds[i + 1] - best.bounds[i] });
  return shares;
}
