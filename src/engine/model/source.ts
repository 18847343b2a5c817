// Stage 1 of the model reader: where the numbers come from. A weights source yields a flat set of named
// tensors (name → shape, Float64Array, and where problems about it are shown) from inline JSON or from a
// weights file, plus what the source itself declares about the architecture (a checkpoint's module
// attributes); a data source yields the data arrays, inline or from files. Stage 2 (weights.ts,
// architecture in parse.ts, data.ts) decides from these what the model is; it never looks at bytes or at
// where a tensor came from except to place its problems.
import type { CellType, GruReset, KeyPath, ModelSource, Nonlinearity, V2Feature } from './types';
import type { ProblemList, SourceRange } from './problems';
import { formatShape, type NumericTensor, type Property, rangeOf, readObject, readTensor } from './jsonTree';
import type { SafeTensor } from './safetensors';
import type { CheckpointTensor, RecurrentAttributes, RecurrentMode } from './checkpoint';
import { checkPrefixKeysWithoutFile, readDataArray, readWeightsFileSource } from './fileSources';

/** A tensor given for the model, with where problems about it are shown. */
export interface WeightEntry {
  name: string;
  tensor: NumericTensor;
  path: KeyPath;
  range: SourceRange;
  /** " (in FILE)" for tensors from a weights file, else "". */
  origin: string;
}

/** An attribute a source declares (a pickled nn.LSTM's `bidirectional`, an ONNX `linear_before_reset`). */
export interface Declared<T> {
  value: T;
  /** Where a disagreement is shown (the `weights` path string). */
  range: SourceRange;
  /** Says where it was declared, for messages: " (declared in model.pt)". */
  origin: string;
}

/** What a weights source says about the architecture besides its tensors; each counts as if the file gave it. */
export interface DeclaredArchitecture {
  cell?: Declared<CellType>;
  nonlinearity?: Declared<Nonlinearity>;
  bidirectional?: Declared<boolean>;
  projSize?: Declared<number>;
  gruReset?: Declared<GruReset>;
}

/**
 * Everything the weights sources give: the recurrent module's tensors by PyTorch name relative to the module
 * (`weight_ih_l0`, `weight_hh_l1_reverse`, `weight_hr_l0`, …), the readout and embedding tensors (inline or
 * from the same file), and what the source declares.
 */
export interface WeightsSource {
  source: ModelSource;
  /** The recurrent module's valid tensors, by name. */
  valid: Map<string, WeightEntry>;
  /** Every recurrent tensor name given, also those whose value was wrong (reported already). */
  given: Set<string>;
  /** Names that are not recurrent tensor names, with where they were given (stage 2 reports them). */
  unknown: { name: string; path: KeyPath; range: SourceRange; origin: string }[];
  /** readout.weight / readout.bias, from the `readout` key or the weights file. */
  readout: Map<'weight' | 'bias', WeightEntry>;
  /** Readout names given (even invalid), and whether the `readout` key was given. */
  readoutGiven: Set<string>;
  /** embedding.weight, from the `embedding` key or the weights file. */
  embedding?: WeightEntry;
  /** The `embedding` key or an embedding tensor was given (even invalid). */
  embeddingGiven: boolean;
  declared: DeclaredArchitecture;
  /** The `weights` key's range, where problems about the set as a whole sit. */
  anchor: SourceRange | undefined;
}

/** Options of the sources: how files named by the model file are read (none: files cannot be read here). */
export interface SourceOptions {
  /**
   * Loads the bytes of a `weights` path (relative to the model file). Returns the bytes, or an error
   * message (missing, outside the workspace, unreadable) that becomes a problem on the `weights` key.
   */
  loadWeightsFile?: (relativePath: string) => Uint8Array | { error: string };
}

/** A source with no tensors (no weights given, or a file that could not be read). */
export function emptyWeightsSource(source: ModelSource = { format: 'json', module: '' }): WeightsSource {
  return {
    source,
    valid: new Map(),
    given: new Set(),
    unknown: [],
    readout: new Map(),
    readoutGiven: new Set(),
    embeddingGiven: false,
    declared: {},
    anchor: undefined,
  };
}

/** Whether a name is one of a recurrent module's tensors (kind_l{k}, optionally _reverse). */
export function isRecurrentName(name: string): boolean {
  return /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l\d+(_reverse)?$/.test(name);
}

/** The rank a recurrent tensor name implies: 2 for weight_*, 1 for bias_*. */
function rankOfName(name: string): 1 | 2 {
  return name.startsWith('bias_') ? 1 : 2;
}

/** Reads `weights` (inline tensors or a weights file), `readout` and `embedding` given inline. */
export function readWeightsSource(
  props: Map<string, Property>,
  options: SourceOptions,
  problems: ProblemList,
  features: Set<V2Feature>,
): WeightsSource {
  const weightsProp = props.get('weights');
  let set: WeightsSource;
  const fromFile = weightsProp?.value.type === 'string';
  if (!weightsProp) set = emptyWeightsSource();
  else if (fromFile) set = loadFileWeights(weightsProp, props, options, problems, features);
  else set = collectInlineWeights(weightsProp, problems);
  if (!fromFile) checkPrefixKeysWithoutFile(props, problems);
  if (weightsProp) set.anchor = rangeOf(weightsProp.keyNode);
  // A string readout / embedding is a prefix in the weights file (read with it, or an error without one).
  const readoutProp = props.get('readout');
  if (readoutProp?.value.type !== 'string') readInlineReadout(readoutProp, set, problems);
  const embeddingProp = props.get('embedding');
  if (embeddingProp?.value.type !== 'string') readInlineEmbedding(embeddingProp, set, problems, features);
  else features.add('embedding');
  return set;
}

/** Collects the inline `weights` object: each recurrent tensor read with the rank its name implies. */
export function collectInlineWeights(prop: Property, problems: ProblemList): WeightsSource {
  const set = emptyWeightsSource();
  const props = readObject(prop.value, ['weights'], problems);
  if (!props) return set;
  for (const [name, p] of props) {
    const path = ['weights', name];
    if (!isRecurrentName(name)) {
      set.unknown.push({ name, path, range: rangeOf(p.keyNode), origin: '' });
      continue;
    }
    set.given.add(name);
    const tensor = readTensor(p.value, path, rankOfName(name), problems);
    if (tensor) set.valid.set(name, { name, tensor, path, range: rangeOf(p.keyNode), origin: '' });
  }
  return set;
}

/** Collects the tensors of a weights file; problems sit on the `weights` path string. */
export function collectFileWeights(
  tensors: Map<string, Pick<SafeTensor, 'shape' | 'data'>>,
  fileLabel: string,
  range: SourceRange,
  problems: ProblemList,
  source: ModelSource,
): WeightsSource {
  const set = emptyWeightsSource(source);
  const origin = ` (in ${fileLabel})`;
  for (const [name, t] of tensors) {
    const path = ['weights', name];
    const readoutPart = name === 'readout.weight' ? 'weight' : name === 'readout.bias' ? 'bias' : undefined;
    const isEmbedding = name === 'embedding.weight';
    if (!isRecurrentName(name) && !readoutPart && !isEmbedding) {
      set.unknown.push({ name, path, range, origin });
      continue;
    }
    if (readoutPart) set.readoutGiven.add(name);
    else if (isEmbedding) set.embeddingGiven = true;
    else set.given.add(name);
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      problems.error(
        path,
        range,
        `non-finite value (${t.data[bad]}) at ${formatShape(unravel(bad, t.shape))}${origin}; numbers must be finite`,
      );
      continue;
    }
    const entry: WeightEntry = { name, tensor: { shape: [...t.shape], data: t.data }, path, range, origin };
    if (readoutPart) set.readout.set(readoutPart, entry);
    else if (isEmbedding) set.embedding = entry;
    else set.valid.set(name, entry);
  }
  return set;
}

/** Multi-index of a flat row-major position. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = Math.max(shape[d], 1);
    index[d] = rest % n;
    rest = Math.floor(rest / n);
  }
  return index;
}

/** Loads a `weights` path through the loader (safetensors files); problems sit on the path string. */
function loadFileWeights(
  prop: Property,
  props: Map<string, Property>,
  options: SourceOptions,
  problems: ProblemList,
  features: Set<V2Feature>,
): WeightsSource {
  const relative = String(prop.value.value);
  const range = rangeOf(prop.value);
  if (props.has('module')) features.add('module');
  const file = readWeightsFileSource(prop, props, options.loadWeightsFile, problems);
  if (!file) {
    // Still say what the file is, so that a later step names it.
    return emptyWeightsSource({ format: 'safetensors', path: relative, module: '' });
  }
  const set = collectFileWeights(file.tensors, relative, range, problems, file.origin);
  const origin = ` (in ${relative})`;
  const readoutProp = props.get('readout');
  if (file.readout && readoutProp) {
    features.add('readout-prefix');
    const at = rangeOf(readoutProp.value);
    const parts = file.readout.bias ? (['weight', 'bias'] as const) : (['weight'] as const);
    for (const part of parts) {
      const t = part === 'weight' ? file.readout.weight : (file.readout.bias as CheckpointTensor);
      const name = `readout.${part}`;
      set.readoutGiven.add(name);
      set.readout.set(part, {
        name,
        tensor: { shape: [...t.shape], data: t.data },
        path: ['readout'],
        range: at,
        origin,
      });
    }
  }
  const embeddingProp = props.get('embedding');
  if (file.embedding && embeddingProp) {
    features.add('embedding-prefix');
    features.add('embedding');
    const t = file.embedding;
    set.embeddingGiven = true;
    set.embedding = {
      name: 'embedding.weight',
      tensor: { shape: [...t.shape], data: t.data },
      path: ['embedding'],
      range: rangeOf(embeddingProp.value),
      origin,
    };
  }
  set.declared = declaredOf(file.declared, range, ` (declared in ${relative})`);
  return set;
}

/** What a checkpoint declares about its module, as the architecture stage merges it (spec section 1). */
function declaredOf(attributes: RecurrentAttributes, range: SourceRange, origin: string): DeclaredArchitecture {
  const declared: DeclaredArchitecture = {};
  const at = <T>(value: T): Declared<T> => ({ value, range, origin });
  const cell = attributes.mode ? CELL_OF_MODE[attributes.mode] : undefined;
  if (cell) declared.cell = at(cell);
  const nonlinearity = attributes.nonlinearity ?? (attributes.mode === 'RNN_RELU' ? 'relu' : undefined);
  if (nonlinearity && cell !== 'lstm' && cell !== 'gru') declared.nonlinearity = at(nonlinearity);
  if (attributes.bidirectional !== undefined) declared.bidirectional = at(attributes.bidirectional);
  if (attributes.proj_size !== undefined) declared.projSize = at(attributes.proj_size);
  if (attributes.gru_reset !== undefined && cell !== 'lstm' && cell !== 'rnn')
    declared.gruReset = at(attributes.gru_reset);
  return declared;
}

const CELL_OF_MODE: Record<RecurrentMode, CellType> = { RNN_TANH: 'rnn', RNN_RELU: 'rnn', LSTM: 'lstm', GRU: 'gru' };

/** Reads an inline `readout` object ({weight, bias}) into the source; a readout also in the file is an error. */
function readInlineReadout(prop: Property | undefined, set: WeightsSource, problems: ProblemList): void {
  if (!prop) return;
  if (set.readoutGiven.size > 0) {
    problems.error(['readout'], rangeOf(prop.keyNode), 'also given in the weights file; give it once');
    set.readout.clear();
    return;
  }
  set.readoutGiven.add('readout');
  const props = readObject(prop.value, ['readout'], problems, ['weight', 'bias']);
  if (!props) return;
  const w = props.get('weight');
  if (!w) {
    problems.error(['readout'], rangeOf(prop.keyNode), 'needs weight ([D][H])');
    return;
  }
  const wt = readTensor(w.value, ['readout', 'weight'], 2, problems);
  const b = props.get('bias');
  const bt = b ? readTensor(b.value, ['readout', 'bias'], 1, problems) : undefined;
  if (!wt || (b && !bt)) return;
  set.readout.set('weight', {
    name: 'readout.weight',
    tensor: wt,
    path: ['readout', 'weight'],
    range: rangeOf(w.keyNode),
    origin: '',
  });
  if (b && bt) {
    set.readout.set('bias', {
      name: 'readout.bias',
      tensor: bt,
      path: ['readout', 'bias'],
      range: rangeOf(b.keyNode),
      origin: '',
    });
  }
}

/** Reads an inline `embedding` object ({weight: [V][I]}); also given in the weights file is an error. */
function readInlineEmbedding(
  prop: Property | undefined,
  set: WeightsSource,
  problems: ProblemList,
  features: Set<V2Feature>,
): void {
  if (!prop) return;
  features.add('embedding');
  if (set.embeddingGiven) {
    problems.error(['embedding'], rangeOf(prop.keyNode), 'also given in the weights file; give it once');
    set.embedding = undefined;
    return;
  }
  set.embeddingGiven = true;
  const props = readObject(prop.value, ['embedding'], problems, ['weight']);
  if (!props) return;
  const w = props.get('weight');
  if (!w) {
    problems.error(['embedding'], rangeOf(prop.keyNode), 'needs weight ([V][I]: one row per token id)');
    return;
  }
  const tensor = readTensor(w.value, ['embedding', 'weight'], 2, problems);
  if (tensor) {
    set.embedding = {
      name: 'embedding.weight',
      tensor,
      path: ['embedding', 'weight'],
      range: rangeOf(w.keyNode),
      origin: '',
    };
  }
}

/** One data array: nested lists in the model file, or a dense array read from a file. */
export type DataArray =
  | { kind: 'inline'; prop: Property }
  | { kind: 'file'; tensor: NumericTensor; path: KeyPath; range: SourceRange; label: string };

/** The arrays of `data` (stage 1); stage 2 (data.ts) checks them against the model and splits the sequences. */
export interface DataSource {
  /** The `data` key. */
  prop: Property;
  props: Map<string, Property>;
  inputs?: DataArray;
  targets?: DataArray;
  tokens?: DataArray;
  lengths?: DataArray;
}

/** The keys of `data`. */
export const DATA_KEYS = ['inputs', 'targets', 'tokens', 'lengths', 'layout', 'generate'];

/**
 * Reads `data`'s arrays: nested lists stay JSON nodes for data.ts; a string names an array in a file (spec
 * section 4), read here through the loader (a problem on the string when it cannot be).
 */
export function readDataSource(
  prop: Property,
  problems: ProblemList,
  features: Set<V2Feature>,
  options: SourceOptions = {},
): DataSource | undefined {
  const props = readObject(prop.value, ['data'], problems, DATA_KEYS);
  if (!props) return undefined;
  const source: DataSource = { prop, props };
  let ok = true;
  for (const key of ['inputs', 'targets', 'tokens', 'lengths'] as const) {
    const p = props.get(key);
    if (!p) continue;
    if (key === 'tokens' || key === 'lengths') features.add(key);
    if (p.value.type === 'string') {
      features.add('data-files');
      const array = readDataArray(p, key, options.loadWeightsFile, problems);
      if (!array) ok = false;
      else source[key] = { kind: 'file', ...array };
      continue;
    }
    source[key] = { kind: 'inline', prop: p };
  }
  return ok ? source : undefined;
}
