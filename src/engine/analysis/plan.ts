// The work plan of one analysis, decided before any sequence runs: which lags each pass collects (long runs
// take a quick short-lag pass first, for a partial report), whether the full lag table's columns are split
// across threads and how, which cells and matrix product each part uses, and the total work for progress.
import { buildCells } from '../cells';
import type { Cell } from '../cells/cell';
import { heatmapCollectorFor, type HeatmapCollector, type HeatmapRequest } from '../heatmap';
import { lagFlopsPerRow, SPLIT_MIN_FLOPS, type LagJob, type LagSplitter } from '../lagShare';
import { ChunkClaims, chunkLayoutOf, CHUNK_MIN_FLOPS, newChunkShared } from '../lagChunks';
import { newSpectraShared, SpectraClaims } from '../spectraTasks';
import { sequenceLagWork, stackShapeOf, type StackShape } from '../stackLags';
import { LossFunction } from '../loss';
import { DEFAULT_TRACE_BYTES, estimateAnalysisBytes, MAX_ANALYSIS_BYTES } from '../memory';
import { GATES, type Model } from '../model/types';
import { computedMaxLag, DEFAULT_THRESHOLDS, VERDICT_LAGS, type RegimeThresholds } from '../regime';
import { DEFAULT_LAG_SEED, drawLagSample, sampleSubset, type LagSample } from '../lagSample';
import type { AnalyzeOptions } from './options';
import { plainMatMul, type MatMul } from '../matmul';
import { buildBlockCells, blockEntriesPerStep, keptEntriesPerStep } from '../block/network';
import { streamsInSegments } from '../block/streamed';
import type { BlockCell } from '../block/blockCell';

export { DEFAULT_TRACE_BYTES } from '../memory';

/** Most sequences in one block (larger blocks gain little in the products and cost cache). */
export const MAX_BLOCK_SEQUENCES = 64;

/** The batched forward and backward passes: their cells and product, and the block size of each length. */
export interface BlockPlan {
  cells: BlockCell[];
  mm: MatMul;
  /** The most sequences of length T in one block (at least 1). */
  blockSize(T: number): number;
  /**
   * Steps per segment of a block of length T: T when one sequence's trace fits the budget; else about √T
   * (fewer if even that does not fit), and the backward pass recomputes each segment from a checkpoint.
   */
  segment(T: number): number;
}

/**
 * Lags of the quick first pass of a long run (sent as a partial report): the verdict's lags, so the partial
 * report's regimes are already the final ones.
 */
const SHORT_LAGS = VERDICT_LAGS;

/** Lag-table work (flops) above which a run takes the two-pass route with a partial report. */
const PARTIAL_MIN_FLOPS = 4e9;

/**
 * Speed of the lag recursion assumed by the budget, per row-step: seconds per flop of its matrix products
 * (2·rows·H·gates·H per layer) and per state entry of its elementwise work, with the WebAssembly kernel
 * (kernel) or the plain TypeScript product (plain). The exact table's products have many rows at once (dense);
 * a sample's have few (sparse), so its products run closer to matrix–vector speed. Rough figures measured on
 * this project's 2-core machine while other jobs ran; the budget is about, not a deadline.
 */
const LAG_SPEED = {
  kernel: { dense: 1 / 1.2e10, sparse: 1 / 2e9, perStateEntry: 2.5e-8 },
  plain: { dense: 1 / 1.5e9, sparse: 1 / 1e9, perStateEntry: 2.5e-8 },
};

/** The full lag table's chunks shared with other threads: their jobs (they claim chunks as the caller does). */
export interface LagSplit {
  splitter: LagSplitter;
  jobs: LagJob[];
}

/** The (t, j) map of the run: what was asked for and the collector its pairs go into. */
export interface HeatmapPlan {
  request: HeatmapRequest;
  collector: HeatmapCollector;
}

/** Everything decided before the passes run. */
export interface AnalysisPlan {
  thresholds: Required<RegimeThresholds>;
  /** Layers and directions, as the lag recursion sees them. */
  shape: StackShape;
  /** The cells of the forward and backward passes (plain products). */
  cells: Cell[];
  /** The cells of the lag recursion (the kernel's product, when there is one). */
  lagCells: Cell[];
  lossFn: LossFunction;
  /** MatMul.safeExponent of the lag recursion's product. */
  safeExponent: number;
  /** The full table's longest lag. */
  maxLag: number;
  /** The longest lag of the first pass (SHORT_LAGS when twoPass, else maxLag). */
  firstLag: number;
  /** A quick short-lag pass (partial report) first, then the full table in a second pass. */
  twoPass: boolean;
  /** The other threads of the full table, or null when this thread computes all of it. */
  split: LagSplit | null;
  /**
   * The full table in chunks claimed by the threads and merged in a fixed order (lagChunks.ts), when it is exact
   * and large (the same whether or not it is split); null: one walk per sequence.
   */
  chunks: ChunkClaims | null;
  /** The spectra as tasks shared with the other threads (a one-pass split run), else null (computed first). */
  spectra: SpectraClaims | null;
  heatmap: HeatmapPlan | null;
  /** The sampled columns when the exact table is over the budget (then one pass, no split), else null. */
  sample: LagSample | null;
  /** Row-steps of the whole run, for progress. */
  totalWork: number;
  /** The batched passes over blocks of sequences of one length. */
  block: BlockPlan;
  /**
   * Bytes the lag recursion's pending rows may hold (the trace budget): more rows run in several passes over
   * interleaved columns (lags.ts).
   */
  lagRowBytes: number;
}

/** Plans one analysis (and takes the splitter's matmul when the table is split). */
export function planAnalysis(model: Model, options: AnalyzeOptions): AnalysisPlan {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...definedOnly(options.thresholds ?? {}) };
  const cells = buildCells(model);
  const lossFn = new LossFunction(model);
  const longest = Math.max(...model.sequences.map((s) => s.length));
  // A display cap below the verdict's lags still computes those (the report is cut at the cap).
  const maxLag = computedMaxLag(options.maxLag, longest);
  const shape = stackShapeOf(model);
  // Long runs take two passes: everything with the short lags first (sent as a partial report), then
  // the full lag table. Not for bidirectional stacks of several layers, whose short lags cost about as much as
  // the full table (every loss term reaches every step below the top layer).
  const lagFlops =
    model.sequences.reduce((a, s) => a + sequenceLagWork(shape, s.length, maxLag), 0) * lagFlopsPerRow(model);
  // Sampled when the exact table is estimated over the budget; the sample's size from the sparse speed.
  const seconds = options.lagBudgetSeconds;
  const exactRows = model.sequences.reduce((a, s) => a + sequenceLagWork(shape, s.length, maxLag), 0);
  const kernel = options.matmul !== undefined;
  const overBudget =
    options.lagBudgetRows !== undefined
      ? exactRows > options.lagBudgetRows
      : typeof seconds === 'number' && seconds > 0 && exactRows * secondsPerRow(model, kernel, 'dense') > seconds;
  const budgetRows = options.lagBudgetRows ?? (overBudget ? seconds! / secondsPerRow(model, kernel, 'sparse') : null);
  const sample =
    overBudget && budgetRows !== null
      ? drawLagSample(
          model.sequences.map((s) => s.length),
          shape,
          maxLag,
          budgetRows,
          options.lagSeed ?? DEFAULT_LAG_SEED,
        )
      : null;
  const twoPass =
    sample === null &&
    options.onProgress !== undefined &&
    (options.partial ?? true) &&
    maxLag > SHORT_LAGS &&
    lagFlops > PARTIAL_MIN_FLOPS &&
    !(shape.directions === 2 && shape.layers > 1);
  const firstLag = twoPass ? SHORT_LAGS : maxLag;
  // Split the columns of the full table across threads when it is large, and every thread's copy of
  // the forward traces fits in memory.
  const splitter = options.lagSplit;
  const chunkMinFlops = options.lagChunkMinFlops ?? CHUNK_MIN_FLOPS;
  const block = planBlocks(model, options);
  // Chunks walk each sequence's whole plain forward trace (every thread computes it the same way): not when some
  // sequence's trace is over the budget (it streams from checkpoints, one walk per sequence as before).
  const chunked =
    sample === null && lagFlops >= chunkMinFlops && model.sequences.every((s) => block.segment(s.length) === s.length);
  const splits =
    chunked &&
    splitter !== undefined &&
    splitter.threads > 1 &&
    lagFlops >= (splitter.minFlops ?? SPLIT_MIN_FLOPS) &&
    splitter.threads * estimateAnalysisBytes(model, maxLag) <= MAX_ANALYSIS_BYTES;
  const matmul = splits ? splitter.matmul : options.matmul;
  const lagCells = matmul ? buildCells(model, matmul) : cells;
  const safeExponent = matmul?.safeExponent ?? 200;
  const layout = chunked ? chunkLayoutOf(model, maxLag, lagFlopsPerRow(model), chunkMinFlops) : null;
  const shared = layout ? newChunkShared(layout, model.layers.length, chunkMinFlops) : null;
  const chunks = layout && shared ? new ChunkClaims(layout, model.layers.length, shared) : null;
  // A one-pass split run shares the spectra as tasks too (a two-pass run needs them for its partial report first).
  const spectraShared = splits && !twoPass ? newSpectraShared(model) : null;
  const split =
    splits && shared
      ? {
          splitter,
          jobs: Array.from({ length: splitter.threads - 1 }, () => ({
            maxLag,
            heatmap: options.heatmap ?? null,
            chunks: shared,
            spectra: spectraShared,
          })),
        }
      : null;
  const request = options.heatmap && options.heatmap.sequence < model.sequences.length ? options.heatmap : null;
  const collector = heatmapCollectorFor(model, request);
  const heatmap = request && collector ? { request, collector } : null;
  const secondCost = (T: number): number => (twoPass ? sequenceLagWork(shape, T, maxLag) + T : 0);
  const firstCost = (T: number, b: number): number => {
    if (!sample) return firstPassCost(shape, firstLag, T);
    const subset = sampleSubset(sample, b);
    return (subset ? sequenceLagWork(shape, T, maxLag, subset) : 0) + 2 * T;
  };
  const totalWork = model.sequences.reduce((a, s, b) => a + firstCost(s.length, b) + secondCost(s.length), 0);
  return {
    thresholds,
    shape,
    cells,
    lagCells,
    lossFn,
    safeExponent,
    maxLag,
    firstLag,
    twoPass,
    split,
    chunks,
    spectra: spectraShared ? new SpectraClaims(model, spectraShared) : null,
    heatmap,
    sample,
    totalWork,
    block,
    lagRowBytes: options.traceBytes ?? DEFAULT_TRACE_BYTES,
  };
}

/** The float64 product of the passes, the block cells and the block size from the trace budget. */
function planBlocks(model: Model, options: AnalyzeOptions): BlockPlan {
  const given = options.gradientMatmul ?? options.matmul;
  const f64 = given && (given as { precision?: string }).precision !== 'f32';
  const mm = given && f64 ? given : plainMatMul;
  const cells = buildBlockCells(model, mm);
  const perStep = 8 * blockEntriesPerStep(model, cells);
  // A checkpointed bidirectional block keeps each layer's outputs and their gradients for every step, besides a
  // segment's trace; a unidirectional one only every layer's state at each checkpoint (block/streamed.ts).
  const kept = streamsInSegments(model) ? 0 : 8 * keptEntriesPerStep(model, cells);
  const stateBytes = 8 * cells.reduce((a, c) => a + c.stateSize, 0);
  const budget = options.traceBytes ?? DEFAULT_TRACE_BYTES;
  const segment = (T: number): number =>
    perStep * T <= budget ? T : Math.max(1, Math.min(Math.ceil(Math.sqrt(T)), Math.floor(budget / perStep)));
  const rowBytes = (T: number): number => {
    const K = segment(T);
    return K < T ? perStep * K + kept * T + stateBytes * Math.ceil(T / K) : perStep * T;
  };
  return {
    cells,
    mm,
    blockSize: (T) => Math.max(1, Math.min(MAX_BLOCK_SEQUENCES, Math.floor(budget / rowBytes(T)))),
    segment,
  };
}

/** Seconds of one row-step of the lag recursion, about (LAG_SPEED), in an exact table (dense) or a sample. */
function secondsPerRow(model: Model, kernel: boolean, rows: 'dense' | 'sparse'): number {
  const speed = kernel ? LAG_SPEED.kernel : LAG_SPEED.plain;
  const states = model.layers.reduce((a, w) => a + w.weightHh.cols * GATES[model.cell], 0);
  return lagFlopsPerRow(model) * speed[rows] + (states / (model.bidirectional ? 2 : 1)) * speed.perStateEntry;
}

/** Row-steps of the first pass for a sequence of length T: its lags and its forward and backward passes. */
export function firstPassCost(shape: StackShape, firstLag: number, T: number): number {
  return sequenceLagWork(shape, T, firstLag) + 2 * T;
}

/** The thresholds the caller set (a setting left empty may arrive as null). */
function definedOnly(t: RegimeThresholds): RegimeThresholds {
  const out: RegimeThresholds = {};
  if (typeof t.vanishingLog10PerStep === 'number') out.vanishingLog10PerStep = t.vanishingLog10PerStep;
  if (typeof t.explodingLog10PerStep === 'number') out.explodingLog10PerStep = t.explodingLog10PerStep;
  return out;
}
