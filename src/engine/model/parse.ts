// Model file text (JSONC) -> validated Model, with source ranges for every problem.
// STUB: the interface is fixed; the implementation is being written.
import type { Model, KeyPath } from './types';

/** A span of the model file's text. */
export interface SourceRange {
  offset: number;
  length: number;
}

/** A wrong-input problem: names the key (path) and sits on its range. */
export interface ModelProblem {
  severity: 'error' | 'warning';
  message: string;
  path: KeyPath;
  range: SourceRange;
}

export interface ParseOptions {
  /**
   * Loads the bytes of a `weights` path (relative to the model file). Returns the bytes, or an error
   * message (missing, outside the workspace, unreadable) that becomes a problem on the `weights` key.
   */
  loadWeightsFile?: (relativePath: string) => Uint8Array | { error: string };
}

export interface ParseResult {
  /** Present when there are no error problems. */
  model?: Model;
  problems: ModelProblem[];
}

/** Parses and validates a model file. Never throws on bad input. */
export function parseModel(_text: string, _options: ParseOptions = {}): ParseResult {
  throw new Error('parseModel: not implemented yet');
}
