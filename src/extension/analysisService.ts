// The owner of analyses: one lazily started worker client; per document, a newer analysis supersedes an
// older one and stale results never reach the editor; progress UI; one report per worker crash.
import * as path from 'path';
import * as vscode from 'vscode';
import { AnalysisClient, AnalysisError } from '../worker/client';
import type { AnalyzeParams, AnalyzeResult } from '../worker/protocol';
import type { Report } from '../engine/report/types';
import { formatDataShape } from '../engine/report/format';
import { readSettings } from './settings';
import { paramsOf } from './modelFiles';
import { Disposable } from './dispose';
import { stampsHold } from '../io/fileStamps';
import { RemainingTime, formatRemaining } from '../shared/remainingTime';

/** A running analysis's latest progress: fraction done, phase, and the estimated seconds left once known. */
interface RunProgress {
  fraction: number;
  phase: string;
  secondsLeft?: number;
}

/** Heap bound of the analysis worker: a huge or hostile model file ends the worker, not the extension host. */
const workerHeapMb = 2048;
/**
 * The worker's heap bound: workerHeapMb, or lower when the environment variable RNN_GRADIENTS_WORKER_HEAP_MB says so
 * (the UI test of out-of-memory recovery makes a model of a few MB exhaust a 32 MB heap for real). It cannot be raised.
 */
function workerHeapLimitMb(): number {
  const requested = Number(process.env.RNN_GRADIENTS_WORKER_HEAP_MB);
  return Number.isFinite(requested) && requested >= 8 && requested < workerHeapMb
    ? Math.floor(requested)
    : workerHeapMb;
}
/**
 * Nice value of the analysis threads: the worker computes at a lower priority than the extension host, whose event
 * loop then gets a core first even when the analysis (worker + GEMM helpers) keeps every core busy.
 */
const workerNiceness = 10;
/**
 * The worker thread keeps the normal priority for this long into an analysis (its helper threads take the lower one
 * at once): at nice 10 on a busy machine (the workbench rendering, a build) a small model's first analysis took
 * about twice as long, and the first squiggle is what a person waits for. Longer runs then yield as above.
 */
const lowerPriorityAfterMs = 250;
/** After a worker ended (cancel, crash, timeout), a fresh one is started this long after, at idle. */
const warmAgainMs = 200;
/** The analysis a fresh worker runs first to load the engine and compile its kernels: inline weights, no file read. */
const warmUpParams: AnalyzeParams = {
  text: JSON.stringify({
    cell: 'rnn',
    weights: {
      weight_ih_l0: [[0.5], [-0.3]],
      weight_hh_l0: [
        [0.9, 0.1],
        [-0.1, 0.9],
      ],
    },
    data: { inputs: [[[1], [0.5], [-0.5], [0.25], [0.1], [0.3], [-0.2], [0.7]]] },
    loss: 'sum',
  }),
  filePath: path.join(path.sep, 'warm-up.rnn.json'),
  rootDir: path.sep,
  displayPath: 'warm-up.rnn.json',
  partial: false,
};
/** Runs shorter than this show no progress UI. */
const progressDelayMs = 500;
/** The one-sequence (t, j) map the panel asks for. */
const heatmapRequest = { sequence: 0, maxSize: 256 };

/** How an analysis shows its progress: a cancellable notification, the status bar, or not at all. */
export type ProgressStyle = 'notification' | 'window' | 'none';

/** Options of one document analysis. */
export interface AnalyzeDocumentOptions {
  /** Re-run even when the last result was computed from this very text and settings (and its files are unchanged). */
  force?: boolean;
  progress?: ProgressStyle;
  /** Cancels the run. */
  token?: vscode.CancellationToken;
  /**
   * Include the one-sequence heatmap. Default: when the heatmap policy (the report panel, see setHeatmapPolicy)
   * wants one for this document, so the normal re-analyses of the document the panel shows carry the map.
   */
  heatmap?: boolean;
  /**
   * The exact lag table whatever it costs ("Compute the exact lag table" in the panel). An exact result also answers
   * later requests of the same text and settings that would have sampled it.
   */
  exact?: boolean;
}

/** An analysis of a document that ended without a result, with no newer analysis of it running. */
export interface StoppedEvent {
  uri: vscode.Uri;
  reason: AnalysisError['reason'];
  /** What happened, for people ("The analysis was cancelled."). */
  message: string;
}

/** A finished, current analysis of a document. */
export interface AnalysisEvent {
  uri: vscode.Uri;
  version: number;
  result: AnalyzeResult;
}

interface RunningAnalysis {
  /** The document version and settings it analyzes (not the heatmap request). */
  key: string;
  /** Whether it computes the heatmap. */
  heatmap: boolean;
  /** Whether it computes the exact lag table (never sampled). */
  exact: boolean;
  /** Its time limit (rnnGradients.timeoutSeconds when it started; 0: none). */
  timeoutMs: number;
  promise: Promise<AnalyzeResult>;
  abort: AbortController;
  /** The latest partial report it sent (short lags), for a command that joins it after that report went out. */
  partial: { report?: Report };
  /** Shows this run's progress in one more style (a command joining a background run shows its notification). */
  showProgress: (style: ProgressStyle) => void;
}

/** The message of the rejection of an analysis that a newer analysis of the same document replaced. */
const supersededMessage = 'Superseded by a newer analysis of the same document.';

/** Whether an analysis was rejected because a newer analysis of the same document replaced it. */
export function isSuperseded(error: unknown): boolean {
  return error instanceof AnalysisError && error.reason === 'cancelled' && error.message === supersededMessage;
}

/** What the service keeps per open document. */
interface DocumentState {
  generation: number;
  running?: RunningAnalysis;
  last?: { key: string; heatmap: boolean; exact: boolean; version: number; result: AnalyzeResult };
}

/** The stopped event of a failed analysis, in words for people. */
function stoppedEvent(uri: vscode.Uri, error: unknown): StoppedEvent {
  const reason = error instanceof AnalysisError ? error.reason : 'internal';
  const detail = error instanceof Error ? error.message : String(error);
  const message =
    reason === 'cancelled'
      ? 'The analysis was cancelled.'
      : reason === 'timeout'
        ? `The analysis stopped: ${detail}`
        : `The analysis failed: ${detail}`;
  return { uri, reason, message };
}

/** Runs analyses of documents on the worker and publishes current results. */
export class AnalysisService extends Disposable {
  private clientInstance: AnalysisClient | undefined;
  private readonly states = new Map<string, DocumentState>();
  private readonly analyzedEmitter = this._register(new vscode.EventEmitter<AnalysisEvent>());
  private readonly runningEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  private readonly progressEmitter = this._register(
    new vscode.EventEmitter<{ uri: vscode.Uri; fraction: number; partial?: Report }>(),
  );
  private readonly stoppedEmitter = this._register(new vscode.EventEmitter<StoppedEvent>());
  private failureShown = false;
  private warmTimer: NodeJS.Timeout | undefined;
  /** The worker was ended because the workspace holds no model file: none is started again until an analysis. */
  private released = false;
  private ended = false;
  private heatmapPolicy: (uri: vscode.Uri) => boolean = () => false;

  /** Fires with each current result (stale ones are dropped). */
  readonly onDidAnalyze = this.analyzedEmitter.event;
  /** Fires when an analysis of a document starts or ends. */
  readonly onDidChangeRunning = this.runningEmitter.event;
  /** Fires with the fraction done of a running analysis (and a partial report now and then). */
  readonly onProgress = this.progressEmitter.event;
  /**
   * Fires when a document's analysis ended without a result (cancelled, timed out, the worker stopped) and no newer
   * analysis of the document runs: whatever showed its progress (the report panel) must not wait for it.
   */
  readonly onDidStop = this.stoppedEmitter.event;

  constructor(
    private readonly workerPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
  }

  /** The worker client, started on first use. */
  get client(): AnalysisClient {
    if (!this.clientInstance) {
      this.clientInstance = new AnalysisClient(
        this.workerPath,
        { maxOldGenerationSizeMb: workerHeapLimitMb() },
        {
          niceness: workerNiceness,
          lowerPriorityAfterMs: lowerPriorityAfterMs,
          // However a worker that worked ended (stopped, cancelled, crashed, timed out), a fresh one waits for the next
          // analysis.
          onWorkerEnded: (answered) => {
            if (answered && !this.released) this.keepWarm(warmAgainMs);
          },
        },
      );
    }
    return this.clientInstance;
  }

  /**
   * Keeps a worker ready for the next analysis: starts one at the next idle moment when none runs (after activation,
   * after a cancelled run ended its worker, after a crash or a timeout), so the first squiggle of a model file opened
   * next does not wait for a worker to start.
   */
  keepWarm(delayMs = 0): void {
    if (this.warmTimer !== undefined || this.ended) return;
    this.warmTimer = setTimeout(() => {
      this.warmTimer = undefined;
      this.warmNow();
    }, delayMs);
  }

  /**
   * Starts a worker now when none runs (on activation: a thread starts in a few milliseconds of this thread's time,
   * then loads and compiles the engine on its own core while the workbench and other extensions start).
   */
  warmNow(): void {
    if (this.ended || this.clientInstance?.hasWorker) return;
    this.log.debug('starting the analysis worker ahead of the next analysis');
    // A tiny analysis loads the engine and compiles its kernels, so the next one finds them ready.
    this.client.analyze(warmUpParams).catch(() => undefined);
  }

  /**
   * Ends a worker started ahead of need (keepWarm, warmNow) when no document was analyzed yet: the workspace turned
   * out to hold no model file.
   */
  releaseUnusedWorker(): void {
    if (this.warmTimer !== undefined) clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    if (this.states.size > 0 || !this.clientInstance?.hasWorker) return;
    this.released = true;
    this.log.debug('stopping the analysis worker: no model file in the workspace');
    void this.clientInstance.terminateWorker();
  }

  /** Decides which documents' analyses include the heatmap by default (the report panel sets it). */
  setHeatmapPolicy(policy: (uri: vscode.Uri) => boolean): void {
    this.heatmapPolicy = policy;
  }

  /** The last current result of a document, if any. */
  lastResult(uri: vscode.Uri): AnalyzeResult | undefined {
    return this.states.get(uri.toString())?.last?.result;
  }

  /** The last report of a document, if its last analysis succeeded. */
  lastReport(uri: vscode.Uri): Report | undefined {
    const result = this.lastResult(uri);
    return result?.ok ? result.report : undefined;
  }

  /** Whether an analysis of the document is running. */
  isRunning(uri: vscode.Uri): boolean {
    return this.states.get(uri.toString())?.running !== undefined;
  }

  /**
   * Whether the document was analyzed (or an analysis of it started) since it was opened: a model file opened a moment
   * ago, whose analysis on open is about to start, was not.
   */
  hasStarted(uri: vscode.Uri): boolean {
    return this.states.has(uri.toString());
  }

  /** Whether the last result is for the document's current text. */
  isCurrent(document: vscode.TextDocument): boolean {
    return this.states.get(document.uri.toString())?.last?.version === document.version;
  }

  /**
   * Analyzes a document's current text. Joins a running analysis of the same text and settings; otherwise
   * cancels the document's older analysis. Rejects with AnalysisError 'cancelled' when cancelled or superseded.
   */
  analyzeDocument(document: vscode.TextDocument, options: AnalyzeDocumentOptions = {}): Promise<AnalyzeResult> {
    const uriKey = document.uri.toString();
    let state = this.states.get(uriKey);
    if (!state) {
      state = { generation: 0 };
      this.states.set(uriKey, state);
    }
    const params = paramsOf(document, readSettings(document.uri));
    const wantsHeatmap = options.heatmap ?? this.heatmapPolicy(document.uri);
    params.heatmap = wantsHeatmap ? heatmapRequest : null;
    const wantsExact = options.exact === true;
    if (wantsExact) params.exact = true;
    const key = `${document.version}\u0000${JSON.stringify({ ...params, text: undefined, heatmap: undefined, exact: undefined })}`;
    // The same text and settings: the last result (or the running analysis) answers, unless the map is wanted and
    // it has none. A result also holds only while the weight files it read are unchanged.
    const covers = (entry: { key: string; heatmap: boolean; exact: boolean }): boolean =>
      entry.key === key && (entry.heatmap || !wantsHeatmap) && (entry.exact || !wantsExact);
    const last = state.last;
    if (options.force !== true && last && covers(last) && stampsHold(last.result.files ?? [])) {
      this.log.info(`${params.displayPath}: the result of the same text and settings is reused`);
      return Promise.resolve(last.result);
    }
    const timeoutMs = readSettings(document.uri).timeoutMs;
    // A running analysis is joined only under the time limit in force now: one started before the limit was changed
    // (the workspace settings are often read after a file's analysis on open has started) is replaced, so that a
    // lowered limit stops it and a raised one lets it finish.
    if (state.running && covers(state.running) && state.running.timeoutMs === timeoutMs) {
      const joined = state.running;
      this.linkCancellation(options.token, joined.abort, joined.promise);
      // A command that joins a background run (on open, after an edit) still gets its notification and Cancel.
      joined.showProgress(options.progress ?? 'none');
      return joined.promise;
    }
    state.running?.abort.abort();
    const generation = ++state.generation;
    const abort = new AbortController();
    const started = Date.now();
    const listeners = new Set<(progress: RunProgress) => void>();
    let latest: RunProgress = { fraction: 0, phase: 'starting' };
    const remaining = new RemainingTime(started);
    const version = document.version;
    const owner = state;
    // The latest partial report of this run (kept for a command that joins it later).
    const partialSent: { report?: Report } = {};
    this.released = false;
    const raw = this.client.analyze(params, {
      signal: abort.signal,
      timeoutMs,
      onProgress: (message) => {
        const secondsLeft = remaining.update(message.fraction, Date.now());
        latest = { fraction: message.fraction, phase: message.phase, secondsLeft };
        // A partial report of a text that has changed since (its run is about to be superseded) is not shown.
        const partial = message.partial && document.version === version ? message.partial : undefined;
        if (partial) partialSent.report = partial;
        this.progressEmitter.fire({ uri: document.uri, fraction: message.fraction, partial });
        for (const listener of listeners) listener(latest);
      },
    });
    abort.signal.addEventListener('abort', () => this.stopIdleWorker(), { once: true });
    const promise = raw.then(
      (result) => {
        if (this.states.get(uriKey) !== owner || owner.generation !== generation) {
          throw new AnalysisError(supersededMessage, 'cancelled');
        }
        // A report that came out exact (its lag table was not sampled) answers an exact request too.
        const exact = wantsExact || (result.ok && !result.report.lag_sampling);
        owner.last = { key, heatmap: wantsHeatmap, exact, version, result };
        this.failureShown = false;
        this.logResult(params, result, Date.now() - started);
        this.analyzedEmitter.fire({ uri: document.uri, version, result });
        return result;
      },
      (error: unknown) => {
        this.onFailure(params, error);
        throw error;
      },
    );
    const shownStyles = new Set<ProgressStyle>(['none']);
    const showProgress = (style: ProgressStyle): void => {
      if (shownStyles.has(style)) return;
      shownStyles.add(style);
      this.showProgress(style, document.uri, abort, settled, listeners, () => latest);
    };
    const running: RunningAnalysis = {
      key,
      heatmap: wantsHeatmap,
      exact: wantsExact,
      timeoutMs,
      promise,
      abort,
      partial: partialSent,
      showProgress,
    };
    state.running = running;
    let failure: unknown;
    const settled = promise.then(
      () => undefined,
      (error: unknown) => {
        failure = error ?? new Error('unknown failure');
      },
    );
    void settled.then(() => {
      if (owner.running === running) owner.running = undefined;
      this.runningEmitter.fire(document.uri);
      if (failure !== undefined && !owner.running && this.states.get(uriKey) === owner) {
        this.stoppedEmitter.fire(stoppedEvent(document.uri, failure));
      }
    });
    this.runningEmitter.fire(document.uri);
    this.linkCancellation(options.token, abort, promise);
    showProgress(options.progress ?? 'none');
    return promise;
  }

  /** The latest partial report of the document's running analysis, if it sent one. */
  runningPartial(uri: vscode.Uri): Report | undefined {
    return this.states.get(uri.toString())?.running?.partial.report;
  }

  /** Analyzes raw parameters (no document, no diagnostics): for the test API. */
  analyzeParams(params: AnalyzeParams, token?: vscode.CancellationToken): Promise<AnalyzeResult> {
    const abort = new AbortController();
    this.released = false;
    const promise = this.client.analyze(params, { signal: abort.signal, timeoutMs: readSettings().timeoutMs });
    abort.signal.addEventListener('abort', () => this.stopIdleWorker(), { once: true });
    this.linkCancellation(token, abort, promise);
    return promise.catch((error: unknown) => {
      this.onFailure(params, error);
      throw error;
    });
  }

  /** Cancels a document's running analysis and forgets its results (the document was closed). */
  forget(uri: vscode.Uri): void {
    const key = uri.toString();
    const state = this.states.get(key);
    if (!state) return;
    this.states.delete(key);
    state.running?.abort.abort();
  }

  /** Cancels every running analysis and ends the worker, then disposes the events. */
  override dispose(): void {
    this.ended = true;
    if (this.warmTimer !== undefined) clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    for (const state of this.states.values()) state.running?.abort.abort();
    this.states.clear();
    this.clientInstance?.dispose();
    this.clientInstance = undefined;
    super.dispose();
  }

  /**
   * After a cancellation (the client has already rejected the request), ends the worker when nothing else runs
   * on it, so the cancelled computation stops at once even between the engine's cancellation checks; the next
   * analysis starts a fresh worker.
   */
  private stopIdleWorker(): void {
    const client = this.clientInstance;
    if (!client || client.inFlight > 0) return;
    this.log.debug('stopping the worker to end a cancelled analysis at once');
    void client.terminateWorker().then(() => this.keepWarm(warmAgainMs));
  }

  /** Aborts the run when the token is cancelled, until the run settles. */
  private linkCancellation(
    token: vscode.CancellationToken | undefined,
    abort: AbortController,
    promise: Promise<unknown>,
  ): void {
    if (!token) return;
    if (token.isCancellationRequested) {
      abort.abort();
      return;
    }
    const subscription = token.onCancellationRequested(() => abort.abort());
    const unsubscribe = (): void => {
      subscription.dispose();
    };
    void promise.then(unsubscribe, unsubscribe);
  }

  /** Shows progress after half a second: a notification with percent and Cancel, or a status-bar spinner. */
  private showProgress(
    style: ProgressStyle,
    uri: vscode.Uri,
    abort: AbortController,
    settled: Promise<void>,
    listeners: Set<(progress: RunProgress) => void>,
    latest: () => RunProgress,
  ): void {
    if (style === 'none') return;
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      const name = path.basename(uri.fsPath);
      const location = style === 'notification' ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
      void vscode.window.withProgress(
        {
          location,
          title: style === 'notification' ? `Analyzing ${name}` : `RNN gradients: ${name}`,
          cancellable: style === 'notification',
        },
        (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          const update = ({ fraction, phase, secondsLeft }: RunProgress): void => {
            const percent = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
            const increment = Math.max(0, percent - reported);
            reported = Math.max(reported, percent);
            const eta = secondsLeft === undefined ? '' : ` · ${formatRemaining(secondsLeft)}`;
            progress.report({ increment, message: `${phase} (${reported}%)${eta}` });
          };
          update(latest());
          listeners.add(update);
          return settled.then(() => {
            listeners.delete(update);
          });
        },
      );
    }, progressDelayMs);
    void settled.then(() => {
      done = true;
      clearTimeout(timer);
    });
  }

  /** Logs one finished analysis: timing and size. */
  private logResult(params: AnalyzeParams, result: AnalyzeResult, elapsedMs: number): void {
    if (!result.ok) {
      this.log.info(`${params.displayPath}: wrong input, ${result.problems.length} problem(s) (${elapsedMs} ms)`);
      return;
    }
    const report = result.report;
    const model = report.model;
    this.log.info(
      `${params.displayPath}: analyzed in ${elapsedMs} ms` +
        (report.elapsed_ms !== undefined ? ` (engine ${Math.round(report.elapsed_ms)} ms)` : '') +
        `: ${model.cell}, ${formatDataShape(report)}, hidden size ${model.hidden_size}, ` +
        `${model.num_layers} layer(s); regimes ${report.layers.map((layer) => layer.regime).join(', ') || 'none'}`,
    );
  }

  /** Logs a failed analysis; reports a worker crash or timeout to the user once until an analysis succeeds again. */
  private onFailure(params: AnalyzeParams, error: unknown): void {
    const reason = error instanceof AnalysisError ? error.reason : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    if (reason === 'cancelled' || reason === 'disposed') {
      this.log.debug(`${params.displayPath}: ${message}`);
      return;
    }
    this.log.error(`${params.displayPath}: ${message}`);
    if (reason === 'timeout' || reason === 'worker-exit' || reason === 'worker-error') this.keepWarm(warmAgainMs);
    if (this.failureShown) return;
    this.failureShown = true;
    const hint =
      reason === 'timeout'
        ? ' Raise rnnGradients.timeoutSeconds or lower rnnGradients.maxLag for long sequences.'
        : reason === 'worker-exit' || reason === 'worker-error'
          ? ' The next analysis starts a fresh worker.'
          : '';
    void vscode.window.showErrorMessage(`RNN Gradients: ${message}${hint}`);
  }
}
