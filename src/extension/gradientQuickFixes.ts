// Quick fixes on the extension's diagnostics: clipping thresholds, the LSTM forget-gate bias, rescaling
// weight_hh_l{k} to a chosen σ_max, a misspelt key or value the wrong-input message suggests a name for, and the
// recurrent module of a checkpoint holding several (writes `module`).
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { diagnosticSource } from './diagnosticsManager';
import { forgetBiasLayerOfKey } from './diagnosticsLogic';
import { clipWorkspaceEdit, currentClip, formattingOf, toWorkspaceEdit } from './documentEdits';
import { didYouMeanEdit, forgetBiasEdits, moduleEdits } from './editLogic';
import { layerLabel } from '../engine/report/layers';
import { clipFixCodes } from './reportLogic';
import { recommendedClipActions } from '../shared/clipAdvice';
import { RESCALE_TARGETS, formatScaled, rescaleMatrixEdits, weightHhKeyOf } from './rescaleLogic';
import type { Report } from '../engine/report/types';

/** The finding code of one of our diagnostics. */
function codeOf(diagnostic: vscode.Diagnostic): string | undefined {
  if (diagnostic.source !== diagnosticSource) return undefined;
  const code = diagnostic.code;
  if (typeof code === 'object' && code !== null) return String(code.value);
  return code === undefined ? undefined : String(code);
}

/**
 * "Rescale weight_hh_l{k} to σ_max s (now x)" for each target below the layer's σ_max: every number of the inline
 * matrix multiplied by s/x, one undoable edit. For a matrix the file does not contain (a checkpoint, `init`), one
 * disabled action whose reason says why and what to do instead.
 */
function rescaleActions(
  document: vscode.TextDocument,
  diagnostic: vscode.Diagnostic,
  report: Report | undefined,
): vscode.CodeAction[] {
  const key = weightHhKeyOf(document.getText(diagnostic.range));
  const match = key ? /^weight_hh_l(\d+)(_reverse)?$/.exec(key) : null;
  if (!key || !match || !report) return [];
  const direction = match[2] ? 'reverse' : 'forward';
  const layer = report.layers.find((l) => l.layer === Number(match[1]) && (l.direction ?? 'forward') === direction);
  const sigma = layer?.sigma_max;
  if (sigma === undefined || sigma === null || !(sigma > 0)) return [];
  const out: vscode.CodeAction[] = [];
  for (const target of RESCALE_TARGETS) {
    if (!(sigma > target)) continue;
    const title = `Rescale ${key} to σ_max ${target} (now ${formatScaled(Number(sigma.toPrecision(3)))})`;
    const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [diagnostic];
    const result = rescaleMatrixEdits(document.getText(), key, target / sigma);
    if (result.kind === 'unavailable') {
      action.disabled = { reason: result.reason };
      out.push(action);
      break; // one explanation is enough
    }
    action.edit = toWorkspaceEdit(document, result.edits);
    out.push(action);
  }
  return out;
}

/** Offers "Set clip_norm/clip_value to X: … (now …)", "Set forget-gate bias to 1.0", the σ_max rescaling and "Did you mean". */
export class GradientQuickFixes implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = {
    providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
  };

  constructor(private readonly service: AnalysisService) {}

  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const report = this.service.lastReport(document.uri);
    let clipOffered = false;
    const forgetOffered = new Set<string>();
    for (const diagnostic of context.diagnostics) {
      const code = codeOf(diagnostic);
      if (code === undefined) continue;
      if (clipFixCodes.has(code) && !clipOffered && report) {
        clipOffered = true;
        // Titled with what changes: "Set clip_norm to 457: clips 3 of 8 batches (now 1: clips every batch)".
        for (const clip of recommendedClipActions(report, currentClip(document))) {
          if (clip.done) continue;
          const action = new vscode.CodeAction(clip.title, vscode.CodeActionKind.QuickFix);
          action.edit = clipWorkspaceEdit(document, clip.key, clip.value);
          action.diagnostics = [diagnostic];
          action.isPreferred = clip.key === 'clip_norm';
          actions.push(action);
        }
      }
      if (code === 'invalid-model') {
        const offset = document.offsetAt(diagnostic.range.start);
        const span = { offset, length: document.offsetAt(diagnostic.range.end) - offset };
        const fix = didYouMeanEdit(document.getText(), span, diagnostic.message);
        if (fix) {
          const action = new vscode.CodeAction(
            `Did you mean "${fix.to}"? Change "${fix.from}" to "${fix.to}"`,
            vscode.CodeActionKind.QuickFix,
          );
          action.edit = toWorkspaceEdit(document, [fix.edit]);
          action.diagnostics = [diagnostic];
          action.isPreferred = true;
          actions.push(action);
        }
      }
      if (code === 'invalid-model') actions.push(...this.moduleFixes(document, diagnostic));
      if (code === 'units-saturated' || code === 'exploding-gradients')
        actions.push(...rescaleActions(document, diagnostic, report));
      if (code === 'forget-bias-low' || code === 'forget-gate-closed') {
        const key = forgetBiasLayerOfKey(document.getText(diagnostic.range));
        const edits =
          key === undefined
            ? undefined
            : forgetBiasEdits(document.getText(), key.layer, formattingOf(document), key.direction);
        const once = key ? `${key.layer}${key.direction}` : '';
        if (key && edits && edits.length > 0 && !forgetOffered.has(once)) {
          forgetOffered.add(once);
          const action = new vscode.CodeAction(
            `Set forget-gate bias to 1.0 (${layerLabel(key.layer, key.direction)})`,
            vscode.CodeActionKind.QuickFix,
          );
          action.edit = toWorkspaceEdit(document, edits);
          action.diagnostics = [diagnostic];
          action.isPreferred = true;
          actions.push(action);
        }
      }
    }
    return actions;
  }

  /** "Use module "encoder"" for each candidate of a problem that asks to choose one (on `weights` or `module`). */
  private moduleFixes(document: vscode.TextDocument, diagnostic: vscode.Diagnostic): vscode.CodeAction[] {
    const result = this.service.lastResult(document.uri);
    if (!result || result.ok) return [];
    const start = document.offsetAt(diagnostic.range.start);
    const problem = result.problems.find((p) => p.candidates && p.candidates.length > 0 && p.range.offset === start);
    if (!problem?.candidates) return [];
    return problem.candidates.map((name, index) => {
      const action = new vscode.CodeAction(
        name === '' ? 'Use the top-level module' : `Use module "${name}"`,
        vscode.CodeActionKind.QuickFix,
      );
      action.edit = toWorkspaceEdit(document, moduleEdits(document.getText(), name, formattingOf(document)));
      action.diagnostics = [diagnostic];
      action.isPreferred = index === 0;
      return action;
    });
  }
}
