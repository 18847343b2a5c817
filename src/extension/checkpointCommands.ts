// Checkpoints in the editor: "Analyze RNN gradients" on a checkpoint (analyzed as if a model file said only
// {"weights": NAME}), "Create model file from checkpoint" (writes and opens NAME.rnn.json next to it), and the
// quick pick that chooses among several recurrent modules (for a model file it writes `module` into the file).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { WEIGHTS_FILE_EXTENSIONS } from '../engine/model/checkpointSource';
import {
  defaultModule,
  modelFileTemplate,
  type ModuleSummary,
  summarizeCheckpoint,
} from '../engine/model/checkpointTemplate';
import { defaultModelFileOf, makeFileLoader, relativeWeightsPath } from '../io/workspaceFiles';
import { AnalysisError } from '../worker/client';
import type { AnalyzeResult } from '../worker/protocol';
import type { AnalysisService } from './analysisService';
import type { CheckpointReports } from './checkpointReports';
import { checkpointParams, isCheckpointPath, moduleChoice } from './checkpointLogic';
import { formattingOf, toWorkspaceEdit } from './documentEdits';
import { moduleEdits } from './editLogic';
import type { ReportPanelManager } from './reportPanelManager';
import { readSettings } from './settings';

/** The module chosen for each checkpoint analyzed directly (by URI), so that re-analyses keep it. */
const chosenModules = new Map<string, string>();

/** "lstm, input 3, hidden 4, 2 layers, bidirectional": a module's sizes for the quick pick. */
function describeModule(m: ModuleSummary): string {
  const parts = [m.cell ?? 'unknown cell'];
  if (m.inputSize !== undefined) parts.push(`input ${m.inputSize}`);
  if (m.hiddenSize !== undefined) parts.push(`hidden ${m.hiddenSize}`);
  parts.push(m.numLayers === 1 ? '1 layer' : `${m.numLayers} layers`);
  if (m.bidirectional) parts.push('bidirectional');
  if (m.projSize > 0) parts.push(`proj ${m.projSize}`);
  if (m.unsupported.length > 0) parts.push(`not analyzable: ${m.unsupported.join(', ')}`);
  return parts.join(', ');
}

/** Asks which recurrent module to analyze; undefined when dismissed. */
export async function chooseModule(
  fileName: string,
  candidates: readonly { name: string; description?: string }[],
): Promise<string | undefined> {
  const items = candidates.map((c) => ({
    label: c.name === '' ? '(top level)' : c.name,
    description: c.description,
    name: c.name,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `${fileName} holds several recurrent modules`,
    placeHolder: 'Which module should be analyzed?',
    ignoreFocusOut: true,
  });
  return picked?.name;
}

/** Writes `"module": NAME` into a model file's document (one undo step). */
export async function writeModule(document: vscode.TextDocument, module: string): Promise<boolean> {
  return vscode.workspace.applyEdit(
    toWorkspaceEdit(document, moduleEdits(document.getText(), module, formattingOf(document))),
  );
}

/** The workspace folder of a URI (its path), if any. */
function folderOf(uri: vscode.Uri): string | undefined {
  return vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
}

/**
 * Analyzes a checkpoint directly, with progress and Cancel. With several candidate modules, asks which one (a
 * quick pick) and analyzes that one. Returns the last result (undefined when cancelled).
 */
export async function runCheckpointAnalysis(
  service: AnalysisService,
  uri: vscode.Uri,
  options: { heatmap?: boolean; ask?: boolean } = {},
): Promise<AnalyzeResult | undefined> {
  const name = path.basename(uri.fsPath);
  const run = (module: string | undefined): Thenable<AnalyzeResult> => {
    const params = checkpointParams(uri.fsPath, folderOf(uri), readSettings(uri), module);
    if (options.heatmap) params.heatmap = { sequence: 0, maxSize: 256 };
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Analyzing ${name}`, cancellable: true },
      (_progress, token) => service.analyzeParams(params, token),
    );
  };
  const key = uri.toString();
  let result = await run(chosenModules.get(key));
  const choice = moduleChoice(result);
  if (choice && options.ask !== false) {
    const module = await chooseModule(
      name,
      choice.candidates.map((c) => ({ name: c })),
    );
    if (module === undefined) return result;
    chosenModules.set(key, module);
    result = await run(module);
  }
  return result;
}

/** "Analyze RNN gradients" on a checkpoint: the report in the panel, or the problem in a message. */
export async function analyzeCheckpoint(
  service: AnalysisService,
  panel: ReportPanelManager,
  checkpoints: CheckpointReports,
  uri: vscode.Uri,
): Promise<AnalyzeResult | undefined> {
  let result: AnalyzeResult | undefined;
  try {
    result = await runCheckpointAnalysis(service, uri, { heatmap: panel.wantsHeatmap });
  } catch (error) {
    if (error instanceof AnalysisError && (error.reason === 'cancelled' || error.reason === 'disposed'))
      return undefined;
    if (!(error instanceof AnalysisError)) {
      void vscode.window.showErrorMessage(`RNN Gradients: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  }
  if (!result) return undefined;
  if (result.ok) {
    // The panel's actions analyze it again (the heatmap) with the same module, and have no model file to edit.
    const params = checkpointParams(uri.fsPath, folderOf(uri), readSettings(uri), chosenModules.get(uri.toString()));
    checkpoints.set(uri, { base: undefined, params });
    panel.show(uri, result.report, { clip_norm: null, clip_value: null });
    return result;
  }
  const name = path.basename(uri.fsPath);
  const first = result.problems.find((p) => p.severity === 'error') ?? result.problems[0];
  void vscode.window
    .showErrorMessage(
      `RNN Gradients: ${name} cannot be analyzed${first ? `: ${first.message}` : '.'}`,
      'Create Model File',
    )
    .then((choice) => {
      if (choice === 'Create Model File') void vscode.commands.executeCommand('rnnGradients.createModelFile', uri);
    });
  return result;
}

/** The checkpoint a command acts on: its argument, else the user's pick in an open dialog. */
async function pickCheckpoint(argument: unknown): Promise<vscode.Uri | undefined> {
  if (argument instanceof vscode.Uri) return argument;
  const picked = await vscode.window.showOpenDialog({
    title: 'Create model file from checkpoint',
    canSelectMany: false,
    filters: { Checkpoints: WEIGHTS_FILE_EXTENSIONS.map((e) => e.slice(1)) },
  });
  return picked?.[0];
}

/**
 * "Create model file from checkpoint": writes NAME.rnn.json next to the checkpoint (the module it holds, or the one
 * picked among several, the sizes, and a data section to fill in that analyzes as written) and opens it.
 */
export async function createModelFile(argument?: unknown): Promise<vscode.Uri | undefined> {
  const uri = await pickCheckpoint(argument);
  if (!uri) return undefined;
  const name = path.basename(uri.fsPath);
  if (uri.scheme !== 'file' || !isCheckpointPath(uri.fsPath)) {
    void vscode.window.showErrorMessage(
      `RNN Gradients: ${name} is not a checkpoint (expected ${WEIGHTS_FILE_EXTENSIONS.join(' ')}).`,
    );
    return undefined;
  }
  const root = folderOf(uri) ?? path.dirname(uri.fsPath);
  const summary = summarizeCheckpoint(name, makeFileLoader(uri.fsPath, root));
  if ('error' in summary) {
    void vscode.window.showErrorMessage(`RNN Gradients: ${summary.error}`);
    return undefined;
  }
  let chosen = defaultModule(summary);
  if (summary.modules.length > 1) {
    const module = await chooseModule(
      name,
      summary.modules.map((m) => ({ name: m.name, description: describeModule(m) })),
    );
    if (module === undefined) return undefined;
    chosen = defaultModule(summary, module);
  }
  if (!chosen) {
    void vscode.window.showErrorMessage(`RNN Gradients: ${name} holds no recurrent module.`);
    return undefined;
  }
  const target = defaultModelFileOf(uri.fsPath);
  const targetUri = vscode.Uri.file(target);
  if (fs.existsSync(target)) {
    const answer = await vscode.window.showWarningMessage(
      `${path.basename(target)} exists already.`,
      { modal: true },
      'Open Existing',
      'Overwrite',
    );
    if (answer === 'Open Existing') {
      await vscode.window.showTextDocument(targetUri);
      return targetUri;
    }
    if (answer !== 'Overwrite') return undefined;
  }
  const text = modelFileTemplate(summary, relativeWeightsPath(target, uri.fsPath), chosen);
  await vscode.workspace.fs.writeFile(targetUri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(targetUri);
  return targetUri;
}
