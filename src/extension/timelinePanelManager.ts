// The timeline panel's host side: runs a training timeline (TrackRunner on a pool of analysis workers, with the
// shared cache), shows it in a webview panel of the report page in timeline mode, opens a checkpoint's full
// report in the report panel when a step is clicked, and with Watch on adds checkpoints as training writes them
// (never taking focus). A WebviewPanelSerializer runs the timeline again after a window reload.
import { randomBytes } from 'crypto';
import { setMaxListeners } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Report } from '../engine/report/types';
import { buildTimeline } from '../engine/timeline/timeline';
import type { TimelineEntry } from '../engine/timeline/types';
import { defaultCacheDir, TimelineCache } from '../io/timeline/cache';
import { expandInputs } from '../io/timeline/inputs';
import type { BaseModel } from '../io/timeline/modelText';
import { CheckpointWatcher } from '../io/timeline/watch';
import { AnalysisError } from '../worker/client';
import { AnalysisPool } from '../worker/pool';
import type { AnalyzeParams } from '../worker/protocol';
import { TrackRunner } from '../worker/trackRunner';
import { buildWebviewHtml } from '../shared/webviewHtml';
import {
  assertNever,
  isFromWebviewMessage,
  type FromWebviewMessage,
  type PersistedTimelineState,
  type TimelineMessage,
} from '../shared/webviewProtocol';
import type { CheckpointReports } from './checkpointReports';
import { Disposable, DisposableStore } from './dispose';
import { readSettings } from './settings';
import { timelineTitle } from './timelineLogic';
import { copyFromPage, exportFromPage } from './webviewExport';

/** What a timeline is made of. */
export interface TimelineRequest {
  /** Folders or checkpoint files. */
  sources: vscode.Uri[];
  /** The base model file, if any. */
  base?: vscode.Uri;
}

/** What the panel needs from the rest of the extension. */
export interface TimelinePanelActions {
  /** Opens a model file's report (the normal analyze command). */
  analyzeModelFile(uri: vscode.Uri): Promise<unknown>;
  /** Shows a report the timeline computed in the report panel. */
  showReport(uri: vscode.Uri, report: Report): void;
}

interface Analyzed {
  entry: TimelineEntry;
  report?: Report;
}

/** Analyses side by side in the editor: at most two, so the editor keeps a core. */
const EDITOR_POOL_SIZE = 2;

/** Owns the timeline panel (at most one) and the run behind it. */
export class TimelinePanelManager extends Disposable {
  static readonly viewType = 'rnnGradients.timeline';

  private panel: vscode.WebviewPanel | undefined;
  private readonly panelListeners = this._register(new DisposableStore());
  private ready = false;
  private request: TimelineRequest | undefined;
  private base: BaseModel | undefined;
  private runner: TrackRunner | undefined;
  private pool: AnalysisPool | undefined;
  private abort: AbortController | undefined;
  private watcher: CheckpointWatcher | undefined;
  private readonly analyzed = new Map<string, Analyzed>();
  private known: string[] = [];
  private running = { done: 0, total: 0 };
  private seq = 0;
  private last: TimelineMessage | undefined;
  private renderedSeq = -1;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private generation = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly workerPath: string,
    private readonly checkpoints: CheckpointReports,
    private readonly actions: TimelinePanelActions,
  ) {
    super();
  }

  /** The timeline shown now (for tests): the last one posted. */
  get shown(): TimelineMessage | undefined {
    return this.panel ? this.last : undefined;
  }

  /** Whether new checkpoints are being watched for. */
  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** Opens (or reveals) the panel and runs the timeline of `request`; resolves when every checkpoint is analyzed. */
  async open(request: TimelineRequest, watch = false): Promise<void> {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(
        TimelinePanelManager.viewType,
        'Timeline',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.webviewOptions(),
      );
      this.adopt(panel);
    } else this.panel.reveal(undefined, true);
    await this.run(request, watch);
  }

  /** Resolves when the webview has drawn the latest timeline. */
  whenRendered(): Promise<void> {
    if (this.last && this.renderedSeq >= this.last.seq) return Promise.resolve();
    const seq = this.last?.seq ?? this.seq + 1;
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Handles a message as if the webview sent it (the webview's own messages come through here too). */
  async handle(message: FromWebviewMessage): Promise<void> {
    try {
      switch (message.type) {
        case 'ready':
          this.ready = true;
          if (this.last) this.post(this.last);
          break;
        case 'rendered':
          this.markRendered(message.seq);
          break;
        case 'openStep':
          await this.openStep(message.file);
          break;
        case 'setWatch':
          this.setWatch(message.on);
          break;
        case 'exportFile':
          await exportFromPage(
            message.kind,
            message.suggestedName,
            message.content,
            this.request?.sources[0] ? vscode.Uri.joinPath(this.request.sources[0], '..') : undefined,
            'timeline',
          );
          break;
        case 'copyText':
          await copyFromPage(message.text, message.label);
          break;
        case 'applyClip':
        case 'revealPath':
        case 'requestHeatmap':
        case 'rerun':
        case 'applyRemedy':
        case 'computeExact':
          break; // report panel messages
        default:
          assertNever(message);
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`RNN Gradients: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Turns watching on or off. */
  setWatch(on: boolean): void {
    if (on && !this.watcher && this.request && this.runner) {
      const args = this.request.sources.map((u) => u.fsPath);
      this.watcher = new CheckpointWatcher(
        args,
        this.rootDir(),
        this.base !== undefined,
        this.base?.file,
        (file) => void this.analyzeOne(file, this.generation),
      );
      void this.watcher.markHanded(this.known).then(() => this.watcher?.start());
    } else if (!on && this.watcher) {
      this.watcher.stop();
      this.watcher = undefined;
    }
    this.postTimeline();
  }

  /** Closes the panel and stops its run. */
  close(): void {
    this.panel?.dispose();
    this.release();
  }

  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(TimelinePanelManager.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const saved = state as Partial<PersistedTimelineState> | undefined;
        if (this.panel) this.panel.dispose();
        panel.webview.options = this.webviewOptions();
        this.adopt(panel);
        if (saved?.mode === 'timeline' && Array.isArray(saved.sources) && saved.sources.length > 0) {
          const sources = saved.sources.filter((s) => typeof s === 'string').map((s) => vscode.Uri.parse(s, true));
          const base = typeof saved.base === 'string' ? vscode.Uri.parse(saved.base, true) : undefined;
          await this.run({ sources, base }, saved.watching === true);
        }
      },
    });
  }

  override dispose(): void {
    this.close();
    super.dispose();
  }

  // ---- the run ----

  private rootDir(): string {
    const first = this.request?.sources[0];
    const folder = first ? vscode.workspace.getWorkspaceFolder(first) : undefined;
    return folder?.uri.fsPath ?? (first ? path.dirname(first.fsPath) : process.cwd());
  }

  private readBase(uri: vscode.Uri): BaseModel {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    return { file: uri.fsPath, text: open ? open.getText() : fs.readFileSync(uri.fsPath, 'utf8') };
  }

  private async run(request: TimelineRequest, watch: boolean): Promise<void> {
    this.stopRun();
    const generation = ++this.generation;
    this.request = request;
    this.base = request.base ? this.readBase(request.base) : undefined;
    this.analyzed.clear();
    const settings = readSettings(request.sources[0]);
    this.pool = new AnalysisPool(this.workerPath, EDITOR_POOL_SIZE, { maxOldGenerationSizeMb: 2048 }, { niceness: 10 });
    this.abort = new AbortController();
    setMaxListeners(0, this.abort.signal);
    const rootDir = this.rootDir();
    this.runner = new TrackRunner({
      pool: this.pool,
      workerPath: this.workerPath,
      rootDir,
      displayDir: rootDir,
      base: this.base,
      settings: { maxLag: settings.maxLag, precision: 'f64', thresholds: settings.thresholds },
      cache: new TimelineCache(defaultCacheDir()),
      signal: this.abort.signal,
      timeoutMs: settings.timeoutMs,
    });
    const { files } = expandInputs(
      request.sources.map((u) => u.fsPath),
      rootDir,
      this.base !== undefined,
      this.base?.file,
    );
    this.known = [...files];
    this.running = { done: 0, total: files.length };
    if (this.panel)
      this.panel.title = `Timeline: ${timelineTitle(
        request.sources.map((u) => u.fsPath),
        request.base?.fsPath,
      )}`;
    this.postTimeline();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'RNN Gradients: timeline' },
      () => Promise.all(files.map((f) => this.analyzeOne(f, generation))),
    );
    if (generation !== this.generation) return;
    if (watch) this.setWatch(true);
    else this.postTimeline();
  }

  private async analyzeOne(file: string, generation: number): Promise<void> {
    const runner = this.runner;
    if (!runner) return;
    if (!this.known.includes(file)) {
      this.known.push(file);
      this.running.total++;
    }
    try {
      const r = await runner.analyze(file, this.known);
      if (generation !== this.generation) return;
      this.analyzed.set(file, { entry: r.entry, report: r.report });
    } catch (error) {
      if (error instanceof AnalysisError && error.reason === 'cancelled') return;
      throw error;
    } finally {
      if (generation === this.generation) this.running.done++;
    }
    this.postTimeline();
  }

  private stopRun(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.abort?.abort();
    this.pool?.dispose();
    this.pool = undefined;
    this.runner = undefined;
  }

  private async openStep(file: string): Promise<void> {
    const found = [...this.analyzed.entries()].find(([, a]) => a.entry.file === file);
    if (!found || !this.runner) return;
    const [abs, a] = found;
    const uri = vscode.Uri.file(abs);
    if (!this.base && abs.toLowerCase().endsWith('.rnn.json')) {
      await this.actions.analyzeModelFile(uri);
      return;
    }
    const model = await this.runner.modelFor(abs);
    if ('error' in model) return;
    const params: AnalyzeParams = {
      text: model.text,
      filePath: model.filePath,
      rootDir: this.rootDir(),
      displayPath: vscode.workspace.asRelativePath(model.filePath),
      maxLag: readSettings(uri).maxLag,
      thresholds: readSettings(uri).thresholds,
      partial: false,
    };
    this.checkpoints.set(uri, { base: this.request?.base, params });
    if (a.report) this.actions.showReport(uri, a.report);
    else void vscode.window.showErrorMessage(`RNN Gradients: ${a.entry.error ?? 'no report for this checkpoint'}`);
  }

  // ---- the webview ----

  private postTimeline(): void {
    if (!this.request) return;
    const timeline = buildTimeline([...this.analyzed.values()].map((a) => a.entry));
    const busy = this.running.done < this.running.total;
    this.seq++;
    this.last = {
      type: 'timeline',
      title: timelineTitle(
        this.request.sources.map((u) => vscode.workspace.asRelativePath(u, false)),
        this.request.base?.fsPath,
      ),
      timeline,
      seq: this.seq,
      watching: this.watcher !== undefined,
      running: busy ? { ...this.running } : null,
      sources: this.request.sources.map((u) => u.toString()),
      base: this.request.base?.toString() ?? null,
    };
    this.post(this.last);
  }

  private post(message: TimelineMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private markRendered(seq: number): void {
    if (seq < this.renderedSeq) return;
    this.renderedSeq = seq;
    const latest = this.last?.seq ?? 0;
    const still = [];
    for (const w of this.waiters) {
      if (seq >= w.seq && seq >= latest) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')] };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'report.svg');
    const asset = (name: string): string =>
      panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', name)).toString();
    panel.webview.html = buildWebviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: randomBytes(24).toString('base64url'),
      scriptUri: asset('webview.js'),
      styleUri: asset('webview.css'),
      mode: 'timeline',
    });
    for (const listener of [
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (isFromWebviewMessage(message)) void this.handle(message);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.release();
      }),
    ])
      this.panelListeners.add(listener);
  }

  private release(): void {
    this.generation++;
    this.stopRun();
    this.panel = undefined;
    this.ready = false;
    this.last = undefined;
    this.request = undefined;
    this.panelListeners.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }
}
