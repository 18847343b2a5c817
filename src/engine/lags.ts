// The lag table of a unidirectional stack (or of one direction of a one-layer bidirectional stack):
// ‖∂ε_{b,t}/∂s_j‖ for every layer, sequence and t ≥ j (t − j ≤ maxLag), by one batched backward recursion
// per sequence. The gradients of all pending loss terms ε_t are the rows of one matrix, so each time step
// costs one matrix product per layer. Each row carries its own power-of-two exponent, so norms far outside
// the double range keep exact logarithms. A reverse direction runs in its own time order (its step τ is the
// sequence's step T−1−τ), where its pairs t ≤ j are pairs τ_t ≥ τ_j with lag τ_t − τ_j = j − t.
// Bidirectional stacks of several layers take the chunked recursion of stackLags.ts.
import type { Cell, LagStepArgs, Trace } from './cells/cell';
import type { HeatmapCollector } from './heatmap';
import { log10Of, rescaleRow } from './logscale';

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
  /** The step's arguments (Cell.lagStep) and backStep's outputs: one per walk, updated per step. */
  step: LagStepArgs;
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

/**
 * A cell's forward trace as the backward walk reads it: `seek(j)` returns a trace holding step j (and j − 1 when
 * j > 0) at the local index j − offset. Either the whole trace (offset 0) or windows recomputed from checkpoints
 * (block/lagWindows.ts) when the whole trace would not fit the memory budget. Walks go backwards in j, so each
 * window is recomputed once per walk.
 */
export interface StepTraces {
  /** Steps of the whole sequence. */
  readonly length: number;
  /** Global step of the last seek's trace's step 0. */
  readonly offset: number;
  seek(j: number): Trace;
}

/**
 * The loss seeds as the backward walk reads them when they are not held whole: `seedsAt(j)` returns ∂ε_j/∂y_j
 * (the top cell's outputSize entries), from windows recomputed from checkpoints (block/streamed.ts).
 */
export interface StepSeeds {
  seedsAt(j: number): Float64Array;
}

/** A whole trace as StepTraces. */
export function wholeTrace(trace: Trace): StepTraces {
  return { length: trace.length, offset: 0, seek: () => trace };
}

/** StepTraces of a whole trace, or the given StepTraces. */
export function stepTracesOf(trace: Trace | StepTraces): StepTraces {
  return 'seek' in trace ? trace : wholeTrace(trace);
}

/**
 * Float64 entries the recursion holds per pending row, for cells of these widths: two state buffers, the input
 * gradient, the exponents, norms and contribution, the cells' own scratch (gate gradients), and a kernel
 * product's copies of its operands.
 */
export function lagRowEntries(cells: readonly Pick<Cell, 'stateSize' | 'inputSize' | 'gateRows'>[]): number {
  return cells.reduce((a, c) => a + 4 * c.stateSize + c.inputSize + 3 * c.gateRows + 6, 1);
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
  /** The cells' forward traces of the sequence (whole, or windows from checkpoints), in the recursion's time order. */
  traces: (Trace | StepTraces)[];
  /**
   * ∂ε_t/∂y_t of the top cell's output for each step (T × its outputSize), in the recursion's time order; or read
   * step by step from windows (StepSeeds).
   */
  seeds: Float64Array | StepSeeds;
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
  /**
   * Bytes the pending rows may hold (default: no bound). When all of the subset's pending rows would hold more,
   * its columns are split into interleaved passes that each fit (the same pairs, each walk with fewer rows).
   */
  rowBytes?: number;
}

/**
 * Adds one sequence's pairs to `stats` (one LagStats per layer), for the columns t of `subset` (all by
 * default). Returns true when some norm was not finite (those pairs are left out).
 */
export function accumulateLags(job: LagAccumulation): boolean {
  const T = job.traces[0].length;
  const L = Math.min(job.maxLag, T - 1);
  // Column subsets name the sequence's steps t; in reversed time the recursion's column τ is t = T−1−τ.
  const subset = job.subset && job.reversed ? mirrorSubset(job.subset, T) : job.subset;
  const passes = columnPasses(T, L, subset, 8 * lagRowEntries(job.cells), job.rowBytes ?? Infinity);
  if (passes === null) return accumulatePass(job, subset, 0);
  let nonFinite = false;
  let rowsBefore = 0;
  for (const pass of passes) {
    nonFinite = accumulatePass(job, pass, rowsBefore) || nonFinite;
    rowsBefore += lagWorkOf(T, L, pass);
  }
  return nonFinite;
}

/**
 * The subset's columns (recursion order) in interleaved passes whose pending rows each fit `budget` bytes at
 * `bytesPerRow`, or null when one pass fits.
 */
function columnPasses(
  T: number,
  L: number,
  subset: ColumnSubset | undefined,
  bytesPerRow: number,
  budget: number,
): ColumnSubset[] | null {
  const cap = rowCapacity(T, L, subset);
  const fit = Math.max(1, Math.floor(budget / bytesPerRow));
  if (cap <= fit) return null;
  // Every P-th column of the subset goes to the same pass: a window of L + 1 steps then holds at most
  // ⌈cap / P⌉ of them.
  const P = Math.ceil(cap / fit);
  const masks = Array.from({ length: P }, () => new Uint8Array(T));
  let i = 0;
  for (let t = T - 1; t >= 0; t--) if (inSubset(t, subset)) masks[i++ % P][t] = 1;
  return masks.map((mask) => ({ stride: 1, offset: 0, mask }));
}

/** One walk of the recursion over the columns of `subset` (already in the recursion's time order). */
function accumulatePass(job: LagAccumulation, subset: ColumnSubset | undefined, rowsBefore: number): boolean {
  const { cells, seeds, maxLag, stats, hooks, heatmap = null, safeExponent = 200, reversed = false } = job;
  const sources = job.traces.map(stepTracesOf);
  const wholeSeeds = 'seedsAt' in seeds ? null : seeds;
  const range = { big: 2 ** safeExponent, small: 2 ** -safeExponent };
  const T = sources[0].length;
  const L = Math.min(maxLag, T - 1);
  const top = cells.length - 1;
  const H = cells[top].outputSize;
  const at = (tau: number): number => (reversed ? T - 1 - tau : tau);
  const mapLayer = job.heatmapLayers ?? cells.map((_, k) => k);
  const cap = rowCapacity(T, L, subset);
  const buffers = layerBuffers(cells, cap, range);
  // The walk ends below the subset's lowest column once no row is pending.
  let lowest = 0;
  if (subset) {
    lowest = T;
    for (let t = 0; t < T; t++) {
      if (inSubset(t, subset)) {
        lowest = t;
        break;
      }
    }
  }
  // The t of each row (rows in descending t; the new column t = j, when in the subset, is the last row).
  let rowT = new Int32Array(cap);
  let nextRowT = new Int32Array(cap);
  let carried = 0;
  let nonFinite = false;
  let rowsDone = rowsBefore;
  for (let j = T - 1; j >= 0; j--) {
    let n = carried;
    if (inSubset(j, subset)) rowT[n++] = j;
    if (n === 0) {
      if (j < lowest) break;
      hooks.step(rowsDone);
      continue;
    }
    // The first row (largest t) leaves the table when its lag would exceed L one step back.
    const prevFrom = j > 0 && rowT[0] - (j - 1) > L ? 1 : 0;
    for (let k = top; k >= 0; k--) {
      const cell = cells[k];
      const S = cell.stateSize;
      const b = buffers[k];
      const trace = sources[k].seek(j);
      const local = j - sources[k].offset;
      const G = b.cur;
      // Row n−1 is the newest column (t = j when in the subset).
      if (rowT[n - 1] === j) {
        G.fill(0, (n - 1) * S, n * S);
        b.curExp[n - 1] = 0;
      }
      if (k === top) {
        if (rowT[n - 1] === j) {
          const seed = wholeSeeds ?? (seeds as StepSeeds).seedsAt(j);
          const from = wholeSeeds ? j * H : 0;
          for (let h = 0; h < H; h++) G[(n - 1) * S + h] = seed[from + h];
        }
      } else {
        const above = buffers[k + 1];
        addAligned(G, b.curExp, S, above.input, above.inputExp, cell.outputSize, n);
      }
      const step = b.step;
      step.j = local;
      step.G = G;
      step.exp = b.curExp;
      step.rows = n;
      step.out.prev = j > 0 ? b.nxt : null;
      step.out.prevFrom = prevFrom;
      // The cell's fused step when it has one; otherwise its parts. Rows are rescaled before completeState, so
      // that backStep may reuse what completeState computed. backStep changes neither the norms nor exponents.
      if (!cell.lagStep?.(trace, step)) {
        rescaleRows(G, b.curExp, S, n, range);
        cell.completeState(trace, local, G, n);
        rowNormsOf(G, S, n, b.norms);
        cell.backStep(trace, local, G, n, step.out);
      }
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

/**
 * Each layer's buffers for `cap` rows. Its step's outputs hold what stays for the walk: the input gradient (every
 * layer but the lowest) and the contributions; the rest is set per step.
 */
function layerBuffers(cells: Cell[], cap: number, range: { big: number; small: number }): LayerBuffers[] {
  return cells.map((c, k) => {
    const cur = new Float64Array(cap * c.stateSize);
    const curExp = new Float64Array(cap);
    const input = new Float64Array(cap * c.inputSize);
    const contribution = new Float64Array(cap);
    const norms = new Float64Array(cap);
    const out = { prev: null, prevFrom: 0, input: k > 0 ? input : null, contribution, grads: null };
    return {
      cur,
      nxt: new Float64Array(cap * c.stateSize),
      curExp,
      nxtExp: new Float64Array(cap),
      input,
      inputExp: new Float64Array(cap),
      contribution,
      norms,
      step: { j: 0, G: cur, exp: curExp, rows: 0, range, norms, out },
    };
  });
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
    exp[r] += rescaleRow(G, off, width, max, range);
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
