// Reads the `rnnGradients.*` settings (validated by settingsLogic).
import * as vscode from 'vscode';
import { normalizeSettings, type ExtensionSettings } from './settingsLogic';

/** The settings in force for a resource (workspace-folder settings apply). */
export function readSettings(scope?: vscode.Uri): ExtensionSettings {
  const config = vscode.workspace.getConfiguration('rnnGradients', scope);
  return normalizeSettings({
    analyzeOnSave: config.get('analyzeOnSave'),
    maxLag: config.get('maxLag'),
    vanishingLog10PerStep: config.get('regime.vanishingLog10PerStep'),
    explodingLog10PerStep: config.get('regime.explodingLog10PerStep'),
    modelFiles: config.get('modelFiles'),
    timeoutSeconds: config.get('timeoutSeconds'),
    lagBudgetSeconds: config.get('lagBudgetSeconds'),
  });
}
