// Stage 2 for data arrays read from files (checkpoints.md section 4): a dense array named by a string
// (`x.npy`, `b.npz#inputs`, `b.pt#x`, `x.pt`, `b.safetensors#x`) checked against the model and split into
// sequences like the inline lists of data.ts. Problems sit on the string that names the array.
import type { KeyPath, LossKind } from './types';
import { plural, type ProblemList, type SourceRange } from './problems';
import type { NumericTensor } from './jsonTree';

/** A data array read from a file (source.ts's DataArray of kind `file`). */
export interface FileArray {
  tensor: NumericTensor & { dtype?: string };
  path: KeyPath;
  range: SourceRange;
  /** The reference as written (`batch.npz#inputs`). */
  label: string;
}

/** The nesting of file-backed arrays: 2 for one sequence, 3 for [B][T]… (or [T][B]… time_first). */
export interface FileNesting {
  depth: 2 | 3;
  layout: 'batch_first' | 'time_first';
}

/** One sequence read from a file: its rows (steps in the file), real length, inputs or token ids. */
export interface FileSequence {
  rows: number;
  length: number;
  inputs: Float64Array;
  tokens?: Int32Array;
}

/** "[3, 4, 2] (float32) in batch.npz#x", for messages. */
function describe(a: FileArray): string {
  const dtype = a.tensor.dtype ? ` (${a.tensor.dtype})` : '';
  return `[${a.tensor.shape.join(', ')}]${dtype} in ${a.label}`;
}

/** The element index of a flat position, as "[i, j, k]". */
function indexOf(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${index.join(', ')}]`;
}

/** The first non-finite element, as "NaN at [i, j, k]", or undefined. */
function firstNonFinite(a: FileArray): string | undefined {
  const data = a.tensor.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) return `${String(data[i])} at ${indexOf(i, a.tensor.shape)}`;
  }
  return undefined;
}

/** Reports a non-finite element of the array; true when all are finite. */
function checkFinite(a: FileArray, problems: ProblemList): boolean {
  const bad = firstNonFinite(a);
  if (bad) problems.error(a.path, a.range, `non-finite number ${bad} in ${a.label}; numbers must be finite`);
  return bad === undefined;
}

/**
 * Copies sequence b of an array laid out [B][T][W] (batch_first), [T][B][W] (time_first) or [T][W] (one
 * sequence) into a T×W row-major array.
 */
function sequenceOf(
  data: Float64Array,
  nesting: FileNesting,
  batch: number,
  steps: number,
  width: number,
  b: number,
): Float64Array {
  if (nesting.depth === 2) return data.slice(0, steps * width);
  if (nesting.layout === 'batch_first') return data.slice(b * steps * width, (b + 1) * steps * width);
  const out = new Float64Array(steps * width);
  for (let t = 0; t < steps; t++) {
    out.set(data.subarray((t * batch + b) * width, (t * batch + b + 1) * width), t * width);
  }
  return out;
}

/** Batch size and steps of the leading axes for a nesting. */
function leadOf(shape: readonly number[], nesting: FileNesting): { batch: number; steps: number } {
  if (nesting.depth === 2) return { batch: 1, steps: shape[0] };
  return nesting.layout === 'time_first' ? { batch: shape[1], steps: shape[0] } : { batch: shape[0], steps: shape[1] };
}

/**
 * File-backed inputs: [B][T][I], one sequence [T][I], or time_first [T][B][I]; I is checked against the model's
 * input size when known.
 */
export function readFileInputs(
  a: FileArray,
  layout: FileNesting['layout'],
  inputSize: number | undefined,
  inputSizeSource: string,
  problems: ProblemList,
): { sequences: FileSequence[]; inputSize: number; nesting: FileNesting } | undefined {
  const shape = a.tensor.shape;
  const expected = layout === 'time_first' ? '[T][B][I] (time_first)' : '[B][T][I] (or one sequence [T][I])';
  if ((shape.length !== 2 && shape.length !== 3) || shape.some((n) => n < 1)) {
    problems.error(a.path, a.range, `expected ${expected}, got ${describe(a)}`);
    return undefined;
  }
  const width = shape[shape.length - 1];
  if (inputSize !== undefined && width !== inputSize) {
    problems.error(
      a.path,
      a.range,
      `expected ${inputSize} inputs per step (I = ${inputSize}, ${inputSizeSource}), got ${describe(a)}`,
    );
    return undefined;
  }
  if (!checkFinite(a, problems)) return undefined;
  const nesting: FileNesting = { depth: shape.length === 2 ? 2 : 3, layout };
  const { batch, steps } = leadOf(shape, nesting);
  const sequences: FileSequence[] = [];
  for (let b = 0; b < batch; b++) {
    const inputs = sequenceOf(a.tensor.data, nesting, batch, steps, width, b);
    sequences.push({ rows: steps, length: steps, inputs });
  }
  return { sequences, inputSize: width, nesting };
}

/**
 * File-backed token ids: [B][T] integers, one sequence [T], or time_first [T][B]. Each must be an integer; the
 * range [0, V) is checked on the real steps once the lengths are known (checkFileTokens).
 */
export function readFileTokens(
  a: FileArray,
  layout: FileNesting['layout'],
  problems: ProblemList,
): { sequences: FileSequence[]; nesting: FileNesting } | undefined {
  const shape = a.tensor.shape;
  const expected = layout === 'time_first' ? '[T][B] (time_first)' : '[B][T] (or one sequence [T])';
  if ((shape.length !== 1 && shape.length !== 2) || shape.some((n) => n < 1)) {
    problems.error(a.path, a.range, `expected token ids ${expected}, got ${describe(a)}`);
    return undefined;
  }
  const data = a.tensor.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
      problems.error(
        a.path,
        a.range,
        `expected token ids (integers), got ${String(v)} at ${indexOf(i, shape)} in ${a.label}`,
      );
      return undefined;
    }
  }
  const nesting: FileNesting = { depth: shape.length === 1 ? 2 : 3, layout };
  const { batch, steps } = leadOf(shape, nesting);
  const sequences: FileSequence[] = [];
  for (let b = 0; b < batch; b++) {
    const tokens = Int32Array.from(sequenceOf(data, nesting, batch, steps, 1, b));
    sequences.push({ rows: steps, length: steps, inputs: new Float64Array(0), tokens });
  }
  return { sequences, nesting };
}

/** Token ids of the real steps must lie in [0, V); the first wrong one is an error on the array's string. */
export function checkFileTokens(
  a: FileArray,
  sequences: FileSequence[],
  nesting: FileNesting,
  vocabulary: number,
  problems: ProblemList,
): boolean {
  for (let b = 0; b < sequences.length; b++) {
    const tokens = sequences[b].tokens as Int32Array;
    for (let t = 0; t < sequences[b].length; t++) {
      const v = tokens[t];
      if (v < 0 || v >= vocabulary) {
        const at = nesting.depth === 2 ? `[${t}]` : nesting.layout === 'time_first' ? `[${t}][${b}]` : `[${b}][${t}]`;
        problems.error(
          a.path,
          a.range,
          `token id ${v} at ${at} in ${a.label} is outside the vocabulary [0, ${vocabulary}) (V = ${vocabulary}, the rows of embedding.weight)`,
        );
        return false;
      }
    }
  }
  return true;
}

/**
 * File-backed `data.lengths`: [B] positive integers (a single number for one sequence), each at most the steps
 * its sequence has in the data.
 */
export function readFileLengths(
  a: FileArray,
  sequences: FileSequence[],
  nesting: FileNesting,
  problems: ProblemList,
): boolean {
  const shape = a.tensor.shape;
  const data = a.tensor.data;
  const scalar = nesting.depth === 2 && (shape.length === 0 || (shape.length === 1 && shape[0] === 1));
  if (!scalar && (shape.length !== 1 || shape[0] !== sequences.length)) {
    problems.error(
      a.path,
      a.range,
      `expected ${plural(sequences.length, 'length')} ([${sequences.length}]), got ${describe(a)}`,
    );
    return false;
  }
  for (let b = 0; b < sequences.length; b++) {
    const v = data[b];
    if (!Number.isInteger(v) || v < 1) {
      problems.error(
        a.path,
        a.range,
        `expected positive integers, got ${String(v)} at [${b}] in ${a.label} (the real length of sequence ${b})`,
      );
      return false;
    }
    if (v > sequences[b].rows) {
      problems.error(
        a.path,
        a.range,
        `${v} at [${b}] in ${a.label}, but sequence ${b} has only ${plural(sequences[b].rows, 'step')} in the data; a length may not be longer than the data`,
      );
      return false;
    }
  }
  for (let b = 0; b < sequences.length; b++) sequences[b].length = data[b];
  return true;
}

/**
 * File-backed targets, laid out like the inputs: mse [B][T][D] (or [B][T] when D = 1), cross_entropy [B][T]
 * class ids (or [B][T][1]); one sequence drops the B axis; time_first swaps B and T. Class ids past a sequence's
 * real length are padding and may be anything finite (e.g. ignore_index -100).
 */
export function readFileTargets(
  a: FileArray,
  sequences: readonly FileSequence[],
  nesting: FileNesting,
  of: string,
  loss: LossKind,
  outputSize: number,
  outputSource: string,
  problems: ProblemList,
): Float64Array[] | undefined {
  const shape = [...a.tensor.shape];
  const d = outputSize;
  const perStep = loss === 'cross_entropy' ? 1 : d;
  const rows = sequences.map((s) => s.rows);
  const lead =
    nesting.depth === 2 ? [rows[0]] : nesting.layout === 'time_first' ? [rows[0], rows.length] : [rows.length, rows[0]];
  const what =
    loss === 'cross_entropy'
      ? `class ids [${lead.join('][')}]`
      : `[${lead.join('][')}][${d}] (D = ${d}, ${outputSource})`;
  // A trailing axis of 1 for class ids, or a missing trailing axis when D = 1.
  const full = perStep === 1 && shape.length === lead.length ? [...shape, 1] : shape;
  if (full.length !== lead.length + 1 || lead.some((n, i) => full[i] !== n) || full[lead.length] !== perStep) {
    problems.error(a.path, a.range, `expected ${what} to match ${of}, got ${describe(a)}`);
    return undefined;
  }
  if (!checkFinite(a, problems)) return undefined;
  const out: Float64Array[] = [];
  for (let b = 0; b < sequences.length; b++) {
    const seq = sequenceOf(a.tensor.data, nesting, sequences.length, rows[0], perStep, b);
    if (loss === 'cross_entropy') {
      for (let t = 0; t < sequences[b].length; t++) {
        const v = seq[t];
        if (!Number.isInteger(v) || v < 0 || v >= d) {
          const at = nesting.depth === 2 ? `[${t}]` : nesting.layout === 'time_first' ? `[${t}][${b}]` : `[${b}][${t}]`;
          problems.error(
            a.path,
            a.range,
            `class index ${v} at ${at} in ${a.label} is not an integer in [0, ${d}) (D = ${d}, ${outputSource})`,
          );
          return undefined;
        }
      }
    }
    out.push(seq);
  }
  return out;
}
