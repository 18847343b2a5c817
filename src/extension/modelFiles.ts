// Which documents are model files, and the analysis parameters of one.
import * as path from 'path';
import * as vscode from 'vscode';
import type { AnalyzeParams } from '../worker/protocol';
import type { ExtensionSettings } from './settingsLogic';

/** Whether a document is a model file the extension analyzes: a file on disk named *.rnn.json or matching `modelFiles`. */
export function isModelDocument(document: vscode.TextDocument, settings: ExtensionSettings): boolean {
  if (document.uri.scheme !== 'file') return false;
  if (document.fileName.endsWith('.rnn.json')) return true;
  return vscode.languages.match({ scheme: 'file', pattern: settings.modelFiles }, document) > 0;
}

/** The analysis parameters of a document: its text, the workspace folder as root (else its directory), settings. */
export function paramsOf(document: vscode.TextDocument, settings: ExtensionSettings): AnalyzeParams {
  const filePath = document.uri.fsPath;
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const rootDir = folder ? folder.uri.fsPath : path.dirname(filePath);
  const displayPath = folder ? path.relative(rootDir, filePath).split(path.sep).join('/') : path.basename(filePath);
  return {
    text: document.getText(),
    filePath,
    rootDir,
    displayPath,
    maxLag: settings.maxLag,
    thresholds: settings.thresholds,
    lagBudgetSeconds: settings.lagBudgetSeconds,
  };
}
