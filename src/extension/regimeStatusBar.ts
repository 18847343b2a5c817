// Status bar item for the active model file: the regime of its worst layer; a click opens the report.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { isModelDocument } from './modelFiles';
import type { Regime } from '../engine/report/types';
import { regimeLabel, worstLayer } from './reportLogic';
import { layerCell } from '../engine/report/layers';
import { readSettings } from './settings';
import { Disposable } from './dispose';

const regimeIcons: Record<Regime, string> = {
  exploding: '$(flame)',
  vanishing: '$(arrow-down)',
  stable: '$(pass)',
  undetermined: '$(question)',
};

/**
 * How long the item stays when no model file is active before it is hidden: switching tabs can pass through no
 * active editor at all, and the item would disappear and come back between two model files.
 */
const hideDelayMs = 250;

/** Shows the worst regime of the active model file. */
export class RegimeStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private hideTimer: NodeJS.Timeout | undefined;

  /** @param isQueued whether an analysis of the document is queued to start (on open, after an edit). */
  constructor(
    private readonly service: AnalysisService,
    private readonly isQueued: (uri: vscode.Uri) => boolean = () => false,
  ) {
    super();
    this.item = vscode.window.createStatusBarItem('rnnGradients.regime', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'RNN Gradients';
    this.item.command = 'rnnGradients.analyze';
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.refresh()));
    // A tab opened or switched to: its text editor may come a moment later (the file is still loading).
    this._register(vscode.window.tabGroups.onDidChangeTabs(() => this.refresh()));
    this._register(vscode.window.tabGroups.onDidChangeTabGroups(() => this.refresh()));
    this._register(service.onDidAnalyze(() => this.refresh()));
    this._register(service.onDidChangeRunning(() => this.refresh()));
    this._register(this.item);
    this._register({ dispose: () => this.cancelHide() });
    this.refresh();
  }

  /** The text shown now (for tests). */
  get text(): string {
    return this.item.text;
  }

  private cancelHide(): void {
    if (this.hideTimer !== undefined) clearTimeout(this.hideTimer);
    this.hideTimer = undefined;
  }

  /**
   * The model file the item is about: the active text editor's, or, while no text editor is active, the active tab's
   * when it is a model file whose editor is still opening (its text not loaded yet).
   */
  private activeModel(): vscode.Uri | undefined {
    const document = vscode.window.activeTextEditor?.document;
    if (document) return isModelDocument(document, readSettings(document.uri)) ? document.uri : undefined;
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (!(input instanceof vscode.TabInputText) || input.uri.scheme !== 'file') return undefined;
    const loaded = vscode.workspace.textDocuments.find((d) => d.uri.toString() === input.uri.toString());
    const isModel = loaded ? isModelDocument(loaded, readSettings(loaded.uri)) : input.uri.path.endsWith('.rnn.json');
    return isModel ? input.uri : undefined;
  }

  private refresh(): void {
    const uri = this.activeModel();
    if (!uri) {
      // Hidden only if no model file becomes active meanwhile (then it goes straight to that file's state).
      if (this.hideTimer === undefined)
        this.hideTimer = setTimeout(() => {
          this.hideTimer = undefined;
          if (!this.activeModel()) this.item.hide();
        }, hideDelayMs);
      return;
    }
    this.cancelHide();
    // A model file just opened is analyzed on open: it says "analyzing" before that run has started, not
    // "not analyzed" for a moment.
    const running = this.service.isRunning(uri) || this.isQueued(uri) || !this.service.hasStarted(uri);
    const result = this.service.lastResult(uri);
    this.item.backgroundColor = undefined;
    if (!result) {
      this.item.text = running ? '$(sync~spin) RNN: analyzing' : '$(pulse) RNN: not analyzed';
      this.item.tooltip = 'Analyze RNN gradients';
    } else if (!result.ok) {
      this.item.text = `${running ? '$(sync~spin)' : '$(error)'} RNN: wrong input`;
      this.item.tooltip = `${result.problems.length} problem(s) in the model file; see the Problems panel.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else {
      const worst = worstLayer(result.report);
      const regime = worst?.regime ?? 'stable';
      const label = worst ? regimeLabel(worst) : regime;
      const sampling = result.report.lag_sampling;
      this.item.text = `${running ? '$(sync~spin)' : regimeIcons[regime]} RNN: ${label}${sampling ? ' (estimated)' : ''}`;
      const horizon = worst?.evidence?.horizon;
      const estimated = sampling
        ? ` The lag table is estimated from a sample of ${sampling.endpoints} loss terms (rnnGradients.lagBudgetSeconds); the gradients and clipping are exact.`
        : '';
      this.item.tooltip = worst
        ? `Worst layer: ${layerCell(worst.layer, worst.direction)} (${label}; σ_max ${worst.sigma_max.toPrecision(3)}` +
          (horizon ? `; gradient horizon at lag ${horizon.lag}` : '') +
          ').' +
          (regime === 'undetermined' ? ' Too few lags to measure a trend.' : '') +
          estimated +
          ' Click to open the gradient report.'
        : `${estimated.trim()} Click to open the gradient report.`.trim();
      if (regime === 'exploding') this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      else if (regime === 'vanishing')
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    }
    this.item.show();
  }
}
