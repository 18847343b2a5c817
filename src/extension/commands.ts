// The command table: each command id and what it does.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { AnalysisError } from '../worker/client';
import type { AnalyzeResult } from '../worker/protocol';
import { isSuperseded, type AnalysisService } from './analysisService';
import { isModelDocument } from './modelFiles';
import { currentClip } from './documentEdits';
import type { ReportPanelManager } from './reportPanelManager';
import { readSettings } from './settings';
import { baseModelCandidates, isTimelineCandidate } from './timelineLogic';
import type { TimelinePanelManager, TimelineRequest } from './timelinePanelManager';
import { sameUri } from './uris';
import type { CheckpointReports } from './checkpointReports';
import { isCheckpointPath, moduleChoice } from './checkpointLogic';
import { analyzeCheckpoint, chooseModule, createModelFile, writeModule } from './checkpointCommands';

/** What commands act on. */
export interface CommandContext {
  service: AnalysisService;
  panel: ReportPanelManager;
  timeline: TimelinePanelManager;
  /** Reports of checkpoints (a timeline's steps, a checkpoint analyzed on its own) and how to analyze them again. */
  checkpoints: CheckpointReports;
}

/**
 * The timeline an Explorer invocation asks for: a folder, or several selected files (the command receives the
 * clicked resource and the whole selection); undefined for a single file (the usual analysis).
 */
async function timelineSelection(argument: unknown, selection: unknown): Promise<TimelineRequest | undefined> {
  const selected = Array.isArray(selection) ? selection.filter((u): u is vscode.Uri => u instanceof vscode.Uri) : [];
  const uris = selected.length > 1 ? selected : argument instanceof vscode.Uri ? [argument] : [];
  if (uris.length === 0) return undefined;
  const kinds = await Promise.all(
    uris.map((u) =>
      vscode.workspace.fs.stat(u).then(
        (s) => s.type,
        () => undefined,
      ),
    ),
  );
  const folders = kinds.map((k) => k !== undefined && (k & vscode.FileType.Directory) !== 0);
  if (uris.length === 1 && !folders[0]) return undefined;
  const files = uris.filter((u, i) => folders[i] || isTimelineCandidate(path.basename(u.fsPath)));
  if (files.length === 0) return undefined;
  const sources = files.map((u) => ({ path: u.fsPath, folder: folders[uris.indexOf(u)] }));
  // A model file among the selected files is the base of the others when its weights names one of them.
  const selectedModels = sources.filter((s) => !s.folder && s.path.toLowerCase().endsWith('.rnn.json'));
  const readText = (file: string): string | undefined => {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open) return open.getText();
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  let candidates = baseModelCandidates(
    sources.filter((s) => !selectedModels.includes(s)),
    readText,
  );
  if (selectedModels.length > 0 && selectedModels.length < sources.length) {
    candidates = selectedModels.map((s) => s.path);
  }
  let base: string | undefined = candidates[0];
  if (candidates.length > 1) {
    const picked = await vscode.window.showQuickPick(
      candidates.map((c) => ({ label: path.basename(c), description: vscode.workspace.asRelativePath(c), c })),
      { title: 'Analyze RNN gradients: timeline', placeHolder: 'Which model file do the checkpoints belong to?' },
    );
    if (!picked) return { sources: [] };
    base = picked.c;
  }
  const checkpointSources = sources.filter((s) => s.path !== base);
  return {
    sources: checkpointSources.map((s) => vscode.Uri.file(s.path)),
    base: base ? vscode.Uri.file(base) : undefined,
  };
}

type Command = (context: CommandContext, ...args: unknown[]) => unknown;

/** The model file a command should analyze: its argument, else the active editor's, else the user's pick. */
async function pickModelFile(argument: unknown): Promise<vscode.Uri | undefined> {
  if (argument instanceof vscode.Uri) return argument;
  const active = vscode.window.activeTextEditor?.document;
  if (active && isModelDocument(active, readSettings(active.uri))) return active.uri;
  const files = await vscode.workspace.findFiles(readSettings().modelFiles, '**/node_modules/**', 500);
  if (files.length === 0) {
    void vscode.window.showInformationMessage('RNN Gradients: no model files (*.rnn.json) in this workspace.');
    return undefined;
  }
  if (files.length === 1) return files[0];
  const items = files
    .map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, true), uri }))
    .sort((a, b) => a.description.localeCompare(b.description));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Analyze RNN gradients',
    placeHolder: 'Which model file?',
  });
  return picked?.uri;
}

/** Marks the re-run after a module was written into the model file (asked once per command). */
const moduleChosen = Symbol('module chosen');

/**
 * Analyzes a model file and shows the report panel; wrong input is pointed out in the Problems panel. On a
 * folder or several selected checkpoints (Explorer), opens their training timeline instead; on one checkpoint,
 * analyzes it as if a model file said only {"weights": NAME}.
 */
async function analyze(
  context: CommandContext,
  argument?: unknown,
  selection?: unknown,
  rerun?: typeof moduleChosen,
): Promise<AnalyzeResult | undefined> {
  const timeline = await timelineSelection(argument, selection);
  if (timeline) {
    if (timeline.sources.length > 0) await context.timeline.open(timeline);
    return undefined;
  }
  const uri = await pickModelFile(argument);
  if (!uri) return undefined;
  // A checkpoint (Explorer context menu): analyzed as if a model file said only {"weights": NAME}.
  if (uri.scheme === 'file' && isCheckpointPath(uri.fsPath))
    return analyzeCheckpoint(context.service, context.panel, context.checkpoints, uri);
  const document = await vscode.workspace.openTextDocument(uri);
  const { service, panel } = context;
  // A long run sends a partial report (short lags) first: show it in the panel at once; the final report replaces it.
  // If the run stops without one (Cancel), the panel says so and offers Re-run (service.onDidStop).
  const partials = service.onProgress((event) => {
    if (!event.partial || !sameUri(event.uri, uri) || sameUri(panel.currentDocument, uri)) return;
    panel.show(uri, event.partial, currentClip(document), true);
  });
  let result: AnalyzeResult;
  try {
    // With the panel's heatmap section open, this run computes the map too (no second run when the report arrives).
    // The result of an analysis of the same text and settings (on open, after an edit) is reused.
    const run = (): Promise<AnalyzeResult> =>
      service.analyzeDocument(document, { progress: 'notification', heatmap: panel.wantsHeatmap });
    const pending = run();
    // Joined an analysis (on open, after an edit) whose partial report went out before this command: show it now.
    const early = service.runningPartial(uri);
    if (early && !sameUri(panel.currentDocument, uri)) panel.show(uri, early, currentClip(document), true);
    try {
      result = await pending;
    } catch (error) {
      // The joined analysis was replaced by a newer one of the same document (a settings change, a save): wait for
      // that one instead of reporting nothing.
      if (!isSuperseded(error)) throw error;
      result = await run();
    }
  } catch (error) {
    if (error instanceof AnalysisError && (error.reason === 'cancelled' || error.reason === 'disposed'))
      return undefined;
    if (!(error instanceof AnalysisError)) {
      void vscode.window.showErrorMessage(`RNN Gradients: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  } finally {
    partials.dispose();
  }
  const choice = moduleChoice(result);
  if (choice && rerun !== moduleChosen) {
    // Several recurrent modules in the checkpoint: the pick is written into the model file as `module`.
    const module = await chooseModule(
      path.basename(uri.fsPath),
      choice.candidates.map((name) => ({ name })),
    );
    if (module !== undefined && (await writeModule(document, module)))
      return analyze(context, uri, undefined, moduleChosen);
  }
  if (result.ok) {
    panel.show(uri, result.report, currentClip(document));
  } else {
    const first = result.problems[0];
    // Not awaited: the command returns while the message waits for the user.
    void vscode.window
      .showErrorMessage(
        `RNN Gradients: ${path.basename(uri.fsPath)} is not a valid model file (${result.problems.length} problem(s))${first ? `: ${first.message}` : '.'}`,
        'Show Problems',
      )
      .then((choice) => {
        if (choice === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
  }
  return result;
}

/** Command ids and their handlers. */
const commands: Record<string, Command> = {
  'rnnGradients.analyze': (context, argument, selection) => analyze(context, argument, selection),
  'rnnGradients.createModelFile': (_context, argument) => createModelFile(argument),
};

/** Registers every command of the table. */
export function registerCommands(context: CommandContext): vscode.Disposable[] {
  return Object.entries(commands).map(([id, handler]) =>
    vscode.commands.registerCommand(id, (...args: unknown[]) => handler(context, ...args)),
  );
}
