// Model file text (JSONC) -> validated Model, with source ranges for every problem.
import { parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { CellType, KeyPath, LossKind, Model, Nonlinearity, RnnForm, TrainingSettings } from './types';
import { ProblemList, type ModelProblem } from './problems';
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
  type ExplicitArchitecture,
  resolveArchitecture,
  type WeightEntry,
  type WeightSet,
} from './weights';
import { assembleLayers, checkInitFits, readInit } from './init';
import { readData, readTargets } from './data';
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

function parseInto(text: string, options: ParseOptions, problems: ProblemList): Model | undefined {
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
  const top = readObject(root, [], problems, TOP_LEVEL_KEYS);
  if (!top) return undefined;
  const rootAnchor = { offset: root.offset, length: 1 };
  const get = (key: string): Property | undefined => top.get(key);

  // Scalars.
  const explicit: ExplicitArchitecture = {};
  const cellProp = get('cell');
  if (cellProp) {
    const v = readEnum<CellType>(cellProp, ['cell'], ['rnn', 'lstm', 'gru'], problems);
    if (v) explicit.cell = { value: v, range: rangeOf(cellProp.value) };
  }
  const formProp = get('form');
  const form = formProp ? readEnum<RnnForm>(formProp, ['form'], ['elman', 'pascanu'], problems) : 'elman';
  const nlProp = get('nonlinearity');
  const nonlinearity = nlProp
    ? readEnum<Nonlinearity>(nlProp, ['nonlinearity'], ['tanh', 'relu', 'sigmoid', 'linear'], problems)
    : 'tanh';
  for (const [key, field, max] of [
    ['input_size', 'inputSize', MAX_SIZE],
    ['hidden_size', 'hiddenSize', MAX_SIZE],
    ['num_layers', 'numLayers', MAX_LAYERS],
  ] as const) {
    const p = get(key);
    if (!p) continue;
    const v = readPositiveInt(p, [key], problems, max);
    if (v !== undefined) explicit[field] = { value: v, range: rangeOf(p.value) };
  }
  const lossProp = get('loss');
  const lossGiven = lossProp
    ? readEnum<LossKind>(lossProp, ['loss'], ['sum', 'mse', 'cross_entropy'], problems)
    : undefined;
  const training = readTraining(get('training'), problems);
  let name: string | undefined;
  const nameProp = get('name');
  if (nameProp) name = readString(nameProp, ['name'], problems);
  const schemaProp = get('$schema');
  if (schemaProp) readString(schemaProp, ['$schema'], problems);
  const initProp = get('init');
  const init = initProp ? readInit(initProp, problems) : undefined;

  // Weights.
  const weightsProp = get('weights');
  let weights: WeightSet = {
    valid: new Map(),
    given: new Set(),
    layersGiven: new Set(),
    readout: new Map(),
    readoutGiven: new Set(),
  };
  let weightsOk = true;
  if (weightsProp) {
    const before = problems.errorCount;
    weights =
      weightsProp.value.type === 'string'
        ? loadFileWeights(weightsProp, options, problems)
        : collectInlineWeights(weightsProp, problems);
    weightsOk = problems.errorCount === before;
    if (weightsOk && weights.given.size === 0 && !initProp) {
      problems.error(
        ['weights'],
        rangeOf(weightsProp.keyNode),
        'no weights given: needs weight_ih_l0 and weight_hh_l0 (or an init)',
      );
      weightsOk = false;
    }
  } else if (!initProp) {
    problems.error(['weights'], rootAnchor, 'missing: give weights (or an init that creates them)');
    weightsOk = false;
  }
  const withInit = initProp !== undefined;

  // Architecture.
  const weightsAnchor = weightsProp ? rangeOf(weightsProp.keyNode) : undefined;
  let arch: Architecture | undefined;
  if (weightsOk || weights.valid.size > 0) {
    const anchors = { init: initProp ? rangeOf(initProp.keyNode) : undefined, weights: weightsAnchor };
    arch = resolveArchitecture(weights, explicit, withInit, anchors, problems);
  }
  if (arch) {
    if (!withInit && weightsProp && weightsAnchor)
      checkMissingWeights(weights, arch, ['weights'], weightsAnchor, problems);
    checkWeightShapes(weights, arch, problems);
  }
  const cell: CellType | undefined = arch?.cell ?? explicit.cell?.value;
  if (cell && cell !== 'rnn') {
    if (formProp && form && form !== 'elman') {
      problems.error(
        ['form'],
        rangeOf(formProp.value),
        `"${form}" applies only to cell rnn, but this model is ${cell}`,
      );
    }
    if (nlProp && nonlinearity && nonlinearity !== 'tanh') {
      problems.error(
        ['nonlinearity'],
        rangeOf(nlProp.value),
        `"${nonlinearity}" applies only to cell rnn, but this model is ${cell} (its gates fix the nonlinearities)`,
      );
    }
  }

  // Readout.
  const readout = readReadout(get('readout'), weights, arch, problems);

  // Data.
  const dataProp = get('data');
  if (!dataProp) {
    problems.error(['data'], rootAnchor, 'missing: give data.inputs (or data.generate)');
    return undefined;
  }
  const inputSource = explicit.inputSize ? 'from input_size' : 'from weights.weight_ih_l0';
  const data = readData(dataProp, arch?.inputSize, inputSource, problems);
  if (!data || !arch) return undefined;
  const fullArch = { ...arch, inputSize: arch.inputSize ?? data.inputSize };
  if (init && !checkInitFits(init, fullArch, problems)) return undefined;
  if (withInit && !init) return undefined;

  // Loss and targets.
  const outputSize = readout ? readout.weight.rows : fullArch.hiddenSize;
  const outputSource = readout ? 'the rows of readout.weight' : 'the hidden size, without a readout';
  const loss: LossKind | undefined = lossGiven ?? (lossProp ? undefined : data.targets ? 'mse' : 'sum');
  let targets: Float64Array[] | undefined;
  if (loss && lossProp && loss !== 'sum' && !data.targets) {
    problems.error(['loss'], rangeOf(lossProp.value), `"${loss}" needs data.targets`);
  } else if (loss === 'sum' && data.targets) {
    problems.warning(['data', 'targets'], rangeOf(data.targets.keyNode), 'ignored: loss "sum" does not use targets');
  } else if (loss && data.targets) {
    targets = readTargets(data.targets, data, loss, outputSize, outputSource, problems);
  }
  if (problems.hasErrors || !loss || !form || !nonlinearity || !training) return undefined;

  const layers = assembleLayers(fullArch, weights, init);
  return {
    ...(name !== undefined ? { name } : {}),
    cell: fullArch.cell,
    form,
    nonlinearity,
    inputSize: fullArch.inputSize,
    hiddenSize: fullArch.hiddenSize,
    numLayers: fullArch.numLayers,
    outputSize,
    layers,
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

/** Loads a safetensors `weights` path through the loader; problems sit on the path string. */
function loadFileWeights(prop: Property, options: ParseOptions, problems: ProblemList): WeightSet {
  const empty: WeightSet = {
    valid: new Map(),
    given: new Set(),
    layersGiven: new Set(),
    readout: new Map(),
    readoutGiven: new Set(),
  };
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
