// The report panel's host side: one webview panel beside the model file, fed reports by postMessage,
// answering the webview's typed requests, and restored after a window reload by a WebviewPanelSerializer.
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { Report } from '../engine/report/types';
import type { RemedyAction } from '../shared/reportView/advice';
import { buildWebviewHtml } from '../shared/webviewHtml';
import { Disposable, DisposableStore, type IDisposable } from './dispose';
import { sameUri } from './uris';
import { copyFromPage, exportFromPage } from './webviewExport';
import type { CurrentClip } from '../shared/clipAdvice';
import {
  assertNever,
  type ClipKey,
  isFromWebviewMessage,
  type FromWebviewMessage,
  type PersistedPanelState,
  type ProgressMessage,
  type RenderedText,
  type ReportMessage,
  type StoppedMessage,
  type ToWebviewMessage,
} from '../shared/webviewProtocol';

/** What the panel asks the rest of the extension to do. */
export interface ReportPanelActions {
  applyClip(documentUri: vscode.Uri, key: ClipKey, value: number): Promise<void>;
  revealPath(documentUri: vscode.Uri, path: (string | number)[]): Promise<void>;
  /** Host re-analyzes with a heatmap and calls update(). */
  requestHeatmap(documentUri: vscode.Uri): Promise<void>;
  /** Optional: a panel restored after a reload shows its saved report; this may re-analyze and call update(). */
  refresh?(documentUri: vscode.Uri): Promise<void>;
  /** The Re-run button after a stopped analysis: analyze the document again and show the report. */
  rerun?(documentUri: vscode.Uri): Promise<void>;
  /** A remedy's button (advice card): make its edit in the model file, or say why the file cannot express it. */
  applyRemedy?(documentUri: vscode.Uri, remedy: RemedyAction): Promise<void>;
  /** "Compute the exact lag table": analyze the document again with the exact table, with progress and Cancel. */
  computeExact?(documentUri: vscode.Uri): Promise<void>;
}

/** What the webview reported after drawing a report: its chart count and its text (findings, gates section). */
export interface RenderedView {
  charts: number;
  text?: RenderedText;
}

interface RenderWaiter {
  seq: number;
  resolve(value: RenderedView): void;
  reject(error: Error): void;
}

/** The report the panel shows now (for tests): the last one posted, partial or final. */
export interface ShownReport {
  documentUri: string;
  report: Report;
  currentClipNorm: number | null;
  /** Increases with every report posted. */
  seq: number;
  /** True for the partial report of a running analysis (short lags only). */
  partial: boolean;
}

/** The clipping settings a report message was drawn with. */
function clipOf(message: ReportMessage): CurrentClip {
  return { clip_norm: message.currentClipNorm, clip_value: message.currentClipValue ?? null };
}

function sameClip(message: ReportMessage, current: CurrentClip): boolean {
  const was = clipOf(message);
  return was.clip_norm === current.clip_norm && was.clip_value === current.clip_value;
}

/** Owns the report panel (at most one), its messages and its serializer. */
export class ReportPanelManager extends Disposable {
  static readonly viewType = 'rnnGradients.report';

  private panel: vscode.WebviewPanel | undefined;
  /** The open panel's listeners (cleared when it closes). */
  private readonly panelListeners = this._register(new DisposableStore());
  private document: vscode.Uri | undefined;
  /** Whether the live webview has said `ready` (a hidden panel's webview is torn down and reloads). */
  private ready = false;
  private seq = 0;
  private lastReport: ReportMessage | undefined;
  /** The last complete (not partial) report of the shown document: shown again when a later run stops. */
  private lastComplete: ReportMessage | undefined;
  /** Set while the page shows a stopped analysis (replayed when the page reloads). */
  private lastStopped: StoppedMessage | undefined;
  private lastProgress: ProgressMessage | undefined;
  private renderedSeq = -1;
  private rendered: RenderedView = { charts: 0 };
  private waiters: RenderWaiter[] = [];
  private heatmapWanted = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly actions: ReportPanelActions,
  ) {
    super();
  }

  /** The URI of the document the panel shows, if open (for tests and the status bar). */
  get currentDocument(): vscode.Uri | undefined {
    return this.panel ? this.document : undefined;
  }

  /**
   * True once the panel's heatmap section asked for a map (and while the panel is open): analyses of the document
   * it shows, and of a document the command is about to show in it, should include one. The webview keeps its
   * heatmap section open across documents, so this survives a change of document.
   */
  get wantsHeatmap(): boolean {
    return this.panel !== undefined && this.heatmapWanted;
  }

  /** The report shown now (the last posted, partial or final), if the panel is open. */
  get shownReport(): ShownReport | undefined {
    const last = this.panel ? this.lastReport : undefined;
    if (!last) return undefined;
    return {
      documentUri: last.documentUri,
      report: last.report,
      currentClipNorm: last.currentClipNorm,
      seq: last.seq,
      partial: last.partial === true,
    };
  }

  /**
   * Opens (or reveals) the panel beside the editor for this model file and shows the report (`partial`: the quick
   * short-lag report of a run still going; the final one follows through update()).
   */
  show(documentUri: vscode.Uri, report: Report, current: CurrentClip, partial = false): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(
        ReportPanelManager.viewType,
        this.titleFor(documentUri),
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.webviewOptions(),
      );
      this.adopt(panel);
    } else {
      this.panel.reveal(undefined, true);
    }
    // After a stopped run the page shows its last complete report under "cancelled" with Re-run: the same report
    // shown again (Re-run answered from the last result) is posted, so that the page drops that line.
    const already =
      this.shows(documentUri) &&
      this.lastReport?.report === report &&
      this.lastReport.partial !== true &&
      this.lastStopped === undefined;
    this.setDocument(documentUri);
    // A live update (onDidAnalyze) may have posted this very report a moment ago: do not render it twice.
    if (already && this.lastReport && sameClip(this.lastReport, current)) return;
    this.postReport(report, current, partial);
  }

  /** Updates the panel if it shows this document (live re-analysis); no-op otherwise. */
  update(documentUri: vscode.Uri, report: Report, current: CurrentClip): void {
    if (!this.shows(documentUri)) return;
    this.postReport(report, current, false);
  }

  /**
   * The shown document's clipping settings changed (the panel's or a quick fix's edit): the shown report is drawn
   * again with them at once, so its buttons and threshold line say what the file holds before the re-analysis.
   */
  fileChanged(documentUri: vscode.Uri, current: CurrentClip): void {
    const last = this.lastReport;
    if (!this.shows(documentUri) || !last || sameClip(last, current)) return;
    this.postReport(last.report, current, last.partial === true);
  }

  /**
   * Shows progress (and, when given, a partial report) while an analysis of the shown document runs. Partial
   * reports only reach the panel: diagnostics, the status bar and hovers wait for the final report.
   */
  progress(documentUri: vscode.Uri, fraction: number, partial?: Report, current?: CurrentClip): void {
    if (!this.shows(documentUri)) return;
    if (partial)
      this.postReport(
        partial,
        current ?? (this.lastReport ? clipOf(this.lastReport) : { clip_norm: null, clip_value: null }),
        true,
      );
    this.lastProgress = { type: 'progress', fraction };
    this.post(this.lastProgress);
  }

  /**
   * The analysis of the shown document stopped without a report. When the panel shows that run's partial report, it
   * shows the last complete report of the document again (if there is one) and says what happened, with Re-run.
   */
  stopped(documentUri: vscode.Uri, message: string): void {
    if (!this.shows(documentUri) || this.lastReport?.partial !== true) return;
    this.lastProgress = undefined;
    const previous = this.lastComplete;
    if (previous) this.postReport(previous.report, clipOf(previous), false);
    else this.lastReport = undefined;
    this.lastStopped = { type: 'stopped', message, previous: previous !== undefined };
    this.post(this.lastStopped);
  }

  /** Closes the panel (the manager stays usable: show() opens a new one). */
  close(): void {
    this.panel?.dispose();
    this.releasePanel();
  }

  /** Registers the WebviewPanelSerializer; returns its disposable. */
  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(ReportPanelManager.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const saved = state as Partial<PersistedPanelState> | undefined;
        if (this.panel) this.panel.dispose();
        panel.webview.options = this.webviewOptions();
        this.adopt(panel);
        if (saved && typeof saved.documentUri === 'string') {
          const uri = vscode.Uri.parse(saved.documentUri, true);
          this.setDocument(uri);
          this.heatmapWanted = saved.heatmapOpen === true;
          panel.title = this.titleFor(uri);
          await this.actions.refresh?.(uri);
        }
      },
    });
  }

  /** Resolves when the webview has rendered the latest report (it posts `rendered` with its chart count and text). */
  whenRendered(): Promise<RenderedView> {
    if (this.lastReport && this.renderedSeq >= this.lastReport.seq) return Promise.resolve(this.rendered);
    const seq = this.lastReport?.seq ?? this.seq + 1;
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Ties subscriptions that feed the panel (see createReportPanel) to the manager's lifetime. */
  own(...items: IDisposable[]): void {
    for (const item of items) this._register(item);
  }

  /** Closes the panel, then disposes everything the manager owns. */
  override dispose(): void {
    this.close();
    super.dispose();
  }

  // ---- internals ----

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
    };
  }

  private titleFor(uri: vscode.Uri): string {
    const base = uri.path.split('/').pop() ?? 'model';
    return `Gradients: ${base.replace(/\.rnn\.json$/i, '')}`;
  }

  private shows(uri: vscode.Uri): boolean {
    return this.panel !== undefined && sameUri(this.document, uri);
  }

  private setDocument(uri: vscode.Uri): void {
    if (!sameUri(this.document, uri)) {
      this.lastProgress = undefined;
      this.lastComplete = undefined;
      this.lastStopped = undefined;
    }
    this.document = uri;
    if (this.panel) this.panel.title = this.titleFor(uri);
  }

  /** Takes ownership of a new or restored panel: HTML, listeners, icon. */
  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'report.svg');
    panel.webview.html = this.html(panel.webview);
    for (const listener of [
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (isFromWebviewMessage(message)) void this.handle(message);
      }),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden the page is torn down when hidden and reloads (posting `ready`) when shown.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.releasePanel();
      }),
    ])
      this.panelListeners.add(listener);
  }

  private releasePanel(): void {
    this.panel = undefined;
    this.document = undefined;
    this.ready = false;
    this.lastReport = undefined;
    this.lastComplete = undefined;
    this.lastStopped = undefined;
    this.lastProgress = undefined;
    this.heatmapWanted = false;
    this.panelListeners.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('The report panel was closed before it rendered.'));
  }

  private html(webview: vscode.Webview): string {
    const asset = (name: string): string =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', name)).toString();
    return buildWebviewHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(24).toString('base64url'),
      scriptUri: asset('webview.js'),
      styleUri: asset('webview.css'),
    });
  }

  private postReport(report: Report, current: CurrentClip, partial: boolean): void {
    this.seq += 1;
    this.lastReport = {
      type: 'report',
      documentUri: this.document?.toString() ?? '',
      report,
      currentClipNorm: current.clip_norm,
      currentClipValue: current.clip_value,
      seq: this.seq,
      ...(partial ? { partial: true } : {}),
    };
    if (!partial) {
      this.lastProgress = undefined;
      this.lastComplete = this.lastReport;
    }
    this.lastStopped = undefined;
    this.post(this.lastReport);
  }

  private post(message: ToWebviewMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private async handle(message: FromWebviewMessage): Promise<void> {
    const doc = this.document;
    try {
      switch (message.type) {
        case 'ready':
          this.ready = true;
          if (this.lastReport) this.post(this.lastReport);
          if (this.lastProgress) this.post(this.lastProgress);
          if (this.lastStopped) this.post(this.lastStopped);
          break;
        case 'rendered':
          this.markRendered(message.seq, { charts: message.charts, text: message.text });
          break;
        case 'applyClip':
          if (doc) await this.actions.applyClip(doc, message.key, message.value);
          break;
        case 'revealPath':
          if (doc) await this.actions.revealPath(doc, message.path);
          break;
        case 'requestHeatmap':
          if (doc) await this.requestHeatmap(doc);
          break;
        case 'rerun':
          if (doc) await this.actions.rerun?.(doc);
          break;
        case 'applyRemedy':
          if (doc) await this.actions.applyRemedy?.(doc, message.remedy);
          break;
        case 'computeExact':
          if (doc) await this.actions.computeExact?.(doc);
          break;
        case 'copyText':
          await copyFromPage(message.text, message.label);
          break;
        case 'exportFile':
          await exportFromPage(
            message.kind,
            message.suggestedName,
            message.content,
            doc ? vscode.Uri.joinPath(doc, '..') : vscode.workspace.workspaceFolders?.[0]?.uri,
            'report',
          );
          break;
        case 'openStep':
        case 'setWatch':
          break; // timeline panel messages
        default:
          assertNever(message);
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`RNN Gradients: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private markRendered(seq: number, view: RenderedView): void {
    if (seq < this.renderedSeq) return;
    this.renderedSeq = seq;
    this.rendered = view;
    const latest = this.lastReport?.seq ?? 0;
    const still: RenderWaiter[] = [];
    for (const w of this.waiters) {
      if (seq >= w.seq && seq >= latest) w.resolve(view);
      else still.push(w);
    }
    this.waiters = still;
  }

  private async requestHeatmap(doc: vscode.Uri): Promise<void> {
    this.heatmapWanted = true;
    try {
      await this.actions.requestHeatmap(doc);
    } catch (error) {
      this.post({ type: 'heatmapFailed', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (this.shows(doc) && !this.lastReport?.report.heatmaps?.length) {
      this.post({ type: 'heatmapFailed', message: 'the analysis returned no heatmap.' });
    }
  }
}
