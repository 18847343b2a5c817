// Wires the report panel to the analyses: its actions (apply a clip, reveal a key, ask for the heatmap), and
// re-analyses and progress (with partial reports) of the document it shows.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import type { CheckpointReports } from './checkpointReports';
import { applyClip, currentClip, formattingOf, revealPath, toWorkspaceEdit } from './documentEdits';
import { remedyEdits } from './remedyLogic';
import { AnalysisError } from '../worker/client';
import { ReportPanelManager, type ReportPanelActions } from './reportPanelManager';
import { sameUri } from './uris';
import { isCheckpointPath } from './checkpointLogic';
import { runCheckpointAnalysis } from './checkpointCommands';

/** The open document with this URI, if any. */
function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((candidate) => sameUri(candidate.uri, uri));
}

/** Whether a URI names a checkpoint file (a report of it has no model file of its own). */
function isCheckpoint(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && isCheckpointPath(uri.fsPath);
}

/** A checkpoint analyzed on its own has no keys to edit: offers to create its model file. */
function offerModelFile(uri: vscode.Uri, what: string): void {
  void vscode.window
    .showInformationMessage(
      `RNN Gradients: this report is of a checkpoint analyzed on its own; to ${what}, create a model file from ${uri.path.split('/').pop() ?? 'the checkpoint'} first.`,
      'Create Model File',
    )
    .then((choice) => {
      if (choice === 'Create Model File') void vscode.commands.executeCommand('rnnGradients.createModelFile', uri);
    });
}

/**
 * The model file to edit for a report: a timeline checkpoint's base model, else the report's own file; none (with
 * the offer to create one) for a checkpoint analyzed on its own.
 */
function editTarget(checkpoints: CheckpointReports, uri: vscode.Uri, what: string): vscode.Uri | undefined {
  const c = checkpoints.get(uri);
  if (!c && !isCheckpoint(uri)) return uri;
  if (!c?.base) offerModelFile(uri, what);
  return c?.base;
}

/** Creates the panel manager, fed by the service's analyses; disposing it ends its subscriptions too. */
export function createReportPanel(
  extensionUri: vscode.Uri,
  service: AnalysisService,
  checkpoints: CheckpointReports,
): ReportPanelManager {
  /** A checkpoint's report (of a timeline, or analyzed on its own), analyzed again (with the heatmap when asked) and shown. */
  const reanalyzeCheckpoint = async (uri: vscode.Uri, heatmap: boolean): Promise<boolean> => {
    const c = checkpoints.get(uri);
    if (!c) return false;
    const result = await service.analyzeParams(
      heatmap ? { ...c.params, heatmap: { sequence: 0, maxSize: 256 } } : c.params,
    );
    if (result.ok) panel.update(uri, result.report, { clip_norm: null, clip_value: null });
    return true;
  };
  const actions: ReportPanelActions = {
    applyClip: async (uri, key, value) => {
      const target = editTarget(checkpoints, uri, `set training.${key}`);
      if (!target) return;
      await applyClip(target, key, value);
      const document = openDocument(target);
      if (document) panel.fileChanged(uri, currentClip(document));
    },
    revealPath: async (uri, path) => {
      const target = editTarget(checkpoints, uri, 'edit its keys');
      if (target) await revealPath(target, path);
    },
    refresh: async (uri) => {
      await reanalyzeCheckpoint(uri, false);
    },
    rerun: async (uri) => {
      if (await reanalyzeCheckpoint(uri, false)) return;
      await vscode.commands.executeCommand('rnnGradients.analyze', uri);
    },
    applyRemedy: async (uri, remedy) => {
      const target = editTarget(checkpoints, uri, 'change its weights');
      if (!target) return;
      const document = await vscode.workspace.openTextDocument(target);
      const shown = panel.shownReport;
      const result = remedyEdits(
        document.getText(),
        remedy,
        shown && sameUri(vscode.Uri.parse(shown.documentUri, true), uri) ? shown.report : undefined,
        formattingOf(document),
      );
      if (result.kind === 'unavailable') {
        void vscode.window.showInformationMessage(`RNN Gradients: ${result.reason}`);
        return;
      }
      if (!(await vscode.workspace.applyEdit(toWorkspaceEdit(document, result.edits))))
        throw new Error(`Could not edit ${target.fsPath}.`);
    },
    computeExact: async (uri) => {
      if (isCheckpoint(uri) || checkpoints.get(uri)) {
        const c = checkpoints.get(uri);
        if (!c) return;
        const result = await service.analyzeParams({ ...c.params, exact: true });
        if (result.ok) panel.update(uri, result.report, { clip_norm: null, clip_value: null });
        return;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      // The document's analysis with the exact lag table, with progress and Cancel as any run; the report reaches the
      // panel (and the status bar) through onDidAnalyze below.
      let result;
      try {
        result = await service.analyzeDocument(document, { exact: true, progress: 'notification' });
      } catch (error) {
        // Cancelled (the notification's Cancel, or an edit superseded it): the panel already shows the last report.
        if (error instanceof AnalysisError && error.reason === 'cancelled') return;
        throw error;
      }
      if (result.ok && panel.shownReport?.report !== result.report && !panel.shownReport?.partial)
        panel.update(uri, result.report, currentClip(document));
    },
    requestHeatmap: async (documentUri) => {
      if (await reanalyzeCheckpoint(documentUri, true)) return;
      if (isCheckpoint(documentUri)) {
        // A checkpoint analyzed directly (the panel restored after a reload): analyzed again with the map.
        const result = await runCheckpointAnalysis(service, documentUri, { heatmap: true, ask: false });
        if (result?.ok) panel.update(documentUri, result.report, { clip_norm: null, clip_value: null });
        return;
      }
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
        panel.update(documentUri, result.report, currentClip(document));
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
      panel.update(
        event.uri,
        event.result.report,
        document ? currentClip(document) : { clip_norm: null, clip_value: null },
      );
    }),
    service.onProgress((event) => {
      if (!shows(event.uri)) return;
      const document = event.partial ? openDocument(event.uri) : undefined;
      panel.progress(event.uri, event.fraction, event.partial, document ? currentClip(document) : undefined);
    }),
    service.onDidStop((event) => panel.stopped(event.uri, event.message)),
    panel.registerSerializer(),
    { dispose: () => service.setHeatmapPolicy(() => false) },
  );
  return panel;
}
