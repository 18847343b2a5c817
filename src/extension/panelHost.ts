// Wires the report panel to the analyses: its actions (apply a clip, reveal a key, ask for the heatmap), and
// re-analyses and progress of the document it shows.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { applyClip, revealPath } from './documentEdits';
import { numberAt } from './jsonLocationLogic';
import { ReportPanelManager, type ReportPanelActions } from './reportPanel';

/** training.clip_norm as the document states it now (null when unset). */
export function currentClipNorm(document: vscode.TextDocument): number | null {
  return numberAt(document.getText(), ['training', 'clip_norm']);
}

/** Creates the panel manager; its subscriptions to the service are returned for disposal. */
export function createReportPanel(extensionUri: vscode.Uri, service: AnalysisService): { panel: ReportPanelManager; disposables: vscode.Disposable[] } {
  const actions: ReportPanelActions = {
    applyClip,
    revealPath,
    requestHeatmap: async (documentUri) => {
      const document = await vscode.workspace.openTextDocument(documentUri);
      // The panel is updated through onDidAnalyze below.
      await service.analyzeDocument(document, { heatmap: true, progress: 'notification' });
    },
  };
  const panel = new ReportPanelManager(extensionUri, actions);
  const shows = (uri: vscode.Uri): boolean => panel.currentDocument?.toString() === uri.toString();
  const disposables = [
    service.onDidAnalyze((event) => {
      if (!shows(event.uri) || !event.result.ok) return;
      const document = vscode.workspace.textDocuments.find((candidate) => candidate.uri.toString() === event.uri.toString());
      panel.update(event.uri, event.result.report, document ? currentClipNorm(document) : null);
    }),
    service.onProgress((event) => {
      if (shows(event.uri)) panel.progress(event.uri, event.fraction, event.partial);
    }),
    panel.registerSerializer(),
  ];
  return { panel, disposables };
}
