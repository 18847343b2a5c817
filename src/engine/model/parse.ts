// Model file text (JSONC) -> validated Model, with source ranges for every problem. Two stages: the sources
// (source.ts: named tensors from inline JSON or a weights file, and the data arrays) and the architecture
// (weights.ts, data.ts, init.ts: cell, sizes, directions, projections, GRU reset, the data layout), which
// this file runs in order.
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import {
  type CellType,
  type GruReset,
  layerOutputWidth,
  type LossKind,
  type Matrix,
  type Model,
  type Nonlinearity,
  type RnnForm,
  type TrainingSettings,
  type V2Feature,
} from './types';
import { ProblemList, type ModelProblem, type SourceRange } from './problems';
import { findDeepNesting, MAX_JSON_DEPTH } from './jsonDepth';
import {
  formatShape,
  type Property,
  rangeOf,
  readBoolean,
  readEnum,
  readNonNegativeInt,
  readObject,
  readPositiveInt,
  readPositiveOrNull,
  readString,
} from './jsonTree';
import {
  type Architecture,
  checkMissingWeights,
  checkWeightShapes,
  type ExplicitArchitecture,
  mergeDeclared,
  reportUnknownNames,
  resolveArchitecture,
} from './weights';
import { assembleLayers, checkInitFits, readInit, type InitSpec } from './init';
import { readData, readTargets, type DataInputs } from './data';
import { readFileTargets } from './dataFiles';
import { syntheticDataProperty } from './fileSources';
import { readDataSource, readWeightsSource, type SourceOptions, type WeightsSource } from './source';

/** How files named by the model file are read (see source.ts). */
export type ParseOptions = SourceOptions;

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
  'module',
  'readout',
  'embedding',
  'bidirectional',
  'proj_size',
  'gru_reset',
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

/** The weights source (stage 1) and whether reading it added no error. */
interface WeightsRead {
  weights: WeightsSource;
  weightsOk: boolean;
}

function parseInto(text: string, options: ParseOptions, problems: ProblemList): Model | undefined {
  const root = readRoot(text, problems);
  if (!root) return undefined;
  const { node, props } = root;
  const rootAnchor = { offset: node.offset, length: 1 };
  const features = new Set<V2Feature>();
  const top = readTopLevel(props, problems, features);
  // Stage 1: the sources.
  const read = readWeights(props, top.initProp, rootAnchor, options, problems, features);
  applyDeclaredNonlinearity(top, read.weights, problems);
  // Stage 2: the architecture, then the data in its layout.
  const arch = readArchitecture(top, read, problems);
  let dataProp = props.get('data');
  let synthetic = false;
  if (!dataProp) {
    // Without data (a checkpoint analyzed directly), a model whose input size is known gets synthetic
    // sequences and a synthetic-data finding (checkpoints.md section 4).
    if (arch?.inputSize === undefined || read.weights.embeddingGiven) {
      // Weights that could not be read already say why; "missing data" would only follow from them.
      if (!read.weightsOk && problems.hasErrors) return undefined;
      if (!problems.isMisspelt(['data']))
        problems.error(['data'], rootAnchor, 'missing: give data.inputs (or data.generate)');
      return undefined;
    }
    dataProp = syntheticDataProperty();
    synthetic = true;
    features.add('no-data');
  }
  const dataSource = readDataSource(dataProp, problems, features, options);
  if (arch?.bidirectional) features.add('bidirectional');
  if (arch && arch.projSize > 0) features.add('proj_size');
  const embedding = readEmbedding(read.weights, arch, top.explicit, problems);
  const readout = readReadout(read.weights, arch, problems);
  if (!dataSource) return undefined;
  // input_size stands on its own: data.generate can use it even when the architecture could not be resolved.
  const inputSize = arch?.inputSize ?? embedding?.cols ?? top.explicit.inputSize?.value;
  const inputSource = top.explicit.inputSize
    ? 'from input_size'
    : arch?.inputSize !== undefined
      ? 'from weights.weight_ih_l0'
      : 'from embedding.weight';
  const data = readData(
    dataSource,
    {
      inputSize,
      inputSizeSource: inputSource,
      vocabulary: embedding?.rows,
      embeddingGiven: read.weights.embeddingGiven,
    },
    problems,
  );
  if (!data || !arch) return undefined;
  const fullArch = { ...arch, inputSize: inputSize ?? data.inputSize };
  if (top.init && !checkInitFits(top.init, fullArch, problems)) return undefined;
  if (top.initProp && !top.init) return undefined;
  const outputSize = readout ? readout.weight.rows : layerOutputWidth(fullArch);
  const lossAndTargets = readLossAndTargets(top, data, readout !== undefined, outputSize, problems);
  const { form, nonlinearity, training } = top;
  if (problems.hasErrors || !lossAndTargets || !form || !nonlinearity || !training) return undefined;
  const { loss, targets } = lossAndTargets;
  const perTarget = loss === 'cross_entropy' ? 1 : outputSize;
  return {
    ...(top.name !== undefined ? { name: top.name } : {}),
    cell: fullArch.cell,
    form,
    nonlinearity,
    gruReset: fullArch.gruReset,
    inputSize: fullArch.inputSize,
    hiddenSize: fullArch.hiddenSize,
    projSize: fullArch.projSize,
    bidirectional: fullArch.bidirectional,
    numLayers: fullArch.numLayers,
    outputSize,
    layers: assembleLayers(fullArch, read.weights, top.init),
    ...(readout ? { readout } : {}),
    ...(embedding ? { embedding } : {}),
    // Padding past data.lengths never reaches the engine.
    sequences: data.sequences.map((s, b) => ({
      length: s.length,
      inputs: s.inputs.subarray(0, s.tokens ? 0 : s.length * fullArch.inputSize),
      ...(s.tokens ? { tokens: s.tokens.subarray(0, s.length) } : {}),
      ...(targets ? { targets: targets[b].subarray(0, s.length * perTarget) } : {}),
    })),
    loss,
    training,
    source: read.weights.source,
    ...(synthetic ? { syntheticData: true } : {}),
    v2Features: [...features].sort(),
  };
}

/**
 * A nonlinearity the weights file declares (a pickled nn.RNN's, an ONNX RNN node's, a Keras SimpleRNN's) counts
 * as if the model file said it (checkpoints.md section 1); a model file that says otherwise is an error on its key.
 */
function applyDeclaredNonlinearity(top: TopLevel, weights: WeightsSource, problems: ProblemList): void {
  const declared = weights.declared.nonlinearity;
  if (!declared) return;
  if (!top.nlProp) {
    top.nonlinearity = declared.value;
    return;
  }
  if (top.nonlinearity && top.nonlinearity !== declared.value) {
    problems.error(
      ['nonlinearity'],
      rangeOf(top.nlProp.value),
      `${JSON.stringify(top.nonlinearity)}, but the weights declare nonlinearity ${JSON.stringify(declared.value)}${declared.origin}`,
    );
  }
}

/** The top-level object's properties; syntax errors (at most MAX_SYNTAX_ERRORS) and an empty file are problems. */
function readRoot(text: string, problems: ProblemList): { node: Node; props: Map<string, Property> } | undefined {
  // A UTF-8 byte order mark (U+FEFF) at the start is accepted: read as a space, so every offset stays the same.
  const source = text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
  // The parser and the readers recurse once per level: refuse deep nesting before they see it.
  const deep = findDeepNesting(source);
  if (deep) {
    problems.error(
      deep.path,
      deep.range,
      `arrays or objects nested more than ${MAX_JSON_DEPTH} levels deep; a model file needs at most a few (data.inputs: sequences, steps, features)`,
    );
    return undefined;
  }
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    for (const e of errors.slice(0, MAX_SYNTAX_ERRORS)) {
      problems.error([], { offset: e.offset, length: Math.max(e.length, 1) }, syntaxMessage(source, e));
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
function readTopLevel(props: Map<string, Property>, problems: ProblemList, features: Set<V2Feature>): TopLevel {
  const explicit: ExplicitArchitecture = {};
  const cellProp = props.get('cell');
  if (cellProp) {
    const v = readEnum<CellType>(cellProp, ['cell'], ['rnn', 'lstm', 'gru'], problems);
    if (v) explicit.cell = { value: v, range: rangeOf(cellProp.value), path: ['cell'] };
  }
  readVersion2Keys(props, explicit, problems, features);
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
    if (v !== undefined) explicit[field] = { value: v, range: rangeOf(p.value), path: [key] };
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

/** The version-2 architecture keys: bidirectional, proj_size, gru_reset. */
function readVersion2Keys(
  props: Map<string, Property>,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
  features: Set<V2Feature>,
): void {
  const bi = props.get('bidirectional');
  if (bi) {
    features.add('bidirectional');
    const v = readBoolean(bi, ['bidirectional'], problems);
    if (v !== undefined) explicit.bidirectional = { value: v, range: rangeOf(bi.value), path: ['bidirectional'] };
  }
  const proj = props.get('proj_size');
  if (proj) {
    features.add('proj_size');
    const v = readNonNegativeInt(proj, ['proj_size'], problems, MAX_SIZE);
    if (v !== undefined) explicit.projSize = { value: v, range: rangeOf(proj.value), path: ['proj_size'] };
  }
  const reset = props.get('gru_reset');
  if (reset) {
    features.add('gru_reset');
    const v = readEnum<GruReset>(reset, ['gru_reset'], ['after', 'before'], problems);
    if (v) explicit.gruReset = { value: v, range: rangeOf(reset.value), path: ['gru_reset'] };
  }
}

/**
 * Stage 1 for the weights: `weights` (inline tensors or a weights file), `readout`, `embedding`; without an
 * init the recurrent tensors must be there.
 */
function readWeights(
  props: Map<string, Property>,
  initProp: Property | undefined,
  rootAnchor: SourceRange,
  options: ParseOptions,
  problems: ProblemList,
  features: Set<V2Feature>,
): WeightsRead {
  const weightsProp = props.get('weights');
  const before = problems.errorCount;
  const weights = readWeightsSource(props, options, problems, features);
  if (weights.source.format !== 'json' && weights.source.format !== 'safetensors') features.add('checkpoint');
  if (!weightsProp) {
    if (initProp) return { weights, weightsOk: true };
    problems.error(['weights'], rootAnchor, 'missing: give weights (or an init that creates them)');
    return { weights, weightsOk: false };
  }
  reportUnknownNames(weights, problems);
  let weightsOk = problems.errorCount === before;
  if (weightsOk && weights.given.size === 0 && !initProp && weights.anchor) {
    problems.error(['weights'], weights.anchor, 'no weights given: needs weight_ih_l0 and weight_hh_l0 (or an init)');
    weightsOk = false;
  }
  return { weights, weightsOk };
}

/**
 * The architecture the weights and the explicit keys agree on, with every weight's shape checked against it,
 * and `form` / `nonlinearity` checked against the cell. Undefined when it cannot be determined.
 */
function readArchitecture(top: TopLevel, read: WeightsRead, problems: ProblemList): Architecture | undefined {
  const { weights, weightsOk } = read;
  const anchor = weights.anchor;
  const withInit = top.initProp !== undefined;
  const declared = weights.declared;
  const explicit: ExplicitArchitecture = {
    ...top.explicit,
    cell: mergeDeclared('cell', top.explicit.cell, declared.cell, problems),
    bidirectional: mergeDeclared('bidirectional', top.explicit.bidirectional, declared.bidirectional, problems),
    projSize: mergeDeclared('proj_size', top.explicit.projSize, declared.projSize, problems),
    gruReset: mergeDeclared('gru_reset', top.explicit.gruReset, declared.gruReset, problems),
  };
  let arch: Architecture | undefined;
  if (weightsOk || weights.valid.size > 0) {
    const anchors = { init: top.initProp ? rangeOf(top.initProp.keyNode) : undefined, weights: anchor };
    arch = resolveArchitecture(weights, explicit, withInit, anchors, problems);
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
  } else if (loss && data.targetsArray?.kind === 'file') {
    const of = data.sequences[0]?.tokens ? 'data.tokens' : 'data.inputs';
    targets = readFileTargets(
      data.targetsArray,
      data.sequences,
      data.nesting,
      of,
      loss,
      outputSize,
      outputSource,
      problems,
    );
  } else if (loss && data.targets) {
    targets = readTargets(data.targets, data, loss, outputSize, outputSource, problems);
  }
  return loss ? { loss, targets } : undefined;
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

/** The readout (inline or from the weights file), checked against the top layer's output width. */
function readReadout(
  weights: WeightsSource,
  arch: Architecture | undefined,
  problems: ProblemList,
): Model['readout'] | undefined {
  if (weights.readoutGiven.size === 0) return undefined;
  const weight = weights.readout.get('weight');
  const bias = weights.readout.get('bias');
  if (!weight) {
    if (bias && weights.readoutGiven.has('readout.bias') && !weights.readoutGiven.has('readout.weight')) {
      problems.error(['weights'], bias.range, 'readout.bias is given without readout.weight');
    }
    return undefined;
  }
  if (!arch) return undefined;
  const w = layerOutputWidth(arch);
  const what = widthFormula(arch);
  const shape = weight.tensor.shape;
  if (shape.length !== 2 || shape[0] < 1 || shape[1] !== w) {
    problems.error(
      weight.path,
      weight.range,
      `expected shape [D][${w}] (D × ${what}, D ≥ 1), got ${formatShape(shape)}${weight.origin}`,
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
    weight: { rows: d, cols: w, data: weight.tensor.data },
    bias: bias ? bias.tensor.data : new Float64Array(d),
  };
}

/** How the top layer's output width is made, for messages: "H=4", "2·H, bidirectional, H=4", "P=3". */
function widthFormula(arch: Architecture): string {
  const base = arch.projSize > 0 ? 'P' : 'H';
  const value = arch.projSize > 0 ? arch.projSize : arch.hiddenSize;
  return arch.bidirectional ? `2·${base}, bidirectional, ${base}=${value}` : `${base}, ${base}=${value}`;
}

/** embedding.weight [V][I]: I must be layer 0's input width (the columns of weight_ih_l0, or input_size). */
function readEmbedding(
  weights: WeightsSource,
  arch: Architecture | undefined,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
): Matrix | undefined {
  const entry = weights.embedding;
  if (!entry) return undefined;
  const shape = entry.tensor.shape;
  if (shape.length !== 2 || shape[0] < 1 || shape[1] < 1) {
    problems.error(
      entry.path,
      entry.range,
      `expected shape [V][I] (one row of I numbers per token id, V ≥ 1), got ${formatShape(shape)}${entry.origin}`,
    );
    return undefined;
  }
  const I = arch?.inputSize;
  if (I !== undefined && shape[1] !== I) {
    const from = explicit.inputSize ? 'input_size' : 'the columns of weight_ih_l0';
    problems.error(
      entry.path,
      entry.range,
      `expected shape [V][${I}] (I=${I}, ${from}: layer 0 reads one row per token), got ${formatShape(shape)}${entry.origin}`,
    );
    return undefined;
  }
  return { rows: shape[0], cols: shape[1], data: entry.tensor.data };
}
