// Loads a model file (with its weights file) and runs the engine: shared by the worker and in-process callers.
import type { AnalyzeParams, AnalyzeResult } from './protocol';
import type { Report } from '../engine/report/types';
import { loadModelFile } from '../io/loadModel';
import type { FileStamp } from '../io/fileStamps';
import { analyzeModel } from '../engine/analyze';
import type { MatMul } from '../engine/matmul';
import type { LagSplitter } from '../engine/lagShare';
import type { Model } from '../engine/model/types';
import type { LagTiming } from '../engine/analysis/recursionClock';
import { tooLargeMessage } from '../engine/memory';
import { DEFAULT_LAG_BUDGET_SECONDS } from '../engine/lagSample';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';

export interface RunHooks {
  /** The lag recursion's matrix product (the worker passes its GEMM kernel); default plain code. */
  matmul?: MatMul;
  /** The float64 product of the forward and backward passes (default: matmul when it is float64, else plain). */
  gradientMatmul?: MatMul;
  /** Other threads for the lag table's columns (the worker's lag threads), for the parsed model. */
  lagSplit?: (model: Model) => LagSplitter | undefined;
  isCancelled: () => boolean;
  progress: (fraction: number, phase: string, partial?: Report) => void;
}

/** Parses, validates and analyzes; wrong input comes back as problems, never as an exception. */
// eslint-disable-next-line @typescript-eslint/require-await -- async on purpose: an engine failure becomes a rejection
export async function runAnalysis(params: AnalyzeParams, hooks: RunHooks): Promise<AnalyzeResult> {
  const files: FileStamp[] = [];
  const parsed = loadModelFile(params.text, params.filePath, params.rootDir, files);
  if (!parsed.model) return { ok: false, problems: parsed.problems, files };
  const tooLarge = tooLargeMessage(parsed.model, params.maxLag ?? null);
  if (tooLarge) {
    // Sits on `data` (its key), where the sequences are given.
    const root = parseTree(params.text, [], { allowTrailingComma: true });
    const node = root ? findNodeAtLocation(root, ['data']) : undefined;
    const key = node?.parent?.children?.[0];
    const range = key ? { offset: key.offset, length: key.length } : { offset: 0, length: 0 };
    return {
      ok: false,
      problems: [{ severity: 'error', message: `data: ${tooLarge}`, path: ['data'], range }],
      files,
    };
  }
  let lagTiming: LagTiming | undefined;
  const report = analyzeModel(parsed.model, {
    file: params.displayPath,
    gradientValues: params.gradients ?? false,
    maxLag: params.maxLag ?? null,
    thresholds: params.thresholds,
    heatmap: params.heatmap ?? null,
    partial: params.partial ?? true,
    lagBudgetSeconds: params.exact ? null : (params.lagBudgetSeconds ?? DEFAULT_LAG_BUDGET_SECONDS),
    lagSeed: params.lagSeed,
    matmul: hooks.matmul,
    gradientMatmul: hooks.gradientMatmul,
    lagSplit: hooks.lagSplit?.(parsed.model),
    isCancelled: hooks.isCancelled,
    onProgress: hooks.progress,
    onLagTiming: (t) => (lagTiming = t),
  });
  return { ok: true, report, files, ...(lagTiming ? { lagTiming } : {}) };
}
