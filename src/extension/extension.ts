// Extension entry point: builds the owner objects, registers them, and returns the API.
import * as fs from 'fs';
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
import { CheckpointReports } from './checkpointReports';
import { currentClip } from './documentEdits';
import { TimelinePanelManager } from './timelinePanelManager';
import { findingSectionLine } from './reportLogic';
import { isModelDocument } from './modelFiles';
import { readSettings } from './settings';

/** Documents the editor features apply to (more are analyzed when `rnnGradients.modelFiles` matches them). */
const modelFileSelector: vscode.DocumentFilter = { scheme: 'file', pattern: '**/*.rnn.json' };

/**
 * Where a diagnostic's code link goes: the README shipped inside the extension, opened at the finding's
 * section (a `#L<line>` fragment, which the workbench's opener turns into the selection). There is no
 * public repository to link to, and no made-up URL is used. Undefined (no link) when the README is missing.
 */
function findingDocs(context: vscode.ExtensionContext): (code: string) => vscode.Uri | undefined {
  let readme: { uri: vscode.Uri; text: string } | undefined;
  return (code) => {
    // The source tree has README.md; vsce packages it as readme.md.
    for (const name of ['README.md', 'readme.md']) {
      if (readme) break;
      const uri = vscode.Uri.joinPath(context.extensionUri, name);
      try {
        readme = { uri, text: fs.readFileSync(uri.fsPath, 'utf8') };
      } catch {
        // try the other name
      }
    }
    if (!readme) return undefined;
    const line = findingSectionLine(readme.text, code);
    return line === undefined ? readme.uri : readme.uri.with({ fragment: `L${line}` });
  };
}

export function activate(context: vscode.ExtensionContext): RnnGradientsApi {
  try {
    const log = vscode.window.createOutputChannel('RNN Gradients', { log: true });
    const service = new AnalysisService(context.asAbsolutePath('dist/worker.js'), log);
    const checkpoints = new CheckpointReports();
    const panel = createReportPanel(context.extensionUri, service, checkpoints);
    const timeline = new TimelinePanelManager(
      context.extensionUri,
      context.asAbsolutePath('dist/worker.js'),
      checkpoints,
      {
        analyzeModelFile: async (uri) => vscode.commands.executeCommand('rnnGradients.analyze', uri),
        showReport: (uri, report) => {
          const base = checkpoints.get(uri)?.base;
          const open = base && vscode.workspace.textDocuments.find((d) => d.uri.toString() === base.toString());
          panel.show(uri, report, open ? currentClip(open) : { clip_norm: null, clip_value: null });
        },
      },
    );
    const diagnostics = new DiagnosticsManager(service, findingDocs(context), log);
    const statusBar = new RegimeStatusBar(service, (uri) => diagnostics.isBusy(uri));
    const codeLens = new AnalyzeCodeLens(service);
    context.subscriptions.push(
      log,
      service,
      panel,
      timeline,
      timeline.registerSerializer(),
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
      ...registerCommands({ service, panel, timeline, checkpoints }),
    );
    // A worker ready before the first model file's analysis (kept warm), started now unless the activation is
    // explained by another JSONC file (onLanguage:jsonc: tsconfig.json, settings): activation by workspaceContains, a
    // command or a panel means a model file is about to be analyzed, and the workspace search below takes 0.1–1.4 s
    // on a busy machine, longer than the first file takes to open. Otherwise the search decides; a worker started
    // for a workspace that holds no model file (and no model file open) is ended again.
    const isModel = (document: vscode.TextDocument): boolean => isModelDocument(document, readSettings(document.uri));
    const modelOpen = vscode.workspace.textDocuments.some(isModel);
    const otherJsonc = vscode.workspace.textDocuments.some((d) => d.languageId === 'jsonc' && !isModel(d));
    if (modelOpen || !otherJsonc) service.warmNow();
    if (!modelOpen)
      void vscode.workspace.findFiles(readSettings().modelFiles, '**/node_modules/**', 1).then(
        (found) => {
          if (found.length > 0) service.keepWarm();
          else service.releaseUnusedWorker();
        },
        () => undefined,
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
      timeline,
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
