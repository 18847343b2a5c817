// Hover on `weight_hh_l{k}` keys: spectra, Pascanu's condition and the measured regime of that layer; on
// `bias_ih_l{k}` keys: the layer's gate means and saturated shares and its units (gateHoverLogic.ts); on the
// `weights` key or value of a checkpoint-backed model file: where the weights came from, then each layer.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import { biasIhLayer, gatesHover } from './gateHoverLogic';
import { keyPathAtOffset, keySpanAt, parseJsonc, stringValueSpanAt } from './jsonLocationLogic';
import { checkpointHover, weightHhDirection, weightHhHover, weightHhLayer } from './reportLogic';

/**
 * On the `weights` key or value of a checkpoint-backed model file: the source, then each layer as on
 * weight_hh_l{k}; the hover's range is the span under the pointer.
 */
function sourceHover(
  report: Parameters<typeof checkpointHover>[0],
  span: { offset: number; length: number } | undefined,
  document: vscode.TextDocument,
): vscode.Hover | undefined {
  const markdown = checkpointHover(report);
  if (!markdown) return undefined;
  const range = span
    ? new vscode.Range(document.positionAt(span.offset), document.positionAt(span.offset + span.length))
    : undefined;
  return new vscode.Hover(new vscode.MarkdownString(markdown), range);
}

/** Explains a recurrent weight matrix from the document's last report. */
export class WeightHover implements vscode.HoverProvider {
  constructor(private readonly service: AnalysisService) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const report = this.service.lastReport(document.uri);
    if (!report) return undefined;
    const text = document.getText();
    const root = parseJsonc(text);
    const offset = document.offsetAt(position);
    const onValue = stringValueSpanAt(text, ['weights'], offset, root);
    if (onValue) return sourceHover(report, onValue, document);
    const path = keyPathAtOffset(text, offset, root);
    if (path?.length === 1 && path[0] === 'weights')
      return sourceHover(report, keySpanAt(text, ['weights'], root), document);
    if (!path || path.length !== 2 || path[0] !== 'weights' || typeof path[1] !== 'string') return undefined;
    const layer = weightHhLayer(path[1]);
    const bias = biasIhLayer(path[1]);
    const markdown =
      layer !== undefined
        ? weightHhHover(report, layer, weightHhDirection(path[1]))
        : bias !== undefined
          ? gatesHover(report, bias.layer, bias.direction)
          : undefined;
    if (!markdown) return undefined;
    const span = keySpanAt(text, path, root);
    const range = span
      ? new vscode.Range(document.positionAt(span.offset), document.positionAt(span.offset + span.length))
      : undefined;
    return new vscode.Hover(new vscode.MarkdownString(markdown), range);
  }
}
