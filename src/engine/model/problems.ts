// Wrong-input problems of a model file, each naming its key path and sitting on a text range, and the list
// that collects them. A leaf of the model reader: every reader module (and the worker protocol) imports its
// problem types from here.
import type { KeyPath } from './types';

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
  /** `unsupported-source`: a file or attribute the engine does not read (default: `invalid-model`). */
  code?: 'unsupported-source';
  /** The candidate recurrent modules, when `module` must choose one of them (the editor offers them). */
  candidates?: string[];
}

/** Most problems one parse reports; beyond it a single "too many problems" note is added. */
export const MAX_PROBLEMS = 200;

/** Formats a key path the way messages name keys: `weights.weight_hh_l0`, `data.inputs[1][3]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') {
      out += `[${part}]`;
    } else {
      out += out === '' ? part : `.${part}`;
    }
  }
  return out;
}

/** "1 step", "3 steps": a count with its noun. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Accumulates problems; messages are prefixed with the dotted key so every message names its key. */
export class ProblemList {
  readonly items: ModelProblem[] = [];
  private dropped = 0;
  /**
   * Dotted paths of known keys that an unknown key was taken for ("hiddn_size" → "hidden_size"): its "did you mean"
   * error already says the key is missing, so the readers do not report that key's absence a second time.
   */
  private readonly misspelt = new Set<string>();

  /** Records that an unknown key at `path`'s place looks like a misspelling of the known key `path`. */
  markMisspelt(path: KeyPath): void {
    this.misspelt.add(formatPath(path));
  }

  /** Whether a misspelling of the key at `path` was reported (see markMisspelt). */
  isMisspelt(path: KeyPath): boolean {
    return this.misspelt.has(formatPath(path));
  }

  /** Records an error on `path`, shown on `range`. */
  error(path: KeyPath, range: SourceRange, message: string): void {
    this.add('error', path, range, message);
  }

  /** Records an error with a code and candidates (see ModelProblem). */
  errorWith(
    path: KeyPath,
    range: SourceRange,
    message: string,
    extra: { code?: 'unsupported-source'; candidates?: string[] },
  ): void {
    const added = this.add('error', path, range, message);
    if (added && extra.code) added.code = extra.code;
    if (added && extra.candidates) added.candidates = [...extra.candidates];
  }

  /** Records a warning on `path`, shown on `range`. */
  warning(path: KeyPath, range: SourceRange, message: string): void {
    this.add('warning', path, range, message);
  }

  /** True when at least one error has been recorded. */
  get hasErrors(): boolean {
    return this.dropped > 0 || this.items.some((p) => p.severity === 'error');
  }

  /** Number of errors recorded so far (used to see whether a step added any). */
  get errorCount(): number {
    return this.dropped + this.items.filter((p) => p.severity === 'error').length;
  }

  /** The final list, with a note when some problems were left out. */
  finish(): ModelProblem[] {
    if (this.dropped > 0 && this.items.length > 0) {
      const last = this.items[this.items.length - 1];
      this.items.push({
        severity: 'error',
        message: `${this.dropped} more problem(s) not shown`,
        path: [],
        range: { offset: last.range.offset, length: 0 },
      });
      this.dropped = 0;
    }
    return this.items;
  }

  private add(
    severity: 'error' | 'warning',
    path: KeyPath,
    range: SourceRange,
    message: string,
  ): ModelProblem | undefined {
    if (this.items.length >= MAX_PROBLEMS) {
      this.dropped++;
      return undefined;
    }
    const name = formatPath(path);
    const problem: ModelProblem = {
      severity,
      message: name === '' ? message : `${name}: ${message}`,
      path: [...path],
      range: { offset: range.offset, length: range.length },
    };
    this.items.push(problem);
    return problem;
  }
}
