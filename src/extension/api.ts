// The API `activate` returns: what integration tests (and other extensions) call.
import type * as vscode from 'vscode';
import type { AnalysisClient } from '../worker/client';
import type { AnalyzeParams, AnalyzeResult } from '../worker/protocol';
import type { ReportPanelManager } from './reportPanelManager';
import type { TimelinePanelManager } from './timelinePanelManager';

/** The extension's exports. */
export interface RnnGradientsApi {
  /**
   * Analyzes a model file (its open editor text when open; updates its diagnostics), or raw parameters
   * (no diagnostics). Rejects with AnalysisError ('cancelled' when the token fires or a newer analysis of
   * the same document supersedes it).
   */
  analyze(target: vscode.Uri | AnalyzeParams, options?: { token?: vscode.CancellationToken }): Promise<AnalyzeResult>;
  /** The worker client (tests terminate the worker through it). */
  readonly client: AnalysisClient;
  /** The report panel. */
  readonly panel: ReportPanelManager;
  /** The timeline panel. */
  readonly timeline: TimelinePanelManager;
  /** Whether an analysis of the document is queued (debounced) or running. */
  isBusy(uri: vscode.Uri): boolean;
  /** The status bar text shown for the active model file. */
  readonly statusText: string;
}
