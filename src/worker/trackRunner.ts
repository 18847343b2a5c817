// Analyzes the checkpoints of a training timeline: each one's step, its model text, the cache, and the
// analysis on a pool of workers. Used by `rnn-gradients track` and the editor's timeline panel.
import * as path from 'path';
import type { Precision } from '../engine/kernels';
import type { RegimeThresholds } from '../engine/regime';
import type { Report } from '../engine/report/types';
import { entryFromReport, errorEntry } from '../engine/timeline/timeline';
import type { TimelineEntry } from '../engine/timeline/types';
import { formatProblem } from '../io/position';
import { cacheKey, engineId, type TimelineCache } from '../io/timeline/cache';
import { checkpointModel, type BaseModel } from '../io/timeline/modelText';
import { stepFromCheckpoint, stepFromNameOrOrder } from '../io/timeline/steps';
import { AnalysisError } from './client';
import type { AnalysisPool } from './pool';
import type { AnalyzeParams } from './protocol';

/** The analysis settings that apply to every checkpoint (part of the cache key). */
export interface TrackSettings {
  maxLag: number | null;
  precision: Precision;
  thresholds?: RegimeThresholds;
}

export interface TrackRunnerOptions {
  pool: AnalysisPool;
  /** dist/worker.js: its content identifies the engine build in the cache key. */
  workerPath: string;
  /** Weight and data files must stay inside this folder. */
  rootDir: string;
  /** Paths in entries are shown relative to this folder. */
  displayDir: string;
  base?: BaseModel;
  settings: TrackSettings;
  cache?: TimelineCache;
  signal?: AbortSignal;
  /** Milliseconds before one analysis is abandoned. */
  timeoutMs?: number;
  /** Fraction done of one checkpoint's analysis. */
  onProgress?: (file: string, fraction: number) => void;
}

/** One analyzed checkpoint: its entry and, when it analyzed, the full report. */
export interface TrackResult {
  entry: TimelineEntry;
  report?: Report;
  /** The report came from the cache. */
  cached: boolean;
}

function display(file: string, dir: string): string {
  const rel = path.relative(dir, file);
  return (rel.startsWith('..') || path.isAbsolute(rel) ? file : rel).split(path.sep).join('/');
}

export class TrackRunner {
  constructor(private readonly options: TrackRunnerOptions) {}

  /** The display path of a file. */
  displayPath(file: string): string {
    return display(file, this.options.displayDir);
  }

  /** The model text and path a checkpoint is analyzed as (what `analyze` of the same file would see). */
  modelFor(file: string): ReturnType<typeof checkpointModel> {
    return checkpointModel(file, this.options.base);
  }

  /**
   * Analyzes one checkpoint (absolute path) of the series `allFiles` (for steps by name order).
   * Never rejects for a bad checkpoint: its entry carries the error. Rejects with AnalysisError
   * 'cancelled' when the signal aborts.
   */
  async analyze(file: string, allFiles: string[]): Promise<TrackResult> {
    const o = this.options;
    const shown = this.displayPath(file);
    const stated = await stepFromCheckpoint(file);
    const { step, source } = stated ?? stepFromNameOrOrder(file, allFiles);
    const model = await this.modelFor(file);
    if ('error' in model) return { entry: errorEntry(shown, step, `${shown}: ${model.error}`, source), cached: false };
    const key = o.cache
      ? await cacheKey(model.text, model.filePath, o.rootDir, o.settings, engineId(o.workerPath))
      : undefined;
    if (o.cache && key !== undefined) {
      const hit = await o.cache.get(key);
      if (hit) return { entry: entryFromReport(hit, shown, step, source), report: hit, cached: true };
    }
    const modelShown = this.displayPath(model.filePath);
    const params: AnalyzeParams = {
      text: model.text,
      filePath: model.filePath,
      rootDir: o.rootDir,
      displayPath: modelShown,
      maxLag: o.settings.maxLag,
      precision: o.settings.precision,
      thresholds: o.settings.thresholds,
      partial: false,
    };
    try {
      const result = await o.pool.analyze(params, {
        signal: o.signal,
        timeoutMs: o.timeoutMs,
        onProgress: (p) => o.onProgress?.(file, p.fraction),
      });
      if (!result.ok) {
        const lines = result.problems.map((p) => formatProblem(modelShown, model.text, p));
        return { entry: errorEntry(shown, step, lines.join('\n'), source), cached: false };
      }
      if (o.cache && key !== undefined) await o.cache.put(key, result.report);
      return { entry: entryFromReport(result.report, shown, step, source), report: result.report, cached: false };
    } catch (err) {
      if (err instanceof AnalysisError && err.reason === 'cancelled') throw err;
      if (o.signal?.aborted) throw new AnalysisError('Analysis cancelled.', 'cancelled');
      const message = err instanceof Error ? err.message : String(err);
      return { entry: errorEntry(shown, step, `${shown}: the analysis failed: ${message}`, source), cached: false };
    }
  }
}
