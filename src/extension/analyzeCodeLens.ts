// A CodeLens at the top of model files: "Analyze RNN gradients", with the last verdict when there is one.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { regimeLabel, worstLayer } from './reportLogic';
import { layerLabel } from '../engine/report/layers';
import { Disposable } from './dispose';

/** One lens on the first line of each model file. */
export class AnalyzeCodeLens extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly service: AnalysisService) {
    super();
    this._register(service.onDidAnalyze(() => this.changed.fire()));
    this._register(this.changed);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const range = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(range, {
        title: '$(graph-line) Analyze RNN gradients',
        command: 'rnnGradients.analyze',
        arguments: [document.uri],
      }),
    ];
    const result = this.service.lastResult(document.uri);
    if (result?.ok) {
      const worst = worstLayer(result.report);
      if (worst) {
        const title =
          result.report.layers.length > 1
            ? `worst ${layerLabel(worst.layer, worst.direction)}: ${regimeLabel(worst)}`
            : `gradients: ${regimeLabel(worst)}`;
        lenses.push(new vscode.CodeLens(range, { title, command: 'rnnGradients.analyze', arguments: [document.uri] }));
      }
    }
    return lenses;
  }
}
