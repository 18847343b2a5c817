// Wires the report panel to the analyses: its actions (apply a clip, reveal a key, ask for the heatmap), and
// re-analyses and progress (with partial reports) of the document it shows.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { applyClip, currentClipNorm, revealPath } from './documentEdits';
import { ReportPanelManager, type ReportPanelActions } from './reportPanelManager';
import { sameUri } from './uris';

/** The open document with this URI, if any. */
function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((candidate) => sameUri(candidate.uri, uri));
}

/** Creates the panel manager, fed by the service's analyses; disposing it ends its subscriptions too. */
export function createReportPanel(extensionUri: vscode.Uri, service: AnalysisService): ReportPanelManager {
  const actions: ReportPanelActions = {
    applyClip,
    revealPath,
    requestHeatmap: async (documentUri) => {
      const document = await vscode.workspace.openTextDocument(documentUri);
      // The panel now wants the map, so this is the document's normal analysis with the heatmap: it joins a running
      // one that already includes it, or returns the last result when that has it; a new result reaches the panel
      // through onDidAnalyze below.
      const result = await service.analyzeDocument(document, { heatmap: true, progress: 'notification' });
      if (
        result.ok &&
        result.report.heatmaps?.length &&
        !panel.shownReport?.partial &&
        !panel.shownReport?.report.heatmaps?.length
      ) {
        panel.update(documentUri, result.report, currentClipNorm(document));
      }
    },
  };
  const panel = new ReportPanelManager(extensionUri, actions);
  const shows = (uri: vscode.Uri): boolean => sameUri(panel.currentDocument, uri);
  // Re-analyses of the document the panel shows (edits, saves, the command) include the heatmap once the panel
  // asked for it, instead of a second analysis for the map after each report.
  service.setHeatmapPolicy((uri) => panel.wantsHeatmap && shows(uri));
  panel.own(
    service.onDidAnalyze((event) => {
      if (!shows(event.uri) || !event.result.ok) return;
      const document = openDocument(event.uri);
      panel.update(event.uri, event.result.report, document ? currentClipNorm(document) : null);
    }),
    service.onProgress((event) => {
      if (!shows(event.uri)) return;
      const document = event.partial ? openDocument(event.uri) : undefined;
      panel.progress(event.uri, event.fraction, event.partial, document ? currentClipNorm(document) : undefined);
    }),
    panel.registerSerializer(),
    { dispose: () => service.setHeatmapPolicy(() => false) },
  );
  return panel;
}
