// The typed message protocol between a client (CLI, extension host) and the analysis worker.
// Every message is an interface with a `type` discriminant.
import type { Report } from '../engine/report/types';
import type { ModelProblem } from '../engine/model/problems';
import type { HeatmapRequest } from '../engine/heatmap';
import type { Precision } from '../engine/kernels';
import type { RegimeThresholds } from '../engine/regime';
import type { FileStamp } from '../io/fileStamps';
import type { LagTiming } from '../engine/analysis/recursionClock';

/** The analysis worker's workerData. */
export interface AnalysisWorkerData {
  /** Shared control block: slot 0 holds the id of the request to cancel. */
  control?: Int32Array;
  /** Nice value of the worker thread and the threads it starts (see WorkerOptions in client.ts). */
  niceness?: number;
  /**
   * When set (> 0), the worker thread itself starts at the normal priority and takes `niceness` only once an analysis
   * has run this many milliseconds: short analyses (a small model's first squiggle) are not starved by a busy machine,
   * long ones still leave the caller's thread a core. Its helper and lag threads take `niceness` at start.
   */
  lowerPriorityAfterMs?: number;
}

/** What to analyze and how. */
export interface AnalyzeParams {
  /** The model file's text (an editor buffer may be unsaved). */
  text: string;
  /** Absolute path of the model file; weight paths resolve relative to it. */
  filePath: string;
  /** Weight files must stay inside this folder (workspace folder, or the CLI's current directory). */
  rootDir: string;
  /** The name the report prints in `file`. */
  displayPath: string;
  /** Include gradients.*.values. */
  gradients?: boolean;
  /** Cap on the lag table (null: full). */
  maxLag?: number | null;
  /** Regime rule thresholds (defaults in the engine). */
  thresholds?: RegimeThresholds;
  /**
   * Arithmetic of the lag recursion's matrix products: 'f64' (default, exact to 1e-9) or 'f32'
   * (opt-in "fast": float32 products on rows scaled into float32's range; see kernels/wasmGemmModule.ts).
   */
  precision?: Precision;
  /**
   * Long runs first send a partial report (short lags) with their progress, at the cost of a quick
   * extra pass. Default true; the CLI turns it off when nobody watches a terminal.
   */
  partial?: boolean;
  /**
   * Seconds of lag-table work allowed before the table is estimated from a seeded sample (default
   * DEFAULT_LAG_BUDGET_SECONDS; 0: always exact). Ignored with `exact`.
   */
  lagBudgetSeconds?: number;
  /** The exact lag table whatever it costs (--exact, "Compute the exact lag table"). */
  exact?: boolean;
  /** Seed of a sampled table (default the engine's). */
  lagSeed?: number;
  /** Also compute a one-sequence (t, j) map, downsampled to at most this many cells a side. */
  heatmap?: HeatmapRequest | null;
}

/**
 * The answer to an analysis: a report, or the problems that stopped it; `files`: the files besides the model text
 * it read (weights), so a caller can tell whether the result still holds.
 */
export type AnalyzeResult =
  | {
      ok: true;
      report: Report;
      files?: FileStamp[];
      /** The full lag table's recursion timing (internal, for the bench; never part of the report). */
      lagTiming?: LagTiming;
    }
  | { ok: false; problems: ModelProblem[]; files?: FileStamp[] };

/** Client → worker: start an analysis. */
export interface AnalyzeRequest {
  type: 'analyze';
  id: number;
  params: AnalyzeParams;
}

/** Client → worker: stop the analysis with this id. */
export interface CancelRequest {
  type: 'cancel';
  id: number;
}

/** Worker → client: fraction done (0..1) of a running request, with a short phase label. */
export interface ProgressMessage {
  type: 'progress';
  id: number;
  fraction: number;
  phase: string;
  /** A partial report (short lags done so far), sent at most a few times a second. */
  partial?: Report;
}

/** Worker → client: the request finished. */
export interface ResultMessage {
  type: 'result';
  id: number;
  result: AnalyzeResult;
}

/** Worker → client: the request failed (cancelled, or an internal error). */
export interface ErrorMessage {
  type: 'error';
  id: number;
  cancelled: boolean;
  message: string;
}

export type ToWorkerMessage = AnalyzeRequest | CancelRequest;
export type FromWorkerMessage = ProgressMessage | ResultMessage | ErrorMessage;
