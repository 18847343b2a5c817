// Checkpoints in the editor (vscode-free, unit-tested): which files are checkpoints, the analysis parameters of a
// checkpoint analyzed directly (as if a model file said only {"weights": NAME}), and the module choices a result
// offers.
import * as path from 'path';
import { checkpointModelText, isWeightsFileName } from '../engine/model/checkpointSource';
import type { ModelProblem } from '../engine/model/problems';
import type { AnalyzeParams, AnalyzeResult } from '../worker/protocol';
import type { ExtensionSettings } from './settingsLogic';

/** Whether a path names a checkpoint the extension can analyze directly (.pt .pth .bin .ckpt .onnx …). */
export function isCheckpointPath(fsPath: string): boolean {
  return isWeightsFileName(fsPath) && !fsPath.endsWith('.rnn.json');
}

/**
 * The parameters of a checkpoint analyzed directly: the text `{"weights": NAME}` (and `module` when chosen), read
 * relative to the checkpoint, confined to its workspace folder (else its own folder).
 */
export function checkpointParams(
  fsPath: string,
  workspaceFolder: string | undefined,
  settings: Pick<ExtensionSettings, 'maxLag' | 'thresholds'>,
  module?: string,
): AnalyzeParams {
  const rootDir = workspaceFolder ?? path.dirname(fsPath);
  const displayPath = workspaceFolder
    ? path.relative(rootDir, fsPath).split(path.sep).join('/')
    : path.basename(fsPath);
  return {
    text: checkpointModelText(fsPath, module),
    filePath: fsPath,
    rootDir,
    displayPath,
    maxLag: settings.maxLag,
    thresholds: settings.thresholds,
  };
}

/** The problem of a failed result that asks to choose among candidate modules, if any. */
export function moduleChoice(result: AnalyzeResult): (ModelProblem & { candidates: string[] }) | undefined {
  if (result.ok) return undefined;
  const found = result.problems.find((p) => p.candidates !== undefined && p.candidates.length > 0);
  return found as (ModelProblem & { candidates: string[] }) | undefined;
}
