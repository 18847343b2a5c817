// `data`: input sequences (batched, single-sequence shorthand, time_first), targets, and `generate`.
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

/** Most numbers `data.generate` may create (sequences · length · input_size). */
export const MAX_GENERATED_NUMBERS = 20_000_000;

/** How the sequences are nested in `inputs` (and so in `targets`). */
export interface Nesting {
  /** 2: a single sequence [T][…]; 3: a list of sequences. */
  depth: 2 | 3;
  layout: 'batch_first' | 'time_first';
}

/** The validated inputs of `data`, before targets. */
export interface DataInputs {
  /** Per sequence: its length and its T×I inputs (row-major). */
  sequences: { length: number; inputs: Float64Array }[];
  inputSize: number;
  nesting: Nesting;
  targets?: Property;
}

const DATA_KEYS = ['inputs', 'targets', 'layout', 'generate'];
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

/** Reads `data` (inputs or generate). `inputSize` is the model's I when known. */
export function readData(
  prop: Property,
  inputSize: number | undefined,
  inputSizeSource: string,
  problems: ProblemList,
): DataInputs | undefined {
  const props = readObject(prop.value, ['data'], problems, DATA_KEYS);
  if (!props) return undefined;
  const layoutProp = props.get('layout');
  const layout = layoutProp
    ? readEnum(layoutProp, ['data', 'layout'], ['batch_first', 'time_first'], problems)
    : 'batch_first';
  if (!layout) return undefined;
  const inputsProp = props.get('inputs');
  const generateProp = props.get('generate');
  if (inputsProp && generateProp) {
    problems.error(
      ['data', 'generate'],
      rangeOf(generateProp.keyNode),
      'give either data.inputs or data.generate, not both',
    );
    return undefined;
  }
  if (generateProp) {
    const generated = generate(generateProp, inputSize, problems);
    if (!generated) return undefined;
    return { ...generated, nesting: { depth: 3, layout }, targets: props.get('targets') };
  }
  if (!inputsProp) {
    problems.error(['data'], rangeOf(prop.keyNode), 'needs inputs (or generate)');
    return undefined;
  }
  const path: KeyPath = ['data', 'inputs'];
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
    return { length: seq.length, inputs };
  });
  return { sequences, inputSize: size, nesting, targets: props.get('targets') };
}

/** `data.generate`: synthetic inputs from the seeded generator. */
function generate(
  prop: Property,
  inputSize: number | undefined,
  problems: ProblemList,
): { sequences: { length: number; inputs: Float64Array }[]; inputSize: number } | undefined {
  const base: KeyPath = ['data', 'generate'];
  const props = readObject(prop.value, base, problems, GENERATE_KEYS);
  if (!props) return undefined;
  const before = problems.errorCount;
  const need = (key: string): Property | undefined => {
    const p = props.get(key);
    if (!p) problems.error(base, rangeOf(prop.keyNode), `needs ${key}`);
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
  if (inputSize === undefined) {
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
  const sequences: { length: number; inputs: Float64Array }[] = [];
  for (let b = 0; b < count; b++) {
    const inputs = new Float64Array(length * inputSize);
    for (let i = 0; i < inputs.length; i++) {
      inputs[i] = distribution === 'normal' ? scale * rng.normal() : rng.uniformIn(-scale, scale);
    }
    sequences.push({ length, inputs });
  }
  return { sequences, inputSize };
}

/**
 * Reads `data.targets` mirroring the inputs' nesting and lengths: for mse D numbers per step (a bare
 * number when D = 1), for cross_entropy one class index in [0, D) per step (bare or in a one-element list).
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
  const lengths = inputs.sequences.map((s) => s.length);
  const split = splitSequences(prop.value, path, inputs.nesting, problems, { lengths, of: 'data.inputs' });
  if (!split) return undefined;
  const before = problems.errorCount;
  const reporter = new CappedReporter(problems, path, rangeOf(prop.keyNode));
  const d = outputSize;
  const result = split.map((steps) => {
    const perStep = loss === 'cross_entropy' ? 1 : d;
    const out = new Float64Array(steps.length * perStep);
    steps.forEach((step, t) => {
      let node = step.node;
      let at = step.path;
      if (loss === 'cross_entropy') {
        if (node.type === 'array' && node.children?.length === 1) {
          node = node.children[0];
          at = [...at, 0];
        }
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
