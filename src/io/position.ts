// Text offsets to 1-based line:column, and problems formatted as `file:line:col: message`.
import type { ModelProblem } from '../engine/model/problems';

/** 1-based line and column (in UTF-16 code units) of `offset` in `text`; \r\n, \n and \r end lines. */
export function offsetToLineCol(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 /* \n */) {
      line++;
      lineStart = i + 1;
    } else if (ch === 13 /* \r */ && text.charCodeAt(i + 1) !== 10) {
      line++; // a lone \r; in \r\n the \n ends the line
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** One problem as a compiler-style line: `file:line:col: message` (warnings add "warning: "). */
export function formatProblem(displayPath: string, text: string, problem: ModelProblem): string {
  const { line, column } = offsetToLineCol(text, problem.range.offset);
  const prefix = problem.severity === 'warning' ? 'warning: ' : '';
  return `${displayPath}:${line}:${column}: ${prefix}${problem.message}`;
}
