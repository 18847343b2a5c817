// `data` (stage 2 of the reader): input sequences (batched, single-sequence shorthand, time_first) or token ids
// for an embedding, `lengths` of padded sequences, targets, and `generate`.
import type { Node } from 'jsonc-parser';
import type { KeyPath, LossKind } from './types';
import { plural, type ProblemList, type SourceRange } from './problems';
import {
  type Property,
  rangeOf,
  readEnum,
  readNonNegativeInt,
  readNumber,
  readObject,
  readPositiveInt,
  readTensor,
  typeName,
} from './jsonTree';
import { MAX_SEED, SeededRandom } from './random';
import type { DataArray, DataSource } from './source';
import { checkFileTokens, readFileInputs, readFileLengths, readFileTokens } from './dataFiles';

/** Most numbers `data.generate` may create (sequences · length · input_size). */
export const MAX_GENERATED_NUMBERS = 20_000_000;

/** How the sequences are nested in `inputs` (and so in `targets`). */
export interface Nesting {
  /** 2: a single sequence [T][…]; 3: a list of sequences. */
  depth: 2 | 3;
  layout: 'batch_first' | 'time_first';
}

/** One sequence as read: its steps in the file (`rows`), its real length, inputs or token ids. */
export interface DataSequence {
  /** Steps the file holds for this sequence (padding included). */
  rows: number;
  /** Real steps: data.lengths[b], else rows. */
  length: number;
  /** rows×I inputs (row-major); empty with tokens. */
  inputs: Float64Array;
  /** Token ids (rows of them) with an embedding. */
  tokens?: Int32Array;
}

/** The validated inputs of `data`, before targets. */
export interface DataInputs {
  sequences: DataSequence[];
  inputSize: number;
  nesting: Nesting;
  /** Whether data.lengths cut some sequence short. */
  lengthsGiven: boolean;
  /** The `data.targets` key. */
  targets?: Property;
  /** The targets' array: nested lists in the model file, or an array read from a file. */
  targetsArray?: DataArray;
}

/** What the data reader needs to know about the model. */
export interface DataContext {
  /** I when known (weights or input_size, or the embedding's width). */
  inputSize: number | undefined;
  /** Where I comes from, for messages. */
  inputSizeSource: string;
  /** V, the embedding's rows, when the model reads tokens through an embedding. */
  vocabulary?: number;
  /** The embedding was given (even if it was wrong): tokens are expected instead of inputs. */
  embeddingGiven: boolean;
}

const GENERATE_KEYS = ['sequences', 'length', 'distribution', 'scale', 'seed'];

/** Most per-step problems listed for one array before they are summarised. */
const STEP_PROBLEM_CAP = 5;

/** A step's node and key path. */
interface StepRef {
  node: Node;
  path: KeyPath;
}

/** Reports up to STEP_PROBLEM_CAP problems, then one summary on the whole list. */
class CappedReporter {
  private count = 0;
  constructor(
    private readonly problems: ProblemList,
    private readonly path: KeyPath,
    private readonly range: SourceRange,
  ) {}
  error(path: KeyPath, range: SourceRange, message: string): void {
    this.count++;
    if (this.count <= STEP_PROBLEM_CAP) this.problems.error(path, range, message);
  }
  finish(): void {
    if (this.count > STEP_PROBLEM_CAP) {
      this.problems.error(
        this.path,
        this.range,
        `${this.count - STEP_PROBLEM_CAP} more problem(s) of this kind not listed`,
      );
    }
  }
}

/** Decides whether `inputs` is a list of sequences (depth 3) or one sequence (depth 2). */
function inputsDepth(node: Node): 2 | 3 {
  for (const item of node.children ?? []) {
    if (item.type !== 'array') return 3;
    const first = item.children?.[0];
    if (first) return first.type === 'array' ? 3 : 2;
  }
  return 3;
}

/**
 * Splits a nested list into per-sequence step nodes following `nesting`. With `expected` lengths
 * (targets), the count of sequences and each length must match them. Reports and returns undefined
 * when the structure is wrong.
 */
function splitSequences(
  node: Node,
  path: KeyPath,
  nesting: Nesting,
  problems: ProblemList,
  expected?: { lengths: number[]; of: string },
): StepRef[][] | undefined {
  if (node.type !== 'array') {
    problems.error(path, rangeOf(node), `expected a list, got ${typeName(node)}`);
    return undefined;
  }
  const outer = node.children ?? [];
  const before = problems.errorCount;
  if (nesting.depth === 2) {
    const want = expected?.lengths[0];
    if (want !== undefined && outer.length !== want) {
      problems.error(path, rangeOf(node), `${plural(outer.length, 'step')}, but ${expected?.of} has ${want}`);
      return undefined;
    }
    if (outer.length === 0) {
      problems.error(path, rangeOf(node), 'empty: a sequence needs at least one time step');
      return undefined;
    }
    return [outer.map((n, t) => ({ node: n, path: [...path, t] }))];
  }
  if (outer.length === 0) {
    problems.error(path, rangeOf(node), 'empty: expected at least one sequence');
    return undefined;
  }
  if (nesting.layout === 'batch_first') {
    if (expected && outer.length !== expected.lengths.length) {
      problems.error(
        path,
        rangeOf(node),
        `${plural(outer.length, 'sequence')}, but ${expected.of} has ${expected.lengths.length}`,
      );
      return undefined;
    }
    const sequences: StepRef[][] = [];
    outer.forEach((seq, b) => {
      const p = [...path, b];
      if (seq.type !== 'array') {
        problems.error(p, rangeOf(seq), `expected a sequence (a list of time steps), got ${typeName(seq)}`);
        return;
      }
      const steps = seq.children ?? [];
      if (expected && steps.length !== expected.lengths[b]) {
        problems.error(
          p,
          rangeOf(seq),
          `${plural(steps.length, 'step')}, but ${expected.of}[${b}] has ${expected.lengths[b]}`,
        );
        return;
      }
      if (steps.length === 0) {
        problems.error(p, rangeOf(seq), 'empty sequence: a sequence needs at least one time step');
        return;
      }
      sequences.push(steps.map((n, t) => ({ node: n, path: [...p, t] })));
    });
    return problems.errorCount > before ? undefined : sequences;
  }
  // time_first: outer index is t, inner index is b; every step holds the same number of sequences.
  const steps = expected ? expected.lengths[0] : outer.length;
  if (expected && outer.length !== steps) {
    problems.error(
      path,
      rangeOf(node),
      `${plural(outer.length, 'time step')}, but ${expected.of} has ${steps} (time_first layout: [T][B]…)`,
    );
    return undefined;
  }
  const first = outer[0];
  const batch = expected ? expected.lengths.length : first.type === 'array' ? (first.children?.length ?? 0) : 0;
  const sequences: StepRef[][] = Array.from({ length: batch }, () => []);
  outer.forEach((row, t) => {
    const p = [...path, t];
    if (row.type !== 'array') {
      problems.error(
        p,
        rangeOf(row),
        `expected a list of ${batch} sequences' steps (time_first layout: [T][B]…), got ${typeName(row)}`,
      );
      return;
    }
    const items = row.children ?? [];
    if (items.length !== batch) {
      problems.error(
        p,
        rangeOf(row),
        `${plural(items.length, 'sequence')} at this time step, expected ${batch} (time_first layout: all sequences have the same length)`,
      );
      return;
    }
    items.forEach((n, b) => sequences[b].push({ node: n, path: [...p, b] }));
  });
  if (batch === 0 && problems.errorCount === before) {
    problems.error([...path, 0], rangeOf(first), 'empty: expected at least one sequence');
  }
  return problems.errorCount > before ? undefined : sequences;
}

/**
 * Reads `data`: inputs (or generate), or token ids with an embedding, then `lengths`. Sequences keep their
 * rows; `length` is the real length (the caller cuts them).
 */
export function readData(data: DataSource, ctx: DataContext, problems: ProblemList): DataInputs | undefined {
  const { props, prop } = data;
  const layoutProp = props.get('layout');
  const layout = layoutProp
    ? readEnum(layoutProp, ['data', 'layout'], ['batch_first', 'time_first'], problems)
    : 'batch_first';
  if (!layout) return undefined;
  const inputsProp = props.get('inputs');
  const tokensProp = props.get('tokens');
  const generateProp = props.get('generate');
  const given = [inputsProp, tokensProp, generateProp].filter((p): p is Property => p !== undefined);
  if (given.length > 1) {
    const [first, second] = given;
    problems.error(
      ['data', second.key],
      rangeOf(second.keyNode),
      `give either data.${first.key} or data.${second.key}, not both`,
    );
    return undefined;
  }
  if (ctx.embeddingGiven && (inputsProp || generateProp)) {
    const p = (inputsProp ?? generateProp) as Property;
    problems.error(
      ['data', p.key],
      rangeOf(p.keyNode),
      'the model starts with an embedding: give data.tokens (token ids), not real-valued inputs',
    );
    return undefined;
  }
  if (tokensProp && !ctx.embeddingGiven) {
    problems.error(
      ['data', 'tokens'],
      rangeOf(tokensProp.keyNode),
      'token ids need an embedding: give embedding: {"weight": [[…]]} (one row per token id), or give data.inputs',
    );
    return undefined;
  }
  let read: Omit<DataInputs, 'lengthsGiven'> | undefined;
  if (generateProp) {
    const generated = generate(generateProp, ctx.inputSize, problems);
    if (!generated) return undefined;
    read = { ...generated, nesting: { depth: 3, layout }, targets: props.get('targets') };
  } else if (tokensProp && data.tokens?.kind === 'file') {
    const tokens = readFileTokens(data.tokens, layout, problems);
    read = tokens && { ...tokens, inputSize: ctx.inputSize ?? 0, targets: props.get('targets') };
  } else if (tokensProp) {
    read = readTokens(tokensProp, layout, ctx, props.get('targets'), problems);
  } else if (inputsProp && data.inputs?.kind === 'file') {
    const inputs = readFileInputs(data.inputs, layout, ctx.inputSize, ctx.inputSizeSource, problems);
    read = inputs && { ...inputs, targets: props.get('targets') };
  } else if (inputsProp) {
    read = readInputs(inputsProp, layout, ctx, props.get('targets'), problems);
  } else {
    problems.error(['data'], rangeOf(prop.keyNode), ctx.embeddingGiven ? 'needs tokens' : 'needs inputs (or generate)');
    return undefined;
  }
  if (!read) return undefined;
  const lengthsProp = props.get('lengths');
  const lengthsGiven = lengthsProp !== undefined;
  if (lengthsProp && data.lengths?.kind === 'file') {
    if (!readFileLengths(data.lengths, read.sequences, read.nesting, problems)) return undefined;
  } else if (
    lengthsProp &&
    !readLengths(lengthsProp, read.sequences, read.nesting, generateProp !== undefined, problems)
  ) {
    return undefined;
  }
  if (tokensProp && ctx.vocabulary !== undefined) {
    const ok =
      data.tokens?.kind === 'file'
        ? checkFileTokens(data.tokens, read.sequences, read.nesting, ctx.vocabulary, problems)
        : checkTokens(tokensProp, read, ctx.vocabulary, problems);
    if (!ok) return undefined;
  }
  return { ...read, lengthsGiven, ...(data.targets ? { targetsArray: data.targets } : {}) };
}

/** Reads `data.inputs`: [B][T][I], one sequence [T][I], or time_first [T][B][I]. */
function readInputs(
  inputsProp: Property,
  layout: Nesting['layout'],
  ctx: DataContext,
  targets: Property | undefined,
  problems: ProblemList,
): Omit<DataInputs, 'lengthsGiven'> | undefined {
  const path: KeyPath = ['data', 'inputs'];
  const inputSize = ctx.inputSize;
  const inputSizeSource = ctx.inputSizeSource;
  if (inputsProp.value.type !== 'array') {
    problems.error(
      path,
      rangeOf(inputsProp.value),
      `expected a list of sequences [B][T][I] (or one sequence [T][I]), got ${typeName(inputsProp.value)}`,
    );
    return undefined;
  }
  const first = inputsProp.value.children?.[0];
  if (first && first.type === 'number') {
    problems.error(
      path,
      rangeOf(inputsProp.value),
      'expected a list of sequences [B][T][I] (or one sequence [T][I]), got a list of numbers',
    );
    return undefined;
  }
  const nesting: Nesting = { depth: inputsDepth(inputsProp.value), layout };
  const split = splitSequences(inputsProp.value, path, nesting, problems);
  if (!split) return undefined;
  // Read every step's features.
  const before = problems.errorCount;
  const vectors: Float64Array[][] = split.map((steps) =>
    steps.map((step) => readTensor(step.node, step.path, 1, problems)?.data ?? new Float64Array(0)),
  );
  if (problems.errorCount > before) return undefined;
  const counts = new Set<number>();
  for (const seq of vectors) for (const v of seq) counts.add(v.length);
  let size = inputSize;
  if (size !== undefined && counts.size === 1 && !counts.has(size)) {
    const [only] = counts;
    problems.error(
      path,
      rangeOf(inputsProp.keyNode),
      `every time step has ${only} features, but the input size is ${size} (${inputSizeSource})`,
    );
    return undefined;
  }
  size ??= vectors[0][0].length;
  if (size === 0) {
    problems.error(split[0][0].path, rangeOf(split[0][0].node), 'expected at least one feature per time step');
    return undefined;
  }
  const reporter = new CappedReporter(problems, path, rangeOf(inputsProp.keyNode));
  const from = inputSize !== undefined ? inputSizeSource : 'as in the first time step';
  split.forEach((steps, b) =>
    steps.forEach((step, t) => {
      const n = vectors[b][t].length;
      if (n !== size)
        reporter.error(step.path, rangeOf(step.node), `expected ${size} features (input size, ${from}), got ${n}`);
    }),
  );
  reporter.finish();
  if (problems.errorCount > before) return undefined;
  const sequences = vectors.map((seq) => {
    const inputs = new Float64Array(seq.length * size);
    seq.forEach((v, t) => inputs.set(v, t * size));
    return { rows: seq.length, length: seq.length, inputs };
  });
  return { sequences, inputSize: size, nesting, targets };
}

/** Token nodes of each sequence, kept for the range checks once lengths are known. */
const tokenNodes = new WeakMap<Omit<DataInputs, 'lengthsGiven'>, StepRef[][]>();

/**
 * Reads `data.tokens`: [B][T] integers, one sequence [T], or time_first [T][B]. Each must be an integer;
 * the range [0, V) is checked on the real steps once the lengths are known (checkTokens).
 */
function readTokens(
  tokensProp: Property,
  layout: Nesting['layout'],
  ctx: DataContext,
  targets: Property | undefined,
  problems: ProblemList,
): Omit<DataInputs, 'lengthsGiven'> | undefined {
  const path: KeyPath = ['data', 'tokens'];
  const node = tokensProp.value;
  if (node.type !== 'array') {
    problems.error(
      path,
      rangeOf(node),
      `expected token ids: a list of sequences [B][T] of integers (or one sequence [T]), got ${typeName(node)}`,
    );
    return undefined;
  }
  const first = node.children?.[0];
  const nesting: Nesting = { depth: first && first.type !== 'array' ? 2 : 3, layout };
  const split = splitSequences(node, path, nesting, problems);
  if (!split) return undefined;
  const reporter = new CappedReporter(problems, path, rangeOf(tokensProp.keyNode));
  const sequences = split.map((steps) => {
    const tokens = new Int32Array(steps.length);
    steps.forEach((step, t) => {
      const n = step.node;
      const v = n.type === 'number' ? (n.value as number) : NaN;
      if (n.type !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
        reporter.error(
          step.path,
          rangeOf(n),
          `expected a token id (an integer), got ${n.type === 'number' ? String(v) : typeName(n)}`,
        );
        return;
      }
      tokens[t] = v;
    });
    return { rows: steps.length, length: steps.length, inputs: new Float64Array(0), tokens };
  });
  reporter.finish();
  if (problems.hasErrors) return undefined;
  const read = { sequences, inputSize: ctx.inputSize ?? 0, nesting, targets };
  tokenNodes.set(read, split);
  return read;
}

/** Token ids of the real steps must lie in [0, V): each wrong one is an error naming data.tokens[b][t]. */
function checkTokens(
  tokensProp: Property,
  read: Omit<DataInputs, 'lengthsGiven'>,
  vocabulary: number,
  problems: ProblemList,
): boolean {
  const split = tokenNodes.get(read);
  if (!split) return true;
  const reporter = new CappedReporter(problems, ['data', 'tokens'], rangeOf(tokensProp.keyNode));
  const before = problems.errorCount;
  read.sequences.forEach((seq, b) => {
    const tokens = seq.tokens as Int32Array;
    for (let t = 0; t < seq.length; t++) {
      const v = tokens[t];
      if (v < 0 || v >= vocabulary) {
        const step = split[b][t];
        reporter.error(
          step.path,
          rangeOf(step.node),
          `token id ${v} is outside the vocabulary [0, ${vocabulary}) (V = ${vocabulary}, the rows of embedding.weight)`,
        );
      }
    }
  });
  reporter.finish();
  return problems.errorCount === before;
}

/**
 * Reads `data.lengths` ([B] positive integers, or one integer for a single sequence) into each sequence's
 * `length`: a length longer than the sequence's steps in the file is an error on it.
 */
function readLengths(
  prop: Property,
  sequences: DataSequence[],
  nesting: Nesting,
  generated: boolean,
  problems: ProblemList,
): boolean {
  const path: KeyPath = ['data', 'lengths'];
  const node = prop.value;
  const items: Node[] | undefined =
    node.type === 'array' ? (node.children ?? []) : node.type === 'number' && nesting.depth === 2 ? [node] : undefined;
  if (!items) {
    problems.error(
      path,
      rangeOf(node),
      `expected a list of ${sequences.length} positive integers, got ${typeName(node)}`,
    );
    return false;
  }
  if (items.length !== sequences.length) {
    const what = generated ? 'data.generate makes' : 'the data hold';
    problems.error(
      path,
      rangeOf(node),
      `${plural(items.length, 'length')}, but ${what} ${plural(sequences.length, 'sequence')}`,
    );
    return false;
  }
  const before = problems.errorCount;
  const arrayName = nesting.layout === 'time_first' ? 'time steps' : 'steps';
  items.forEach((item, b) => {
    const at = node.type === 'array' ? [...path, b] : path;
    const v = item.type === 'number' ? (item.value as number) : NaN;
    if (item.type !== 'number' || !Number.isInteger(v) || v < 1) {
      problems.error(
        at,
        rangeOf(item),
        `expected a positive integer (the real length of sequence ${b}), got ${item.type === 'number' ? String(v) : typeName(item)}`,
      );
      return;
    }
    if (v > sequences[b].rows) {
      problems.error(
        at,
        rangeOf(item),
        `${v}, but sequence ${b} has only ${plural(sequences[b].rows, 'step')} in the data (${arrayName}); a length may not be longer than the data`,
      );
      return;
    }
    sequences[b].length = v;
  });
  return problems.errorCount === before;
}

/** `data.generate`: synthetic inputs from the seeded generator. */
function generate(
  prop: Property,
  inputSize: number | undefined,
  problems: ProblemList,
): { sequences: DataSequence[]; inputSize: number } | undefined {
  const base: KeyPath = ['data', 'generate'];
  const props = readObject(prop.value, base, problems, GENERATE_KEYS);
  if (!props) return undefined;
  const before = problems.errorCount;
  const need = (key: string): Property | undefined => {
    const p = props.get(key);
    if (!p && !problems.isMisspelt([...base, key])) problems.error(base, rangeOf(prop.keyNode), `needs ${key}`);
    return p;
  };
  const seqProp = need('sequences');
  const lenProp = need('length');
  const count = seqProp ? readPositiveInt(seqProp, [...base, 'sequences'], problems) : undefined;
  const length = lenProp ? readPositiveInt(lenProp, [...base, 'length'], problems) : undefined;
  const distProp = props.get('distribution');
  const distribution = distProp
    ? readEnum(distProp, [...base, 'distribution'], ['normal', 'uniform'], problems)
    : 'normal';
  const scaleProp = props.get('scale');
  let scale = 1;
  if (scaleProp) {
    const v = readNumber(scaleProp, [...base, 'scale'], problems);
    if (v !== undefined && v < 0)
      problems.error([...base, 'scale'], rangeOf(scaleProp.value), `expected a non-negative number, got ${v}`);
    else if (v !== undefined) scale = v;
  }
  const seedProp = props.get('seed');
  const seed = seedProp ? readNonNegativeInt(seedProp, [...base, 'seed'], problems, MAX_SEED) : 0;
  if (inputSize === undefined && !problems.isMisspelt(['input_size'])) {
    problems.error(base, rangeOf(prop.keyNode), 'needs the input size: give input_size or weights.weight_ih_l0');
  }
  if (
    problems.errorCount > before ||
    count === undefined ||
    length === undefined ||
    !distribution ||
    seed === undefined ||
    inputSize === undefined
  ) {
    return undefined;
  }
  const total = count * length * inputSize;
  if (total > MAX_GENERATED_NUMBERS) {
    problems.error(
      base,
      rangeOf(prop.keyNode),
      `would create ${total} numbers (sequences ${count} · length ${length} · input_size ${inputSize}); the limit is ${MAX_GENERATED_NUMBERS}`,
    );
    return undefined;
  }
  const rng = new SeededRandom(seed);
  const sequences: DataSequence[] = [];
  for (let b = 0; b < count; b++) {
    const inputs = new Float64Array(length * inputSize);
    for (let i = 0; i < inputs.length; i++) {
      inputs[i] = distribution === 'normal' ? scale * rng.normal() : rng.uniformIn(-scale, scale);
    }
    sequences.push({ rows: length, length, inputs });
  }
  return { sequences, inputSize };
}

/**
 * Reads `data.targets` mirroring the inputs' nesting and steps: for mse D numbers per step (a bare number
 * when D = 1), for cross_entropy one class index in [0, D) per real step (bare or in a one-element list; any
 * number in the padding past data.lengths).
 */
export function readTargets(
  prop: Property,
  inputs: DataInputs,
  loss: LossKind,
  outputSize: number,
  outputSource: string,
  problems: ProblemList,
): Float64Array[] | undefined {
  const path: KeyPath = ['data', 'targets'];
  const lengths = inputs.sequences.map((s) => s.rows);
  const of = inputs.sequences[0]?.tokens ? 'data.tokens' : 'data.inputs';
  const split = splitSequences(prop.value, path, inputs.nesting, problems, { lengths, of });
  if (!split) return undefined;
  const before = problems.errorCount;
  const reporter = new CappedReporter(problems, path, rangeOf(prop.keyNode));
  const d = outputSize;
  const result = split.map((steps, b) => {
    const perStep = loss === 'cross_entropy' ? 1 : d;
    const real = inputs.sequences[b].length;
    const out = new Float64Array(steps.length * perStep);
    steps.forEach((step, t) => {
      let node = step.node;
      let at = step.path;
      if (loss === 'cross_entropy') {
        if (node.type === 'array' && node.children?.length === 1) {
          node = node.children[0];
          at = [...at, 0];
        }
        // Padding (past data.lengths) is ignored: any number, e.g. PyTorch's ignore_index -100.
        if (t >= real && node.type === 'number') return;
        if (node.type !== 'number' || !Number.isFinite(node.value)) {
          reporter.error(at, rangeOf(node), `expected a class index (an integer in [0, ${d})), got ${typeName(node)}`);
          return;
        }
        const v = node.value as number;
        if (!Number.isInteger(v) || v < 0 || v >= d) {
          reporter.error(
            at,
            rangeOf(node),
            `class index ${v} is not an integer in [0, ${d}) (D = ${d}, ${outputSource})`,
          );
          return;
        }
        out[t] = v;
        return;
      }
      if (node.type === 'number' && d === 1) {
        if (!Number.isFinite(node.value)) {
          reporter.error(at, rangeOf(node), `non-finite number (${node.value}); numbers must be finite`);
          return;
        }
        out[t] = node.value as number;
        return;
      }
      const vector = readTensor(node, at, 1, problems);
      if (!vector) return;
      if (vector.data.length !== d) {
        reporter.error(
          at,
          rangeOf(node),
          `expected ${d} numbers (D = ${d}, ${outputSource}), got ${vector.data.length}`,
        );
        return;
      }
      out.set(vector.data, t * d);
    });
    return out;
  });
  reporter.finish();
  return problems.errorCount > before ? undefined : result;
}
