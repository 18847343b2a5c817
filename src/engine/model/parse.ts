// Model file text (JSONC) -> validated Model, with source ranges for every problem.
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { CellType, KeyPath, LossKind, Model, Nonlinearity, RnnForm, TrainingSettings } from './types';
import { ProblemList, type ModelProblem, type SourceRange } from './problems';
import {
  formatShape,
  type Property,
  rangeOf,
  readEnum,
  readObject,
  readPositiveInt,
  readPositiveOrNull,
  readString,
  readTensor,
  type NumericTensor,
} from './jsonTree';
import {
  type Architecture,
  checkMissingWeights,
  checkWeightShapes,
  collectFileWeights,
  collectInlineWeights,
  emptyWeightSet,
  type ExplicitArchitecture,
  resolveArchitecture,
  type WeightEntry,
  type WeightSet,
} from './weights';
import { assembleLayers, checkInitFits, readInit, type InitSpec } from './init';
import { readData, readTargets, type DataInputs } from './data';
import { readSafetensors } from './safetensors';

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

/** The top-level keys of a model file. */
export const TOP_LEVEL_KEYS = [
  'cell',
  'form',
  'nonlinearity',
  'input_size',
  'hidden_size',
  'num_layers',
  'weights',
  'readout',
  'init',
  'data',
  'loss',
  'training',
  'name',
  '$schema',
] as const;

/** Largest input_size / hidden_size / num_layers accepted at all. */
const MAX_SIZE = 1_000_000;
const MAX_LAYERS = 1024;

/** Most syntax errors reported (later ones tend to be consequences of the first). */
const MAX_SYNTAX_ERRORS = 20;

/** Parses and validates a model file. Never throws on bad input. */
export function parseModel(text: string, options: ParseOptions = {}): ParseResult {
  const problems = new ProblemList();
  let model: Model | undefined;
  try {
    model = parseInto(text, options, problems);
  } catch (err) {
    // A defect, not bad input: still reported as a problem rather than thrown at the caller.
    problems.error(
      [],
      { offset: 0, length: 0 },
      `internal error while reading the model: ${err instanceof Error ? err.message : String(err)}`,
    );
    model = undefined;
  }
  if (!model && !problems.hasErrors) {
    problems.error(
      [],
      { offset: 0, length: 0 },
      'internal error: the model could not be built, but no problem was found',
    );
  }
  const list = problems.finish();
  return list.some((p) => p.severity === 'error') ? { problems: list } : { model, problems: list };
}

/** Message for a syntax error, with a hint for the non-JSON number tokens. */
function syntaxMessage(text: string, error: ParseError): string {
  const token = /^-?(NaN|Infinity|inf|nan)\b/i.exec(text.slice(error.offset, error.offset + 12));
  if (token) return `syntax error: ${token[0]} is not a JSON number (numbers must be finite)`;
  return `syntax error: ${describeParseError(printParseErrorCode(error.error))}`;
}

/** "CommaExpected" → "comma expected". */
function describeParseError(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** The keys read before the weights: what the top level states, in the order they are checked. */
interface TopLevel {
  explicit: ExplicitArchitecture;
  formProp: Property | undefined;
  form: RnnForm | undefined;
  nlProp: Property | undefined;
  nonlinearity: Nonlinearity | undefined;
  lossProp: Property | undefined;
  lossGiven: LossKind | undefined;
  training: TrainingSettings | undefined;
  name: string | undefined;
  initProp: Property | undefined;
  init: InitSpec | undefined;
}

/** The validated weights (valid when no error was added reading them). */
interface WeightsRead {
  weights: WeightSet;
  weightsOk: boolean;
  /** The `weights` key's range, where problems about the set as a whole sit. */
  anchor: SourceRange | undefined;
}

function parseInto(text: string, options: ParseOptions, problems: ProblemList): Model | undefined {
  const root = readRoot(text, problems);
  if (!root) return undefined;
  const { node, props } = root;
  const rootAnchor = { offset: node.offset, length: 1 };
  const top = readTopLevel(props, problems);
  const read = readWeights(props.get('weights'), top.initProp, rootAnchor, options, problems);
  const arch = readArchitecture(top, read, problems);
  const readout = readReadout(props.get('readout'), read.weights, arch, problems);
  const dataProp = props.get('data');
  if (!dataProp) {
    problems.error(['data'], rootAnchor, 'missing: give data.inputs (or data.generate)');
    return undefined;
  }
  const inputSource = top.explicit.inputSize ? 'from input_size' : 'from weights.weight_ih_l0';
  const data = readData(dataProp, arch?.inputSize, inputSource, problems);
  if (!data || !arch) return undefined;
  const fullArch = { ...arch, inputSize: arch.inputSize ?? data.inputSize };
  if (top.init && !checkInitFits(top.init, fullArch, problems)) return undefined;
  if (top.initProp && !top.init) return undefined;
  const outputSize = readout ? readout.weight.rows : fullArch.hiddenSize;
  const lossAndTargets = readLossAndTargets(top, data, readout !== undefined, outputSize, problems);
  const { form, nonlinearity, training } = top;
  if (problems.hasErrors || !lossAndTargets || !form || !nonlinearity || !training) return undefined;
  const { loss, targets } = lossAndTargets;
  return {
    ...(top.name !== undefined ? { name: top.name } : {}),
    cell: fullArch.cell,
    form,
    nonlinearity,
    inputSize: fullArch.inputSize,
    hiddenSize: fullArch.hiddenSize,
    numLayers: fullArch.numLayers,
    outputSize,
    layers: assembleLayers(fullArch, read.weights, top.init),
    ...(readout ? { readout } : {}),
    sequences: data.sequences.map((s, b) => ({
      length: s.length,
      inputs: s.inputs,
      ...(targets ? { targets: targets[b] } : {}),
    })),
    loss,
    training,
  };
}

/** The top-level object's properties; syntax errors (at most MAX_SYNTAX_ERRORS) and an empty file are problems. */
function readRoot(text: string, problems: ProblemList): { node: Node; props: Map<string, Property> } | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    for (const e of errors.slice(0, MAX_SYNTAX_ERRORS)) {
      problems.error([], { offset: e.offset, length: Math.max(e.length, 1) }, syntaxMessage(text, e));
    }
    return undefined;
  }
  if (!root) {
    problems.error([], { offset: 0, length: 0 }, 'the model file is empty; expected a JSON object');
    return undefined;
  }
  const props = readObject(root, [], problems, TOP_LEVEL_KEYS);
  return props ? { node: root, props } : undefined;
}

/** Reads the scalar keys, training, name, $schema and init (each wrong one is a problem on it). */
function readTopLevel(props: Map<string, Property>, problems: ProblemList): TopLevel {
  const explicit: ExplicitArchitecture = {};
  const cellProp = props.get('cell');
  if (cellProp) {
    const v = readEnum<CellType>(cellProp, ['cell'], ['rnn', 'lstm', 'gru'], problems);
    if (v) explicit.cell = { value: v, range: rangeOf(cellProp.value) };
  }
  const formProp = props.get('form');
  const form = formProp ? readEnum<RnnForm>(formProp, ['form'], ['elman', 'pascanu'], problems) : 'elman';
  const nlProp = props.get('nonlinearity');
  const nonlinearity = nlProp
    ? readEnum<Nonlinearity>(nlProp, ['nonlinearity'], ['tanh', 'relu', 'sigmoid', 'linear'], problems)
    : 'tanh';
  for (const [key, field, max] of [
    ['input_size', 'inputSize', MAX_SIZE],
    ['hidden_size', 'hiddenSize', MAX_SIZE],
    ['num_layers', 'numLayers', MAX_LAYERS],
  ] as const) {
    const p = props.get(key);
    if (!p) continue;
    const v = readPositiveInt(p, [key], problems, max);
    if (v !== undefined) explicit[field] = { value: v, range: rangeOf(p.value) };
  }
  const lossProp = props.get('loss');
  const lossGiven = lossProp
    ? readEnum<LossKind>(lossProp, ['loss'], ['sum', 'mse', 'cross_entropy'], problems)
    : undefined;
  const training = readTraining(props.get('training'), problems);
  let name: string | undefined;
  const nameProp = props.get('name');
  if (nameProp) name = readString(nameProp, ['name'], problems);
  const schemaProp = props.get('$schema');
  if (schemaProp) readString(schemaProp, ['$schema'], problems);
  const initProp = props.get('init');
  const init = initProp ? readInit(initProp, problems) : undefined;
  return { explicit, formProp, form, nlProp, nonlinearity, lossProp, lossGiven, training, name, initProp, init };
}

/** Reads `weights` (inline tensors or a safetensors path); without an init they must be there. */
function readWeights(
  weightsProp: Property | undefined,
  initProp: Property | undefined,
  rootAnchor: SourceRange,
  options: ParseOptions,
  problems: ProblemList,
): WeightsRead {
  if (!weightsProp) {
    if (initProp) return { weights: emptyWeightSet(), weightsOk: true, anchor: undefined };
    problems.error(['weights'], rootAnchor, 'missing: give weights (or an init that creates them)');
    return { weights: emptyWeightSet(), weightsOk: false, anchor: undefined };
  }
  const anchor = rangeOf(weightsProp.keyNode);
  const before = problems.errorCount;
  const weights =
    weightsProp.value.type === 'string'
      ? loadFileWeights(weightsProp, options, problems)
      : collectInlineWeights(weightsProp, problems);
  let weightsOk = problems.errorCount === before;
  if (weightsOk && weights.given.size === 0 && !initProp) {
    problems.error(['weights'], anchor, 'no weights given: needs weight_ih_l0 and weight_hh_l0 (or an init)');
    weightsOk = false;
  }
  return { weights, weightsOk, anchor };
}

/**
 * The architecture the weights and the explicit keys agree on, with every weight's shape checked against it,
 * and `form` / `nonlinearity` checked against the cell. Undefined when it cannot be determined.
 */
function readArchitecture(top: TopLevel, read: WeightsRead, problems: ProblemList): Architecture | undefined {
  const { weights, weightsOk, anchor } = read;
  const withInit = top.initProp !== undefined;
  let arch: Architecture | undefined;
  if (weightsOk || weights.valid.size > 0) {
    const anchors = { init: top.initProp ? rangeOf(top.initProp.keyNode) : undefined, weights: anchor };
    arch = resolveArchitecture(weights, top.explicit, withInit, anchors, problems);
  }
  if (arch) {
    if (!withInit && anchor) checkMissingWeights(weights, arch, ['weights'], anchor, problems);
    checkWeightShapes(weights, arch, problems);
  }
  const cell: CellType | undefined = arch?.cell ?? top.explicit.cell?.value;
  if (cell && cell !== 'rnn') checkRnnOnlyKeys(top, cell, problems);
  return arch;
}

/** `form` and `nonlinearity` other than the defaults apply only to rnn cells. */
function checkRnnOnlyKeys(top: TopLevel, cell: CellType, problems: ProblemList): void {
  const { formProp, form, nlProp, nonlinearity } = top;
  if (formProp && form && form !== 'elman') {
    problems.error(['form'], rangeOf(formProp.value), `"${form}" applies only to cell rnn, but this model is ${cell}`);
  }
  if (nlProp && nonlinearity && nonlinearity !== 'tanh') {
    problems.error(
      ['nonlinearity'],
      rangeOf(nlProp.value),
      `"${nonlinearity}" applies only to cell rnn, but this model is ${cell} (its gates fix the nonlinearities)`,
    );
  }
}

/**
 * The loss (given, or mse with targets and sum without) and its targets, checked against the output size.
 * Undefined when the loss is wrong.
 */
function readLossAndTargets(
  top: TopLevel,
  data: DataInputs,
  withReadout: boolean,
  outputSize: number,
  problems: ProblemList,
): { loss: LossKind; targets: Float64Array[] | undefined } | undefined {
  const { lossProp, lossGiven } = top;
  const outputSource = withReadout ? 'the rows of readout.weight' : 'the hidden size, without a readout';
  const loss: LossKind | undefined = lossGiven ?? (lossProp ? undefined : data.targets ? 'mse' : 'sum');
  let targets: Float64Array[] | undefined;
  if (loss && lossProp && loss !== 'sum' && !data.targets) {
    problems.error(['loss'], rangeOf(lossProp.value), `"${loss}" needs data.targets`);
  } else if (loss === 'sum' && data.targets) {
    problems.warning(['data', 'targets'], rangeOf(data.targets.keyNode), 'ignored: loss "sum" does not use targets');
  } else if (loss && data.targets) {
    targets = readTargets(data.targets, data, loss, outputSize, outputSource, problems);
  }
  return loss ? { loss, targets } : undefined;
}

/** Loads a safetensors `weights` path through the loader; problems sit on the path string. */
function loadFileWeights(prop: Property, options: ParseOptions, problems: ProblemList): WeightSet {
  const empty = emptyWeightSet();
  const relative = String(prop.value.value);
  const range = rangeOf(prop.value);
  if (!/\.safetensors$/i.test(relative)) {
    problems.error(
      ['weights'],
      range,
      `"${relative}" is not a .safetensors file; a weights path must name a .safetensors file`,
    );
    return empty;
  }
  if (!options.loadWeightsFile) {
    problems.error(['weights'], range, `cannot load "${relative}": weight files are not available here`);
    return empty;
  }
  let loaded: Uint8Array | { error: string };
  try {
    loaded = options.loadWeightsFile(relative);
  } catch (err) {
    loaded = { error: `cannot read "${relative}" (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!(loaded instanceof Uint8Array)) {
    problems.error(['weights'], range, loaded.error.replace(/^weights:\s*/, ''));
    return empty;
  }
  const file = readSafetensors(loaded);
  if ('error' in file) {
    problems.error(['weights'], range, `${relative} is not a valid safetensors file: ${file.error}`);
    return empty;
  }
  return collectFileWeights(file.tensors, relative, range, problems);
}

/** Reads `training`: clip_norm, clip_value (positive or null), batch_size (positive integer or null). */
function readTraining(prop: Property | undefined, problems: ProblemList): TrainingSettings | undefined {
  const settings: TrainingSettings = { clipNorm: null, clipValue: null, batchSize: null };
  if (!prop) return settings;
  const props = readObject(prop.value, ['training'], problems, ['clip_norm', 'clip_value', 'batch_size']);
  if (!props) return undefined;
  const before = problems.errorCount;
  const clipNorm = props.get('clip_norm');
  if (clipNorm) settings.clipNorm = readPositiveOrNull(clipNorm, ['training', 'clip_norm'], problems) ?? null;
  const clipValue = props.get('clip_value');
  if (clipValue) settings.clipValue = readPositiveOrNull(clipValue, ['training', 'clip_value'], problems) ?? null;
  const batch = props.get('batch_size');
  if (batch && batch.value.type !== 'null') {
    settings.batchSize = readPositiveInt(batch, ['training', 'batch_size'], problems) ?? null;
  }
  return problems.errorCount > before ? undefined : settings;
}

/** Reads the readout (inline or from the weights file) and checks it against H. */
function readReadout(
  prop: Property | undefined,
  weights: WeightSet,
  arch: Architecture | undefined,
  problems: ProblemList,
): Model['readout'] | undefined {
  let weight:
    { tensor: NumericTensor; path: KeyPath; range: { offset: number; length: number }; origin: string } | undefined;
  let bias: typeof weight;
  if (prop) {
    if (weights.readoutGiven.size > 0) {
      problems.error(['readout'], rangeOf(prop.keyNode), 'also given in the weights file; give it once');
      return undefined;
    }
    const props = readObject(prop.value, ['readout'], problems, ['weight', 'bias']);
    if (!props) return undefined;
    const w = props.get('weight');
    if (!w) {
      problems.error(['readout'], rangeOf(prop.keyNode), 'needs weight ([D][H])');
      return undefined;
    }
    const wt = readTensor(w.value, ['readout', 'weight'], 2, problems);
    if (wt) weight = { tensor: wt, path: ['readout', 'weight'], range: rangeOf(w.keyNode), origin: '' };
    const b = props.get('bias');
    if (b) {
      const bt = readTensor(b.value, ['readout', 'bias'], 1, problems);
      if (!bt) return undefined;
      bias = { tensor: bt, path: ['readout', 'bias'], range: rangeOf(b.keyNode), origin: '' };
    }
  } else if (weights.readoutGiven.size > 0) {
    const w: WeightEntry | undefined = weights.readout.get('weight');
    const b: WeightEntry | undefined = weights.readout.get('bias');
    if (!w) {
      const anyEntry = b;
      if (anyEntry && !weights.readoutGiven.has('readout.weight')) {
        problems.error(['weights'], anyEntry.range, 'readout.bias is given without readout.weight');
      }
      return undefined;
    }
    weight = w;
    bias = b;
  } else {
    return undefined;
  }
  if (!weight || !arch) return undefined;
  const h = arch.hiddenSize;
  const shape = weight.tensor.shape;
  if (shape.length !== 2 || shape[0] < 1 || shape[1] !== h) {
    problems.error(
      weight.path,
      weight.range,
      `expected shape [D][${h}] (D × H, D ≥ 1, H=${h}), got ${formatShape(shape)}${weight.origin}`,
    );
    return undefined;
  }
  const d = shape[0];
  if (bias) {
    const bs = bias.tensor.shape;
    if (bs.length !== 1 || bs[0] !== d) {
      problems.error(
        bias.path,
        bias.range,
        `expected shape [${d}] (D, the rows of readout.weight), got ${formatShape(bs)}${bias.origin}`,
      );
      return undefined;
    }
  }
  return {
    weight: { rows: d, cols: h, data: weight.tensor.data },
    bias: bias ? bias.tensor.data : new Float64Array(d),
  };
}
