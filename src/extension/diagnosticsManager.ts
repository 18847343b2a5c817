// The owner of the inline diagnostics: one DiagnosticCollection, analyses of open model files on open, edit
// (debounced) and save, cleared on close.
import * as vscode from 'vscode';
import { AnalysisError } from '../worker/client';
import type { AnalysisService } from './analysisService';
import { diagnosticSpecs } from './diagnosticsLogic';
import { KeyedDebouncer } from './keyedDebouncer';
import { isModelDocument } from './modelFiles';
import { readSettings } from './settings';
import { Disposable } from './dispose';
import { sameUri } from './uris';

/** Source name shown on every diagnostic. */
export const diagnosticSource = 'rnn-gradients';
/** Quiet time after the last edit before a document is re-analyzed. */
const debounceMs = 300;

const severities: Record<string, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** Keeps each open model file's diagnostics in step with its text. */
export class DiagnosticsManager extends Disposable {
  private readonly collection: vscode.DiagnosticCollection;
  private readonly debouncer: KeyedDebouncer<string>;
  /** Documents loaded but not in a tab when the settings changed: analyzed again when next shown. */
  private readonly staleUntilShown = new Set<string>();

  constructor(
    private readonly service: AnalysisService,
    /** Where a finding code's explanation opens (the shipped README at its section), or undefined. */
    private readonly docTarget: (code: string) => vscode.Uri | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    const collection = vscode.languages.createDiagnosticCollection(diagnosticSource);
    this.debouncer = this._register(new KeyedDebouncer(debounceMs, (key) => this.runQueued(key)));
    for (const subscription of [
      // A file just opened is analyzed at once (its first squiggle counts: issue 12); edits are debounced.
      vscode.workspace.onDidOpenTextDocument((document) => this.analyzeNow(document)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0) this.schedule(event.document);
      }),
      vscode.workspace.onDidSaveTextDocument((document) => {
        if (readSettings(document.uri).analyzeOnSave) this.schedule(document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.clear(document.uri)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('rnnGradients')) this.settingsChanged();
      }),
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        for (const editor of editors) {
          const key = editor.document.uri.toString();
          if (this.staleUntilShown.delete(key)) this.schedule(editor.document, 0);
        }
      }),
      service.onDidAnalyze((event) => this.publish(event.uri, event.version)),
    ])
      this._register(subscription);
    // Disposed last: the queued runs and listeners stop before the diagnostics are cleared.
    this.collection = this._register(collection);
    for (const document of vscode.workspace.textDocuments) this.schedule(document, 0);
  }

  /**
   * Analyzes a model file just opened at once, in the open event's own call: its first squiggle counts (issue 12), and
   * the same event makes VS Code activate the extensions of its language (for JSONC the TypeScript extension, which
   * blocks the extension host's event loop for 0.3–0.4 s) right after, which would delay even a 0 ms timer; the
   * worker then computes meanwhile.
   */
  private analyzeNow(document: vscode.TextDocument): void {
    if (isModelDocument(document, readSettings(document.uri))) this.debouncer.runNow(document.uri.toString());
  }

  /** Queues an analysis of a model file, `delayMs` after the last call for it (default: the edit debounce). */
  schedule(document: vscode.TextDocument, delayMs = debounceMs): void {
    if (!isModelDocument(document, readSettings(document.uri))) return;
    this.debouncer.schedule(document.uri.toString(), delayMs);
  }

  /**
   * New settings: the model files open in a tab are analyzed again now. The other documents VS Code still holds in
   * memory (closed tabs stay loaded for minutes; a long model among them would keep the worker busy for minutes and
   * queue the visible file's analysis behind it) are analyzed again when they are next shown.
   */
  private settingsChanged(): void {
    const inTabs = new Set<string>();
    for (const group of vscode.window.tabGroups.all)
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText) inTabs.add(input.uri.toString());
      }
    for (const editor of vscode.window.visibleTextEditors) inTabs.add(editor.document.uri.toString());
    for (const document of vscode.workspace.textDocuments) {
      if (!isModelDocument(document, readSettings(document.uri))) continue;
      const key = document.uri.toString();
      if (inTabs.has(key)) this.schedule(document);
      else {
        // Its running analysis (if any) is for the old settings: stop it, and analyze when shown.
        this.debouncer.cancel(key);
        this.service.forget(document.uri);
        this.staleUntilShown.add(key);
      }
    }
  }

  /** Whether an analysis of the document is queued or running. */
  isBusy(uri: vscode.Uri): boolean {
    return this.debouncer.isPending(uri.toString()) || this.service.isRunning(uri);
  }

  private clear(uri: vscode.Uri): void {
    this.staleUntilShown.delete(uri.toString());
    this.debouncer.cancel(uri.toString());
    this.collection.delete(uri);
    this.service.forget(uri);
  }

  /** Runs a queued analysis, skipping documents closed meanwhile; results arrive through onDidAnalyze. */
  private runQueued(key: string): void {
    const document = vscode.workspace.textDocuments.find((candidate) => candidate.uri.toString() === key);
    if (!document || document.isClosed) return;
    this.service.analyzeDocument(document, { progress: 'window' }).catch((error: unknown) => {
      if (error instanceof AnalysisError && error.reason === 'cancelled') return;
      this.log.debug(
        `background analysis of ${document.uri.fsPath} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  /** Shows the last result of a document, when it is open and the result is for its current text. */
  private publish(uri: vscode.Uri, version: number): void {
    const document = vscode.workspace.textDocuments.find((candidate) => sameUri(candidate.uri, uri));
    const result = this.service.lastResult(uri);
    if (!document || document.isClosed || document.version !== version || !result) return;
    const jsonValidates = vscode.workspace.getConfiguration('json', document.uri).get<boolean>('validate.enable', true);
    const diagnostics = diagnosticSpecs(document.getText(), result, { jsonValidates }).map((spec) => {
      const start = document.positionAt(spec.span.offset);
      const end = document.positionAt(spec.span.offset + spec.span.length);
      const diagnostic = new vscode.Diagnostic(new vscode.Range(start, end), spec.message, severities[spec.severity]);
      diagnostic.source = diagnosticSource;
      const target = this.docTarget(spec.code);
      diagnostic.code = target ? { value: spec.code, target } : spec.code;
      return diagnostic;
    });
    this.collection.set(uri, diagnostics);
  }
}
