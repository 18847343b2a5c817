// What a caller asks of one analysis (analyzeModel in ../analyze.ts).
import type { HeatmapRequest } from '../heatmap';
import type { LagSplitter } from '../lagShare';
import type { MatMul } from '../matmul';
import type { RegimeThresholds } from '../regime';
import type { Report } from '../report/types';
import type { LagTiming } from './recursionClock';

/** The options of analyzeModel. */
export interface AnalyzeOptions {
  /** What the report prints in `file`. */
  file: string;
  /** Include every gradient value (gradients.*.values). */
  gradientValues?: boolean;
  /** Longest lag of the lag table (null or unset: every lag of the longest sequence). */
  maxLag?: number | null;
  thresholds?: RegimeThresholds;
  heatmap?: HeatmapRequest | null;
  /** The matrix product of the lag recursion (default: plain TypeScript). */
  matmul?: MatMul;
  /**
   * The float64 product of the forward and backward passes (batched over blocks of sequences). Default:
   * `matmul` when it is a float64 product, else the plain TypeScript product.
   */
  gradientMatmul?: MatMul;
  /**
   * Bytes the traces of one block of sequences may hold in the forward and backward passes (default
   * DEFAULT_TRACE_BYTES, 256 MiB): blocks get as many sequences of one length as fit.
   */
  traceBytes?: number;
  /**
   * Other threads that can take columns of the full lag table (see lagShare.ts). Used when the table
   * is large enough to pay for it; the caller's own columns then use `lagSplit.matmul`.
   */
  lagSplit?: LagSplitter;
  /**
   * Seconds of lag-table work allowed (about): a larger exact table is estimated from a seeded sample of its
   * columns (lagSample.ts). Unset, null or 0: always exact (the engine's default; the CLI and the extension
   * pass their budget, 2 s by default, unless asked for the exact table).
   */
  lagBudgetSeconds?: number | null;
  /** The budget in row-steps of the lag recursion instead of seconds (tests; overrides lagBudgetSeconds). */
  lagBudgetRows?: number;
  /** Lag-table flops from which the exact table runs in chunks (tests; default CHUNK_MIN_FLOPS, lagChunks.ts). */
  lagChunkMinFlops?: number;
  /** Seed of the sampled table's generator (default DEFAULT_LAG_SEED). */
  lagSeed?: number;
  /** With onProgress: send a partial report of the short lags first on long runs (default true). */
  partial?: boolean;
  isCancelled?: () => boolean;
  onProgress?: (fraction: number, phase: string, partial?: Report) => void;
  /**
   * Called once with the full lag table's recursion timing (not for a sampled table). Internal: for the bench,
   * never part of the report.
   */
  onLagTiming?: (timing: LagTiming) => void;
}
