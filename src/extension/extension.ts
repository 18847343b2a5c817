// Extension entry point: builds the owner objects, registers them, and returns the API.
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import type { RnnGradientsApi } from './api';
import { GradientQuickFixes } from './gradientQuickFixes';
import { AnalyzeCodeLens } from './analyzeCodeLens';
import { registerCommands } from './commands';
import { DiagnosticsManager } from './diagnosticsManager';
import { WeightHover } from './weightHover';
import { createReportPanel } from './createReportPanel';
import { RegimeStatusBar } from './regimeStatusBar';

/** Documents the editor features apply to (more are analyzed when `rnnGradients.modelFiles` matches them). */
const modelFileSelector: vscode.DocumentFilter = { scheme: 'file', pattern: '**/*.rnn.json' };

/** Where the README documents finding codes (diagnostic links): the repository from package.json. */
function repositoryUrl(context: vscode.ExtensionContext): string {
  const repository = (context.extension.packageJSON as { repository?: { url?: unknown } | string }).repository;
  const url = typeof repository === 'string' ? repository : repository?.url;
  return typeof url === 'string' ? url : 'https://github.com/rnn-gradients/rnn-gradients';
}

export function activate(context: vscode.ExtensionContext): RnnGradientsApi {
  try {
    const log = vscode.window.createOutputChannel('RNN Gradients', { log: true });
    const service = new AnalysisService(context.asAbsolutePath('dist/worker.js'), log);
    const panel = createReportPanel(context.extensionUri, service);
    const diagnostics = new DiagnosticsManager(service, repositoryUrl(context), log);
    const statusBar = new RegimeStatusBar(service);
    const codeLens = new AnalyzeCodeLens(service);
    context.subscriptions.push(
      log,
      service,
      panel,
      diagnostics,
      statusBar,
      codeLens,
      vscode.languages.registerCodeLensProvider(modelFileSelector, codeLens),
      vscode.languages.registerCodeActionsProvider(
        modelFileSelector,
        new GradientQuickFixes(service),
        GradientQuickFixes.metadata,
      ),
      vscode.languages.registerHoverProvider(modelFileSelector, new WeightHover(service)),
      ...registerCommands({ service, panel }),
    );
    return {
      async analyze(target, options = {}) {
        if (!(target instanceof vscode.Uri)) return service.analyzeParams(target, options.token);
        const document = await vscode.workspace.openTextDocument(target);
        return service.analyzeDocument(document, { token: options.token });
      },
      get client() {
        return service.client;
      },
      panel,
      isBusy: (uri) => diagnostics.isBusy(uri),
      get statusText() {
        return statusBar.text;
      },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`RNN Gradients failed to start: ${message}`);
    throw error;
  }
}

export function deactivate(): void {
  // Owner objects are disposed through context.subscriptions.
}
