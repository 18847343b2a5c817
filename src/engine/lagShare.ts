// Splitting the lag table's columns across threads. Columns t (loss terms) are independent: each thread
// runs the whole recursion (elementwise work and its own matrix products) for its subset of t, and the
// per-lag statistics merge at the end. The engine stays synchronous and free of threads: the caller
// (the worker layer) implements LagSplitter; the engine decides the shares and merges.
import type { Model } from './model/types';
import { buildCells } from './cells';
import type { MatMul } from './matmul';
import { LossFunction } from './loss';
import { forwardSequence } from './network';
import { accumulateSequenceLags, sequenceLagWork, stackShapeOf } from './stackLags';
import { ChunkClaims, chunkLayoutOf, CHUNK_MIN_FLOPS, type ChunkShared } from './lagChunks';
import { heatmapCollectorFor, type HeatmapRequest } from './heatmap';
import { SpectraClaims, type SpectraShared } from './spectraTasks';
import { LagStats } from './logscale';
import { emptySpan, timeWalk, type ThreadSpan } from './analysis/recursionClock';

/** One thread's part of a full lag table: the lag cap, the map request and the shared chunk claims. */
export interface LagJob {
  maxLag: number;
  heatmap: HeatmapRequest | null;
  /** The table's chunks (lagChunks.ts): claimed from the shared counters, handed back through the ring. */
  chunks: ChunkShared;
  /** The spectra as shared tasks (spectraTasks.ts), claimed before any chunk; null: the caller computes them. */
  spectra: SpectraShared | null;
}

/** What one thread computed besides its chunks' statistics (those went back through the ring): its map cells. */
export interface LagPartial {
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

/** Doubles a packed LagPartial takes: the non-finite flag, the span and the map. */
export function lagPartialLength(model: Model, job: Pick<LagJob, 'heatmap'>): number {
  const h = heatmapCollectorFor(model, job.heatmap);
  return 5 + (h ? model.layers.length * h.size * h.size : 0);
}

/** Writes a partial result into `out` (lagPartialLength doubles). */
export function packLagPartial(partial: LagPartial, out: Float64Array<ArrayBufferLike>): void {
  let o = 0;
  out[o++] = partial.nonFinite ? 1 : 0;
  out[o++] = partial.span.start;
  out[o++] = partial.span.end;
  out[o++] = partial.span.busy;
  out[o++] = partial.span.cpu;
  if (partial.heatmap)
    for (const cells of partial.heatmap) {
      out.set(cells, o);
      o += cells.length;
    }
}

/** Reads a partial result written by packLagPartial (copies: `data` may be reused). */
export function unpackLagPartial(
  model: Model,
  job: Pick<LagJob, 'heatmap'>,
  data: Float64Array<ArrayBufferLike>,
): LagPartial {
  let o = 0;
  const nonFinite = data[o++] !== 0;
  const span = { start: data[o], end: data[o + 1], busy: data[o + 2], cpu: data[o + 3] };
  o += 4;
  const h = heatmapCollectorFor(model, job.heatmap);
  const heatmap = h
    ? h.cells.map((c) => {
        const cells = data.slice(o, o + c.length);
        o += c.length;
        return cells;
      })
    : null;
  return { heatmap, nonFinite, span };
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
  /** Test hook: the most chunks this thread claims (default: as many as it can). */
  claimLimit?: number;
}

/**
 * One thread's part of the full lag table: for each sequence that still has chunks to claim, its forward pass
 * (as analyzeModel runs it), then the sequence's chunks this thread claims, each handed back through the ring.
 */
export function computeLagShare(model: Model, job: LagJob, hooks: LagJobHooks): LagPartial {
  const cells = buildCells(model);
  const lagCells = hooks.matmul ? buildCells(model, hooks.matmul) : cells;
  const safeExponent = hooks.matmul?.safeExponent ?? 200;
  const lossFn = new LossFunction(model);
  const heatmap = heatmapCollectorFor(model, job.heatmap);
  const shape = stackShapeOf(model);
  const layout = chunkLayoutOf(model, job.maxLag, lagFlopsPerRow(model), job.chunks.minFlops);
  const claims = new ChunkClaims(layout, model.layers.length, job.chunks);
  const check = (): void => {
    hooks.tick?.();
    if (hooks.isCancelled()) throw hooks.cancelled();
  };
  // The spectra first: the caller is still in its forward and backward passes.
  if (job.spectra) new SpectraClaims(model, job.spectra).runAll(check);
  let nonFinite = false;
  let claimed = 0;
  const limit = hooks.claimLimit ?? Infinity;
  const span: ThreadSpan = emptySpan();
  model.sequences.forEach((seq, b) => {
    check();
    if (claimed >= limit || !claims.hasWork(b)) return;
    const fwd = forwardSequence(model, cells, lossFn, seq, check);
    for (;;) {
      if (claimed >= limit) return;
      const c = claims.claim(b);
      if (c < 0) return;
      claimed++;
      const subset = layout.subset(b, c);
      const stats = model.layers.map(() => new LagStats(job.maxLag + 1));
      let reported = 0;
      const onStep = (rows: number): void => {
        check();
        const whole = Math.floor(rows);
        if (whole > reported) {
          hooks.onRows(whole - reported);
          reported = whole;
        }
      };
      // A sequence whose forward pass overflowed has no pairs (analyzeModel reports it): empty statistics.
      if (!fwd.nonFinite) {
        const walked = timeWalk(span, () =>
          accumulateSequenceLags({
            shape,
            cells: lagCells,
            fwd,
            maxLag: job.maxLag,
            stats,
            hooks: { step: onStep },
            heatmap: heatmap && job.heatmap?.sequence === b ? heatmap : null,
            safeExponent,
            subset,
          }),
        );
        nonFinite = walked || nonFinite;
      }
      const total = Math.floor(sequenceLagWork(shape, seq.length, job.maxLag, subset));
      if (total > reported) hooks.onRows(total - reported);
      claims.put(layout.first[b] + c, stats, check);
    }
  });
  return { heatmap: heatmap ? heatmap.cells : null, nonFinite, span };
}

/** Lag-table flops (all layers) below which splitting the columns does not pay for a thread's start. */
export const SPLIT_MIN_FLOPS = CHUNK_MIN_FLOPS;

/** Flops of one row-step of the lag recursion (all layers and directions): about twice the recurrent weights. */
export function lagFlopsPerRow(model: Model): number {
  const perDirection = model.layers.reduce((a, w) => a + w.weightHh.data.length + (w.weightHr?.data.length ?? 0), 0);
  return (2 * perDirection) / (model.bidirectional ? 2 : 1);
}
