// An analysis result -> diagnostic specs on text spans (vscode-free, unit-tested).
import type { AnalyzeResult } from '../worker/protocol';
import type { Severity } from '../engine/report/types';
import { parseJsonc, spanOfPath, type TextSpan } from './jsonLocationLogic';
import type { Direction } from '../engine/model/types';

/** A syntax error of the model reader (engine/model/parse.ts syntaxMessage). */
export function isSyntaxError(message: string): boolean {
  return message.startsWith('syntax error: ');
}

/** A syntax error that names a non-JSON number token (NaN, Infinity, inf…). */
function isNumberHint(message: string): boolean {
  return /^syntax error: .* is not a JSON number/.test(message);
}

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
 * a finding sits on its path's key (see spanOfPath). Only the engine's findings are shown: nothing is
 * recomputed from the text.
 */
export function diagnosticSpecs(
  text: string,
  result: AnalyzeResult,
  options: { jsonValidates?: boolean } = {},
): DiagnosticSpec[] {
  if (!result.ok) {
    // At most one syntax error of ours. VS Code's JSON service already marks syntax errors, and ours would only
    // repeat them: with it on, only a number token that JSON does not have (NaN, Infinity) keeps our message, which
    // says what to write instead; with it off, our first syntax error stands for the rest (later ones tend to be
    // consequences of the first).
    const shown = result.problems.find((problem) =>
      options.jsonValidates ? isNumberHint(problem.message) : isSyntaxError(problem.message),
    );
    const problems = result.problems.filter((problem) => !isSyntaxError(problem.message) || problem === shown);
    return problems.map((problem) => ({
      span: { offset: problem.range.offset, length: problem.range.length },
      severity: problem.severity,
      message: problem.message,
      code: 'invalid-model',
      path: [...problem.path],
    }));
  }
  const root = parseJsonc(text);
  return result.report.findings.map((finding) => ({
    span: spanOfPath(text, finding.path, root),
    severity: finding.severity,
    message: finding.message,
    code: finding.code,
    path: [...finding.path],
  }));
}

/**
 * The LSTM layer and direction a forget-bias diagnostic is about, from its key text (`"bias_ih_l1"`,
 * `"bias_hh_l1"`, `"weight_ih_l1"` -> layer 1 forward; `"bias_ih_l0_reverse"` -> layer 0 reverse).
 */
export function forgetBiasLayerOfKey(keyText: string): { layer: number; direction: Direction } | undefined {
  const match = /_(?:ih|hh)_l(\d+)(_reverse)?(?![\w])/.exec(keyText);
  return match ? { layer: Number(match[1]), direction: match[2] ? 'reverse' : 'forward' } : undefined;
}
