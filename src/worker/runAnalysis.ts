// Loads a model file (with its weights file) and runs the engine: shared by the worker and in-process callers.
import type { AnalyzeParams, AnalyzeResult } from './protocol';
import type { Report } from '../engine/report/types';
import { loadModelFile } from '../io/loadModel';
import { analyzeModel } from '../engine/analyze';
import type { MatMul } from '../engine/matmul';

export interface RunHooks {
  /** The lag recursion's matrix product (the worker passes its GEMM kernel); default plain code. */
  matmul?: MatMul;
  isCancelled: () => boolean;
  progress: (fraction: number, phase: string, partial?: Report) => void;
}

/** Parses, validates and analyzes; wrong input comes back as problems, never as an exception. */
export async function runAnalysis(params: AnalyzeParams, hooks: RunHooks): Promise<AnalyzeResult> {
  const parsed = loadModelFile(params.text, params.filePath, params.rootDir);
  if (!parsed.model) return { ok: false, problems: parsed.problems };
  const report = analyzeModel(parsed.model, {
    file: params.displayPath,
    gradientValues: params.gradients ?? false,
    maxLag: params.maxLag ?? null,
    thresholds: params.thresholds,
    heatmap: params.heatmap ?? null,
    matmul: hooks.matmul,
    isCancelled: hooks.isCancelled,
    onProgress: hooks.progress,
  });
  return { ok: true, report };
}
