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

/** Shows the worst regime of the active model file. */
export class RegimeStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly service: AnalysisService) {
    super();
    this.item = vscode.window.createStatusBarItem('rnnGradients.regime', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'RNN Gradients';
    this.item.command = 'rnnGradients.analyze';
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.refresh()));
    this._register(service.onDidAnalyze(() => this.refresh()));
    this._register(service.onDidChangeRunning(() => this.refresh()));
    this._register(this.item);
    this.refresh();
  }

  /** The text shown now (for tests). */
  get text(): string {
    return this.item.text;
  }

  private refresh(): void {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || !isModelDocument(document, readSettings(document.uri))) {
      this.item.hide();
      return;
    }
    const running = this.service.isRunning(document.uri);
    const result = this.service.lastResult(document.uri);
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
