// An analysis result -> diagnostic specs on text spans (vscode-free, unit-tested).
import type { AnalyzeResult } from '../worker/protocol';
import type { Severity } from '../engine/report/types';
import { parseJsonc, spanOfPath, type TextSpan } from './jsonLocationLogic';
import type { Direction } from '../engine/model/types';
import { layerLabel, nameSuffix } from '../engine/report/layers';
import { forgetBiasThreshold, lowForgetBiasLayers } from './editLogic';

/** One diagnostic to show: where, how severe, what, and which finding code it is. */
export interface DiagnosticSpec {
  span: TextSpan;
  severity: Severity;
  message: string;
  code: string;
  path: (string | number)[];
}

/**
 * Diagnostics of one result on the text it was computed from: wrong input sits on the problem's range;
 * a finding sits on its path's key (see spanOfPath). When the engine did not itself flag a low LSTM
 * forget-gate bias, it is computed from the text here so the quick fix is always offered.
 */
export function diagnosticSpecs(text: string, result: AnalyzeResult): DiagnosticSpec[] {
  if (!result.ok) {
    return result.problems.map((problem) => ({
      span: { offset: problem.range.offset, length: problem.range.length },
      severity: problem.severity,
      message: problem.message,
      code: 'invalid-model',
      path: [...problem.path],
    }));
  }
  const root = parseJsonc(text);
  const specs: DiagnosticSpec[] = result.report.findings.map((finding) => ({
    span: spanOfPath(text, finding.path, root),
    severity: finding.severity,
    message: finding.message,
    code: finding.code,
    path: [...finding.path],
  }));
  if (
    result.report.model.cell === 'lstm' &&
    !result.report.findings.some((finding) => finding.code === 'forget-bias-low')
  ) {
    for (const info of lowForgetBiasLayers(text)) {
      const path = ['weights', `bias_ih_l${info.layer}${nameSuffix(info.direction)}`];
      specs.push({
        span: spanOfPath(text, path, root),
        severity: 'info',
        message:
          `LSTM ${layerLabel(info.layer, info.direction)}: the forget-gate bias (bias_ih + bias_hh, rows ${info.hiddenSize}..${2 * info.hiddenSize - 1}) ` +
          `averages ${info.mean.toPrecision(3)}, below ${forgetBiasThreshold}; a forget bias of 1.0 (Jozefowicz et al. 2015) ` +
          `keeps the cell state, and its gradient, alive over more steps.`,
        code: 'forget-bias-low',
        path,
      });
    }
  }
  return specs;
}

/**
 * The LSTM layer and direction a forget-bias diagnostic is about, from its key text (`"bias_ih_l1"`,
 * `"weight_ih_l1"` -> layer 1 forward; `"bias_ih_l0_reverse"` -> layer 0 reverse).
 */
export function forgetBiasLayerOfKey(keyText: string): { layer: number; direction: Direction } | undefined {
  const match = /_(?:ih|hh)_l(\d+)(_reverse)?(?![\w])/.exec(keyText);
  return match ? { layer: Number(match[1]), direction: match[2] ? 'reverse' : 'forward' } : undefined;
}
