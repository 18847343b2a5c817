// The lag table of a unidirectional stack (or of one direction of a one-layer bidirectional stack):
// ‖∂ε_{b,t}/∂s_j‖ for every layer, sequence and t ≥ j (t − j ≤ maxLag), by one batched backward recursion
// per sequence. The gradients of all pending loss terms ε_t are the rows of one matrix, so each time step
// costs one matrix product per layer. Each row carries its own power-of-two exponent, so norms far outside
// the double range keep exact logarithms. A reverse direction runs in its own time order (its step τ is the
// sequence's step T−1−τ), where its pairs t ≤ j are pairs τ_t ≥ τ_j with lag τ_t − τ_j = j − t.
// Bidirectional stacks of several layers take the chunked recursion of stackLags.ts.
import type { Cell, Trace } from './cells/cell';
import type { HeatmapCollector } from './heatmap';
import { log10Of } from './logscale';

/** Progress and cancellation hooks of the recursion. */
export interface LagHooks {
  /** Called after each time step with the number of row-steps done in this sequence. */
  step(rowsDone: number): void;
}

/** Reusable buffers of one layer. */
interface LayerBuffers {
  cur: Float64Array;
  nxt: Float64Array;
  curExp: Float64Array;
  nxtExp: Float64Array;
  input: Float64Array;
  inputExp: Float64Array;
  contribution: Float64Array;
  norms: Float64Array;
}

/** Number of row-steps the recursion takes for a sequence of this length: Σ_j (rows at j) per layer. */
export function lagWork(length: number, maxLag: number): number {
  const L = Math.min(maxLag, length - 1);
  // Σ_{j=0}^{T−1} (min(T−1, j+L) − j + 1)
  return length * (L + 1) - (L * (L + 1)) / 2;
}

/**
 * A subset of the loss terms (columns t) of the lag table: the t with (t − offset) mod stride < width
 * (width 1 when not given). Columns are independent (each only reads the forward trace), so threads can
 * run the recursion for disjoint subsets and merge their statistics; interleaving t balances the work.
 */
export interface ColumnSubset {
  stride: number;
  offset: number;
  width?: number;
  /** An explicit set of columns instead (mask[t] = 1; a sampled table, lagSample.ts): overrides the pattern. */
  mask?: Uint8Array;
}

/** Where the recursion puts each pair: LagStats (exact tables) or a sampled table's sums (lagSample.ts). */
export interface LagSink {
  /** Adds one pair's norm m·2^e at this lag; t is the pair's column (its loss term's step). */
  add(lag: number, m: number, e: number, t: number): void;
  /** Adds one pair's temporal contribution m·2^e at this lag. */
  addContribution(lag: number, m: number, e: number, t: number): void;
}

/** Whether column t belongs to the subset. */
export function inSubset(t: number, subset: ColumnSubset | undefined): boolean {
  if (!subset) return true;
  if (subset.mask) return subset.mask[t] === 1;
  return (((t - subset.offset) % subset.stride) + subset.stride) % subset.stride < (subset.width ?? 1);
}

/**
 * The subset of recursion columns τ = T−1−t for a subset of sequence steps t (a reverse direction): t is in
 * the subset when (t − offset) mod stride < width, i.e. τ when (τ − (T−1−offset−width+1)) mod stride < width.
 */
export function mirrorSubset(subset: ColumnSubset, T: number): ColumnSubset {
  if (subset.mask) {
    const mask = new Uint8Array(T);
    for (let t = 0; t < T; t++) mask[T - 1 - t] = subset.mask[t] ?? 0;
    return { stride: 1, offset: 0, mask };
  }
  const width = subset.width ?? 1;
  return { stride: subset.stride, offset: T - subset.offset - width, width };
}

/** Row-steps of a subset's columns: column t takes min(t, L) + 1 steps (j = t − L … t). */
export function lagWorkOf(length: number, maxLag: number, subset?: ColumnSubset): number {
  if (!subset) return lagWork(length, maxLag);
  const L = Math.min(maxLag, length - 1);
  let work = 0;
  for (let t = 0; t < length; t++) if (inSubset(t, subset)) work += Math.min(t, L) + 1;
  return work;
}

/** One sequence's share of the lag table: what accumulateLags works on and where it adds. */
export interface LagAccumulation {
  /** The cells of the recursion, one per layer (their matrix product may be a GEMM kernel). */
  cells: Cell[];
  /** The cells' forward traces of the sequence, in the recursion's time order. */
  traces: Trace[];
  /** ∂ε_t/∂y_t of the top cell's output for each step (T × its outputSize), in the recursion's time order. */
  seeds: Float64Array;
  /** The recursion runs in reversed time: its step τ is the sequence's step T−1−τ (a reverse direction). */
  reversed?: boolean;
  /** The heatmap layer of each cell (default: its index). */
  heatmapLayers?: number[];
  /** Longest lag collected. */
  maxLag: number;
  /** One LagStats (or other sink) per layer; the sequence's pairs are added to them. */
  stats: LagSink[];
  hooks: LagHooks;
  /** This sequence's (t, j) map, when one is collected. */
  heatmap?: HeatmapCollector | null;
  /** log2 of the largest magnitude the product handles without loss (MatMul.safeExponent; default 200). */
  safeExponent?: number;
  /** The columns t to collect (default: all). */
  subset?: ColumnSubset;
}

/**
 * Adds one sequence's pairs to `stats` (one LagStats per layer), for the columns t of `subset` (all by
 * default). Returns true when some norm was not finite (those pairs are left out).
 */
export function accumulateLags(job: LagAccumulation): boolean {
  const { cells, traces, seeds, maxLag, stats, hooks, heatmap = null, safeExponent = 200, reversed = false } = job;
  const range = { big: 2 ** safeExponent, small: 2 ** -safeExponent };
  const T = traces[0].length;
  const L = Math.min(maxLag, T - 1);
  const top = cells.length - 1;
  const H = cells[top].outputSize;
  // Column subsets name the sequence's steps t; in reversed time the recursion's column τ is t = T−1−τ.
  const subset = job.subset && reversed ? mirrorSubset(job.subset, T) : job.subset;
  const at = (tau: number): number => (reversed ? T - 1 - tau : tau);
  const mapLayer = job.heatmapLayers ?? cells.map((_, k) => k);
  const cap = rowCapacity(T, L, subset);
  const buffers = layerBuffers(cells, cap);
  // The t of each row (rows in descending t; the new column t = j, when in the subset, is the last row).
  let rowT = new Int32Array(cap);
  let nextRowT = new Int32Array(cap);
  let carried = 0;
  let nonFinite = false;
  let rowsDone = 0;
  for (let j = T - 1; j >= 0; j--) {
    let n = carried;
    if (inSubset(j, subset)) rowT[n++] = j;
    if (n === 0) {
      hooks.step(rowsDone);
      continue;
    }
    // The first row (largest t) leaves the table when its lag would exceed L one step back.
    const prevFrom = j > 0 && rowT[0] - (j - 1) > L ? 1 : 0;
    for (let k = top; k >= 0; k--) {
      const cell = cells[k];
      const S = cell.stateSize;
      const b = buffers[k];
      const G = b.cur;
      // Row n−1 is the newest column (t = j when in the subset).
      if (rowT[n - 1] === j) {
        G.fill(0, (n - 1) * S, n * S);
        b.curExp[n - 1] = 0;
      }
      if (k === top) {
        if (rowT[n - 1] === j) for (let h = 0; h < H; h++) G[(n - 1) * S + h] = seeds[j * H + h];
      } else {
        const above = buffers[k + 1];
        addAligned(G, b.curExp, S, above.input, above.inputExp, cell.outputSize, n);
      }
      // Rows are rescaled before completeState, so that backStep may reuse what completeState computed.
      rescaleRows(G, b.curExp, S, n, range);
      cell.completeState(traces[k], j, G, n);
      rowNormsOf(G, S, n, b.norms);
      for (let r = 0; r < n; r++) {
        const lag = rowT[r] - j;
        const m = b.norms[r];
        if (!Number.isFinite(m)) {
          nonFinite = true;
          continue;
        }
        stats[k].add(lag, m, b.curExp[r], at(rowT[r]));
        if (heatmap) heatmap.add(mapLayer[k], at(rowT[r]), at(j), log10Of(m, b.curExp[r]));
      }
      cell.backStep(traces[k], j, G, n, {
        prev: j > 0 ? b.nxt : null,
        prevFrom,
        input: k > 0 ? b.input : null,
        contribution: b.contribution,
        grads: null,
      });
      for (let r = 0; r < n; r++) {
        const c = b.contribution[r];
        if (Number.isFinite(c)) stats[k].addContribution(rowT[r] - j, c, b.curExp[r], at(rowT[r]));
      }
      if (k > 0) b.inputExp.set(b.curExp.subarray(0, n));
      if (j > 0) {
        b.nxtExp.set(b.curExp.subarray(prevFrom, n));
        [b.cur, b.nxt] = [b.nxt, b.cur];
        [b.curExp, b.nxtExp] = [b.nxtExp, b.curExp];
      }
      if (k > 0) hooks.step(rowsDone + n * ((top - k + 1) / (top + 1)));
    }
    carried = n - prevFrom;
    nextRowT.set(rowT.subarray(prevFrom, n));
    [rowT, nextRowT] = [nextRowT, rowT];
    rowsDone += n;
    hooks.step(rowsDone);
  }
  return nonFinite;
}

/** The most rows the recursion holds at once: the subset's columns within any window t ∈ [j, j + L]. */
function rowCapacity(T: number, L: number, subset: ColumnSubset | undefined): number {
  if (!subset) return L + 1;
  let cap = 0;
  let inWindow = 0;
  for (let j = T - 1; j >= 0; j--) {
    if (inSubset(j, subset)) inWindow++;
    if (j + L + 1 < T && inSubset(j + L + 1, subset)) inWindow--;
    cap = Math.max(cap, inWindow);
  }
  return cap;
}

/** Each layer's buffers for `cap` rows. */
function layerBuffers(cells: Cell[], cap: number): LayerBuffers[] {
  return cells.map((c) => ({
    cur: new Float64Array(cap * c.stateSize),
    nxt: new Float64Array(cap * c.stateSize),
    curExp: new Float64Array(cap),
    nxtExp: new Float64Array(cap),
    input: new Float64Array(cap * c.inputSize),
    inputExp: new Float64Array(cap),
    contribution: new Float64Array(cap),
    norms: new Float64Array(cap),
  }));
}

/** Rescales rows whose largest entry left [range.small, range.big] to about 1, moving the scale to exp. */
export function rescaleRows(
  G: Float64Array,
  exp: Float64Array,
  width: number,
  rows: number,
  range: { big: number; small: number },
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * width;
    let max = 0;
    for (let i = off; i < off + width; i++) {
      const a = Math.abs(G[i]);
      if (a > max) max = a;
    }
    if (max === 0 || !Number.isFinite(max) || (max < range.big && max > range.small)) continue;
    const e = Math.floor(Math.log2(max));
    // Two factors, so that 2^−e never overflows for subnormal rows.
    const half = Math.trunc(e / 2);
    const f1 = 2 ** -half;
    const f2 = 2 ** (half - e);
    for (let i = off; i < off + width; i++) G[i] = G[i] * f1 * f2;
    exp[r] += e;
  }
}

/** Writes the Euclidean norm of each row of G (rows × width) into norms. */
export function rowNormsOf(G: Float64Array, width: number, rows: number, norms: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = r * width, e = i + width; i < e; i++) ss += G[i] * G[i];
    norms[r] = Math.sqrt(ss);
  }
}

/**
 * Adds rows src (rows × srcWidth, exponents srcExp) into the first srcWidth entries of the rows of
 * dst (rows × dstWidth, exponents dstExp), aligning each pair of rows to the larger exponent.
 */
export function addAligned(
  dst: Float64Array,
  dstExp: Float64Array,
  dstWidth: number,
  src: Float64Array,
  srcExp: Float64Array,
  srcWidth: number,
  rows: number,
): void {
  for (let r = 0; r < rows; r++) {
    const d = r * dstWidth;
    const s = r * srcWidth;
    let dstZero = true;
    for (let i = d; i < d + dstWidth; i++) {
      if (dst[i] !== 0) {
        dstZero = false;
        break;
      }
    }
    if (dstZero) {
      for (let i = 0; i < srcWidth; i++) dst[d + i] = src[s + i];
      dstExp[r] = srcExp[r];
      continue;
    }
    const delta = srcExp[r] - dstExp[r];
    if (delta > 0) {
      const f = 2 ** -delta;
      for (let i = d; i < d + dstWidth; i++) dst[i] *= f;
      dstExp[r] = srcExp[r];
      for (let i = 0; i < srcWidth; i++) dst[d + i] += src[s + i];
    } else {
      const f = 2 ** delta;
      for (let i = 0; i < srcWidth; i++) dst[d + i] += src[s + i] * f;
    }
  }
}
