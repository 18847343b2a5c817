// The edits behind the panel's remedy buttons (vscode-free, unit-tested): the same edits as the editor's quick fixes
// for the forget-gate bias (editLogic.forgetBiasEdits) and for rescaling weight_hh_l{k} (rescaleLogic), or why the
// model file cannot express the remedy.
import type { FormattingOptions } from 'jsonc-parser';
import type { Report } from '../engine/report/types';
import { layerLabel, nameSuffix } from '../engine/report/layers';
import type { RemedyAction } from '../shared/reportView/advice';
import { defaultFormatting, forgetBiasEdits, type TextEditSpec } from './editLogic';
import { rescaleMatrixEdits } from './rescaleLogic';

/** A remedy's edits, or why there are none. */
export type RemedyEdits = { kind: 'edits'; edits: TextEditSpec[] } | { kind: 'unavailable'; reason: string };

/** The edits of a remedy on the model file's text, given the report the panel shows (for the layer's σ_max). */
export function remedyEdits(
  text: string,
  remedy: RemedyAction,
  report: Report | undefined,
  formatting: FormattingOptions = defaultFormatting,
): RemedyEdits {
  const label = layerLabel(remedy.layer, remedy.direction);
  if (remedy.kind === 'forgetBias') {
    const edits = forgetBiasEdits(text, remedy.layer, formatting, remedy.direction);
    if (!edits) {
      return {
        kind: 'unavailable',
        reason: `the forget-gate bias of ${label} is not written in this file and there is no "init" object to set "forget_bias" in.`,
      };
    }
    if (!edits.length) return { kind: 'unavailable', reason: `the forget-gate bias of ${label} is already 1.0.` };
    return { kind: 'edits', edits };
  }
  const key = `weight_hh_l${remedy.layer}${nameSuffix(remedy.direction)}`;
  const layer = report?.layers.find((l) => l.layer === remedy.layer && (l.direction ?? 'forward') === remedy.direction);
  const sigma = layer?.sigma_max;
  if (sigma === undefined || !(sigma > 0))
    return { kind: 'unavailable', reason: `the report has no σ_max for ${label}.` };
  const result = rescaleMatrixEdits(text, key, remedy.target / sigma);
  return result.kind === 'inline' ? { kind: 'edits', edits: result.edits } : result;
}
