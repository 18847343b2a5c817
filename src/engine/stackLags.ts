// The lag table of one sequence for any stack: the route by the stack's shape, and the chunked recursion of
// bidirectional stacks of several layers.
//
// - Unidirectional stacks: one batched recursion (lags.ts), all layers in one backward sweep.
// - One bidirectional layer: its two directions are independent (they only meet in the readout), so each
//   runs the recursion of lags.ts on its own (a reverse direction in its own time order).
// - Bidirectional stacks of K ≥ 2 layers: an upper layer carries a lower state's influence in both time
//   directions (the lower forward state at j reaches y_{j'} for every j' ≥ j, and the upper reverse direction
//   carries it back to any t ≤ j'), so ∂ε_t/∂s_j is non-zero for every j below the top layer, and one sweep is
//   not enough. For a chunk of loss terms ε_t (the rows), layer by layer from the top, each direction sweeps
//   the sequence in its own backward order, taking ∂ε_t/∂y^k_j from the layer above and handing ∂ε_t/∂y^{k−1}_j
//   to the layer below; those gradient sequences (rows × T × width, one exponent per row and step) are the
//   only O(T) per-row memory, bounded by the chunk size. Pairs collected: forward t ≥ j, reverse t ≤ j,
//   lag |t − j| ≤ maxLag.
import type { Cell, Trace } from './cells/cell';
import type { HeatmapCollector } from './heatmap';
import {
  accumulateLags,
  inSubset,
  lagWorkOf,
  mirrorSubset,
  rescaleRows,
  rowNormsOf,
  stepTracesOf,
  type ColumnSubset,
  type LagHooks,
  type LagSink,
  type StepSeeds,
  type StepTraces,
} from './lags';
import { log10Of } from './logscale';
import type { Model } from './model/types';

/** The shape of a stack as the lag recursion sees it. */
export interface StackShape {
  layers: number;
  directions: 1 | 2;
}

/** The stack shape of a model. */
export function stackShapeOf(model: Pick<Model, 'numLayers' | 'bidirectional'>): StackShape {
  return { layers: model.numLayers, directions: model.bidirectional ? 2 : 1 };
}

/** Bytes the chunked recursion may hold for its gradient sequences (per thread). */
export const CHUNK_BYTES = 96 * 2 ** 20;

/** Most loss terms in one chunk. */
const MAX_CHUNK_ROWS = 256;

/**
 * What the recursion reads of one sequence: each layer and direction's forward trace (model.layers order, own
 * time order; whole, or windows recomputed from checkpoints) and the loss seeds ∂ε_t/∂y_t of the top layer
 * (T × its width, both directions side by side). network.ts's SequenceForward is one.
 */
export interface LagSequence {
  traces: (Trace | StepTraces)[];
  seeds: Float64Array | StepSeeds;
}

/** Seeds held whole (a bidirectional stack's: block/streamed.ts streams only unidirectional stacks). */
function wholeSeeds(seeds: Float64Array | StepSeeds): Float64Array {
  if ('seedsAt' in seeds) throw new Error('a bidirectional stack needs its loss seeds whole');
  return seeds;
}

/** One sequence's lag pairs for any stack: what accumulateSequenceLags works on and where it adds. */
export interface SequenceLagJob {
  shape: StackShape;
  /** One cell per layer and direction (model.layers order); their product may be a GEMM kernel. */
  cells: Cell[];
  fwd: LagSequence;
  maxLag: number;
  /** One LagStats (or other sink) per layer and direction (model.layers order). */
  stats: LagSink[];
  /** step(units) with this sequence's work done so far, in the units of sequenceLagWork. */
  hooks: LagHooks;
  heatmap?: HeatmapCollector | null;
  safeExponent?: number;
  /** The loss terms (columns t) to collect (default: all). */
  subset?: ColumnSubset;
  /** Memory bound of the chunked recursion (default CHUNK_BYTES, or rowBytes when smaller). */
  chunkBytes?: number;
  /** Bytes the pending rows of a one-sweep recursion may hold (lags.ts LagAccumulation.rowBytes). */
  rowBytes?: number;
}

/** Adds one sequence's pairs to the statistics. Returns true when some norm was not finite (left out). */
export function accumulateSequenceLags(job: SequenceLagJob): boolean {
  const { shape, fwd } = job;
  if (shape.directions === 1) {
    return accumulateLags({ ...job, traces: fwd.traces, seeds: fwd.seeds });
  }
  if (shape.layers === 1) return oneBidirectionalLayer(job);
  return chunkedStackLags(job);
}

/** The two independent directions of a one-layer bidirectional stack, one recursion each. */
function oneBidirectionalLayer(job: SequenceLagJob): boolean {
  const { cells, fwd, maxLag, subset } = job;
  const T = fwd.traces[0].length;
  const R = cells[0].outputSize;
  let nonFinite = false;
  let before = 0;
  for (let d = 0; d < 2; d++) {
    const seeds = new Float64Array(T * R);
    for (let tau = 0; tau < T; tau++) {
      const t = d === 0 ? tau : T - 1 - tau;
      seeds.set(wholeSeeds(fwd.seeds).subarray(t * 2 * R + d * R, t * 2 * R + d * R + R), tau * R);
    }
    const offset = before;
    nonFinite =
      accumulateLags({
        ...job,
        cells: [cells[d]],
        traces: [fwd.traces[d]],
        seeds,
        stats: [job.stats[d]],
        reversed: d === 1,
        heatmapLayers: [d],
        hooks: { step: (rows) => job.hooks.step(offset + rows) },
      }) || nonFinite;
    before += lagWorkOf(T, maxLag, d === 1 && subset ? mirrorSubset(subset, T) : subset);
  }
  return nonFinite;
}

/**
 * Work of one sequence's lag pairs, in row-steps of the whole stack (a row through every layer for one
 * step; a bidirectional stack counts each direction's row-steps, divided by the number of layers).
 */
export function sequenceLagWork(shape: StackShape, T: number, maxLag: number, subset?: ColumnSubset): number {
  if (shape.directions === 1) return lagWorkOf(T, maxLag, subset);
  const L = Math.min(maxLag, T - 1);
  if (shape.layers === 1) {
    return lagWorkOf(T, maxLag, subset) + lagWorkOf(T, maxLag, subset ? mirrorSubset(subset, T) : undefined);
  }
  let units = 0;
  for (let t = 0; t < T; t++) {
    if (!inSubset(t, subset)) continue;
    units += columnUnits(shape.layers, T, L, t);
  }
  return units / shape.layers;
}

/** Work of column t (loss term ε_t) of a sequence of length T, in the units of sequenceLagWork. */
export function columnWork(shape: StackShape, T: number, maxLag: number, t: number): number {
  const L = Math.min(maxLag, T - 1);
  if (shape.directions === 1) return Math.min(t, L) + 1;
  if (shape.layers === 1) return Math.min(t, L) + Math.min(T - 1 - t, L) + 2;
  return columnUnits(shape.layers, T, L, t) / shape.layers;
}

/** Layer-direction row-steps of column t in a bidirectional stack of K ≥ 2 layers (see chunkedStackLags). */
function columnUnits(K: number, T: number, L: number, t: number): number {
  const top = T + 1; // forward t + 1 steps, reverse T − t
  const middle = 2 * T * (K - 2);
  const bottom = T - Math.max(0, t - L) + (T - Math.max(0, T - 1 - t - L));
  return top + middle + bottom;
}

/** Per-direction sweep buffers, for the rows of a chunk. */
interface SweepBuffers {
  cur: Float64Array;
  nxt: Float64Array;
  curExp: Float64Array;
  nxtExp: Float64Array;
  input: Float64Array;
  contribution: Float64Array;
  norms: Float64Array;
}

/** The gradient sequences handed between layers: rows × T × width, one exponent per row and step. */
interface GradSequences {
  values: Float64Array;
  exps: Float64Array;
}

/** The chunked recursion of a bidirectional stack of K ≥ 2 layers (see the file comment). */
function chunkedStackLags(job: SequenceLagJob): boolean {
  const { cells, fwd, shape, subset } = job;
  const T = fwd.traces[0].length;
  const K = shape.layers;
  const R = cells[0].outputSize;
  const W = 2 * R;
  const columns: number[] = [];
  for (let t = T - 1; t >= 0; t--) if (inSubset(t, subset)) columns.push(t);
  const rowsPerChunk = Math.max(
    1,
    Math.min(
      MAX_CHUNK_ROWS,
      columns.length,
      Math.floor((job.chunkBytes ?? Math.min(CHUNK_BYTES, job.rowBytes ?? Infinity)) / (16 * T * (W + 1))),
    ),
  );
  const m = rowsPerChunk;
  let above: GradSequences = { values: new Float64Array(m * T * W), exps: new Float64Array(m * T) };
  let below: GradSequences = { values: new Float64Array(m * T * W), exps: new Float64Array(m * T) };
  const sweepBuffers = cells.map((c): SweepBuffers => ({
    cur: new Float64Array(m * c.stateSize),
    nxt: new Float64Array(m * c.stateSize),
    curExp: new Float64Array(m),
    nxtExp: new Float64Array(m),
    input: new Float64Array(m * c.inputSize),
    contribution: new Float64Array(m),
    norms: new Float64Array(m),
  }));
  const L = Math.min(job.maxLag, T - 1);
  let nonFinite = false;
  let units = 0;
  for (let c0 = 0; c0 < columns.length; c0 += m) {
    const chunk = columns.slice(c0, c0 + m);
    for (let k = K - 1; k >= 0; k--) {
      if (k > 0) {
        below.values.fill(0, 0, chunk.length * T * W);
        below.exps.fill(0, 0, chunk.length * T);
      }
      for (let d = 0; d < 2; d++) {
        const idx = 2 * k + d;
        const sweep: Sweep = {
          cell: cells[idx],
          idx,
          d,
          top: k === K - 1,
          bottom: k === 0,
          chunk,
          T,
          L,
          W,
          above,
          below: k > 0 ? below : null,
          buffers: sweepBuffers[idx],
          units,
        };
        nonFinite = sweepDirection(job, sweep) || nonFinite;
        for (const t of chunk) units += directionUnits(sweep, t);
      }
      [above, below] = [below, above];
    }
  }
  return nonFinite;
}

/** One direction's sweep over a chunk. */
interface Sweep {
  cell: Cell;
  /** Index of the layer and direction (model.layers order). */
  idx: number;
  /** 0 forward, 1 reverse. */
  d: number;
  top: boolean;
  bottom: boolean;
  /** The chunk's columns t, descending. */
  chunk: number[];
  T: number;
  L: number;
  /** Width of each layer's output (both directions). */
  W: number;
  /** ∂ε_t/∂y of this layer (unused on the top layer, which starts from the loss seeds). */
  above: GradSequences;
  /** Where ∂ε_t/∂y of the layer below is added (null on the bottom layer). */
  below: GradSequences | null;
  buffers: SweepBuffers;
  /** Work units done before this sweep (for progress). */
  units: number;
}

/** Row-steps of column t in one sweep. */
function directionUnits(s: Sweep, t: number): number {
  const tauT = s.d === 0 ? t : s.T - 1 - t;
  if (s.top) return tauT + 1;
  if (s.bottom) return s.T - Math.max(0, tauT - s.L);
  return s.T;
}

/**
 * One direction of one layer swept over the chunk in its own backward order τ = T−1 … 0 (sequence step
 * j = τ forward, T−1−τ reverse). The rows are the chunk's columns ordered by τ_t descending; on the top layer a
 * row enters at τ = τ_t with its loss seed, elsewhere every row runs from τ = T−1 with the gradients from
 * above; on the bottom layer a row leaves once its lag would exceed L.
 */
function sweepDirection(job: SequenceLagJob, s: Sweep): boolean {
  const { cell, idx, d, T, L, W, chunk, buffers: b } = s;
  const source = stepTracesOf(job.fwd.traces[idx]);
  const topSeeds = wholeSeeds(job.fwd.seeds);
  const stats = job.stats[idx];
  const heatmap = job.heatmap ?? null;
  const safe = job.safeExponent ?? 200;
  const range = { big: 2 ** safe, small: 2 ** -safe };
  const S = cell.stateSize;
  const R = cell.outputSize;
  const I = cell.inputSize;
  const m = chunk.length;
  // Rows by τ_t descending: the chunk order forward, reversed for the reverse direction.
  const order = Int32Array.from({ length: m }, (_, i) => (d === 0 ? i : m - 1 - i));
  const tauOf = (row: number): number => (d === 0 ? chunk[row] : T - 1 - chunk[row]);
  let lo = 0;
  let hi = s.top ? 0 : m;
  if (!s.top) {
    b.cur.fill(0, 0, m * S);
    b.curExp.fill(0, 0, m);
  }
  let nonFinite = false;
  let rowsDone = 0;
  for (let tau = T - 1; tau >= 0; tau--) {
    const j = d === 0 ? tau : T - 1 - tau;
    if (s.top) {
      while (hi < m && tauOf(order[hi]) === tau) {
        const r = hi - lo;
        b.cur.fill(0, r * S, (r + 1) * S);
        b.curExp[r] = 0;
        const seedOff = chunk[order[hi]] * W + d * R;
        for (let h = 0; h < R; h++) b.cur[r * S + h] = topSeeds[seedOff + h];
        hi++;
      }
    } else {
      addFromAbove(s, b, order, lo, hi - lo, j, R, S);
    }
    const n = hi - lo;
    if (n === 0) continue;
    const G = b.cur;
    const trace = source.seek(tau);
    const local = tau - source.offset;
    rescaleRows(G, b.curExp, S, n, range);
    cell.completeState(trace, local, G, n);
    rowNormsOf(G, S, n, b.norms);
    for (let r = 0; r < n; r++) {
      const lag = tauOf(order[lo + r]) - tau;
      if (lag < 0 || lag > L) continue;
      const norm = b.norms[r];
      if (!Number.isFinite(norm)) {
        nonFinite = true;
        continue;
      }
      stats.add(lag, norm, b.curExp[r], chunk[order[lo + r]]);
      if (heatmap) heatmap.add(idx, chunk[order[lo + r]], j, log10Of(norm, b.curExp[r]));
    }
    // On the bottom layer the first row (largest τ_t) leaves when its lag would exceed L one step back.
    const prevFrom = s.bottom && tau > 0 && tauOf(order[lo]) - (tau - 1) > L ? 1 : 0;
    cell.backStep(trace, local, G, n, {
      prev: tau > 0 ? b.nxt : null,
      prevFrom,
      input: s.below ? b.input : null,
      contribution: b.contribution,
      grads: null,
    });
    for (let r = 0; r < n; r++) {
      const lag = tauOf(order[lo + r]) - tau;
      const c = b.contribution[r];
      if (lag >= 0 && lag <= L && Number.isFinite(c)) stats.addContribution(lag, c, b.curExp[r], chunk[order[lo + r]]);
    }
    if (s.below) addToBelow(s.below, b, order, lo, n, j, T, I);
    if (tau > 0) {
      b.nxtExp.set(b.curExp.subarray(prevFrom, n));
      [b.cur, b.nxt] = [b.nxt, b.cur];
      [b.curExp, b.nxtExp] = [b.nxtExp, b.curExp];
      lo += prevFrom;
    }
    rowsDone += n;
    job.hooks.step((s.units + rowsDone) / job.shape.layers);
  }
  return nonFinite;
}

/** Adds ∂ε_t/∂y^k_j (this direction's R columns) of each active row from the layer above into its state gradient. */
function addFromAbove(
  s: Sweep,
  b: SweepBuffers,
  order: Int32Array,
  lo: number,
  n: number,
  j: number,
  R: number,
  S: number,
): void {
  const { above, T, W, d } = s;
  const G = b.cur;
  for (let r = 0; r < n; r++) {
    const row = order[lo + r];
    const at = row * T + j;
    const srcOff = at * W + d * R;
    const srcExp = above.exps[at];
    let zero = true;
    for (let i = srcOff; i < srcOff + R; i++) {
      if (above.values[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) continue;
    alignedAdd(G, r * S, S, b.curExp, r, above.values, srcOff, R, srcExp);
  }
}

/** Adds each active row's input gradient (I wide, the row's exponent) into the sequences handed below. */
function addToBelow(
  below: GradSequences,
  b: SweepBuffers,
  order: Int32Array,
  lo: number,
  n: number,
  j: number,
  T: number,
  I: number,
): void {
  for (let r = 0; r < n; r++) {
    const at = order[lo + r] * T + j;
    alignedAdd(below.values, at * I, I, below.exps, at, b.input, r * I, I, b.curExp[r]);
  }
}

/**
 * dst[dOff .. dOff+dWidth) (exponent dExp[dAt]) += src[sOff .. sOff+sWidth) · 2^(sExp − dExp), into the first
 * sWidth entries, re-basing the destination to the larger exponent (as lags.ts addAligned does for whole rows).
 */
function alignedAdd(
  dst: Float64Array,
  dOff: number,
  dWidth: number,
  dExp: Float64Array,
  dAt: number,
  src: Float64Array,
  sOff: number,
  sWidth: number,
  sExp: number,
): void {
  let dstZero = true;
  for (let i = dOff; i < dOff + dWidth; i++) {
    if (dst[i] !== 0) {
      dstZero = false;
      break;
    }
  }
  if (dstZero) {
    for (let i = 0; i < sWidth; i++) dst[dOff + i] = src[sOff + i];
    dExp[dAt] = sExp;
    return;
  }
  const delta = sExp - dExp[dAt];
  if (delta > 0) {
    const f = 2 ** -delta;
    for (let i = dOff; i < dOff + dWidth; i++) dst[i] *= f;
    dExp[dAt] = sExp;
    for (let i = 0; i < sWidth; i++) dst[dOff + i] += src[sOff + i];
  } else {
    const f = 2 ** delta;
    for (let i = 0; i < sWidth; i++) dst[dOff + i] += src[sOff + i] * f;
  }
}
