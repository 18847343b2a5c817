// Stage 1 of the model reader, file sources (shared/spec/checkpoints.md sections 1, 2 and 4): a `weights` path
// naming a checkpoint (PyTorch, npz, ONNX, Keras, or safetensors), the recurrent module it selects (`module`),
// `readout` and `embedding` given as key prefixes, and data arrays in files (`x.npy`, `b.npz#name`,
// `b.pt#name`, `x.pt`, `b.safetensors#name`). Pure: files come through the caller's loader, which resolves them
// inside the workspace; nothing a file contains is executed.
import {
  CheckpointError,
  type CheckpointContents,
  type CheckpointFormat,
  type CheckpointTensor,
  DEFAULT_MAX_BYTES,
  externalLocations,
  checkExternalLocation,
  formatOfFileName,
  parseOnnx,
  readArray,
  readCheckpoint,
  type RecurrentAttributes,
  type RecurrentModule,
  selectModule,
  splitArrayReference,
  type TensorDtype,
} from './checkpoint';
import { recurrentCandidates } from './checkpoint/pytorch';
import { readSafetensors, type SafeTensor, type SafetensorsDtype } from './safetensors';

/** Reads a path relative to the model file: its bytes, or why not (a sentence naming the path). */
export type LoadFile = (relativePath: string) => Uint8Array | { error: string };

/** Where a weights source's numbers come from (report `model.source.format`). */
export type WeightsFileFormat = Exclude<CheckpointFormat, 'npy'> | 'safetensors';

/** The key of the model file a source problem sits on. */
export type SourceKey = 'weights' | 'module' | 'readout' | 'embedding';

/** Why a file source cannot be read: a message naming the file and the problem, and where to show it. */
export interface SourceFailure {
  error: string;
  /** `unsupported-source`: a file or attribute the engine does not read; else wrong input. */
  code: 'invalid-model' | 'unsupported-source';
  key: SourceKey;
  /** The candidate modules, when the problem is that `module` must choose one. */
  candidates?: string[];
}

/** The recurrent module a weights file gives, with the readout and embedding its prefixes name. */
export interface CheckpointWeights {
  format: WeightsFileFormat;
  /** The selected module's name: a key prefix, an ONNX node or a Keras layer ('' for a bare state_dict). */
  module: string;
  /** Every candidate module's name, in file order. */
  candidates: string[];
  /** What the source declares about the module (a pickled nn.LSTM's attributes, an ONNX node's). */
  attributes: RecurrentAttributes;
  /**
   * The module's tensors by PyTorch name relative to the module (`weight_ih_l0`, `bias_hh_l1_reverse`), all
   * decoded. With the empty prefix, every other key of the file too (unknown names are wrong input, as in v1).
   */
  tensors: Map<string, CheckpointTensor>;
  readout?: { weight: CheckpointTensor; bias?: CheckpointTensor };
  embedding?: CheckpointTensor;
  /** Facts worth a note (where the state_dict was, inert globals, a stripped `module.` prefix). */
  notes: string[];
}

/** What the model file selects in a weights file. */
export interface WeightsSelection {
  module?: string;
  /** `readout` given as a key prefix (`"head"` reads head.weight, head.bias). */
  readout?: string;
  /** `embedding` given as a key prefix (`"emb"` reads emb.weight). */
  embedding?: string;
}

/** File extensions a `weights` path (or a checkpoint analyzed directly) may have, lower case with the dot. */
export const WEIGHTS_FILE_EXTENSIONS = [
  '.pt',
  '.pth',
  '.bin',
  '.ckpt',
  '.onnx',
  '.keras',
  '.h5',
  '.hdf5',
  '.npz',
  '.safetensors',
] as const;

function extensionOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot).toLowerCase();
}

/** Whether a file name names a weights file / checkpoint (by extension), which can be analyzed directly. */
export function isWeightsFileName(fileName: string): boolean {
  return (WEIGHTS_FILE_EXTENSIONS as readonly string[]).includes(extensionOf(fileName));
}

/** The base name of a path (either separator). */
export function baseName(p: string): string {
  return p.replace(/^.*[\\/]/, '');
}

/**
 * The text of the model file a checkpoint analyzed directly stands for: `{"weights": NAME}` (spec section 1),
 * plus `module` when one was chosen.
 */
export function checkpointModelText(checkpointPath: string, module?: string): string {
  const text: Record<string, string> = { weights: baseName(checkpointPath) };
  if (module !== undefined) text.module = module;
  return JSON.stringify(text);
}

/** A path relative to the folder of `base` (both relative to the model file), with `/` separators. */
export function siblingPath(base: string, relative: string): string {
  const slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
  return slash < 0 ? relative : `${base.slice(0, slash + 1)}${relative}`;
}

function failure(err: unknown, key: SourceKey, file: string): SourceFailure {
  if (err instanceof CheckpointError) {
    return { error: err.message, code: err.kind === 'unsupported' ? 'unsupported-source' : 'invalid-model', key };
  }
  if (err instanceof RangeError) {
    // An allocation the limits did not foresee: still a message naming the file, never a crash.
    return { error: `${file}: too large to read (${err.message})`, code: 'invalid-model', key };
  }
  throw err;
}

function load(loadFile: LoadFile, relative: string, key: SourceKey): Uint8Array | SourceFailure {
  let loaded: Uint8Array | { error: string };
  try {
    loaded = loadFile(relative);
  } catch (err) {
    loaded = { error: `cannot read "${relative}" (${err instanceof Error ? err.message : String(err)})` };
  }
  if (loaded instanceof Uint8Array) return loaded;
  return { error: loaded.error.replace(/^weights:\s*/, ''), code: 'invalid-model', key };
}

/** Reads an ONNX file's external data files, each relative to the .onnx file and inside the workspace. */
function onnxExternalData(
  bytes: Uint8Array,
  relative: string,
  loadFile: LoadFile,
  maxBytes: number,
): Map<string, Uint8Array> | SourceFailure {
  const out = new Map<string, Uint8Array>();
  const model = parseOnnx(bytes, { fileName: relative, maxBytes });
  for (const location of externalLocations(model)) {
    checkExternalLocation(location, relative, 'external_data');
    const loaded = load(loadFile, siblingPath(relative, location), 'weights');
    if (!(loaded instanceof Uint8Array)) {
      return { ...loaded, error: `${relative}: external data ${JSON.stringify(location)}: ${loaded.error}` };
    }
    out.set(location, loaded);
  }
  return out;
}

/** A safetensors file's tensors as checkpoint contents: the tensors, and the modules their names imply. */
function safetensorsContents(file: Map<string, SafeTensor>): CheckpointContents {
  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, t] of file) tensors.set(name, { shape: t.shape, dtype: SAFETENSORS_DTYPES[t.dtype], data: t.data });
  // 'npz' only to fit the type: a flat name → tensor map read like an npz state_dict; the caller says safetensors.
  return { format: 'npz', tensors, modules: recurrentCandidates(tensors), meta: {}, notes: [] };
}

const SAFETENSORS_DTYPES: Record<SafetensorsDtype, TensorDtype> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The 2-D tensors of a file whose names end in `.weight`, for messages. */
function linearPrefixes(contents: CheckpointContents): string {
  const names = [...contents.tensors]
    .filter(([name, t]) => name.endsWith('.weight') && t.shape.length === 2)
    .map(([name]) => JSON.stringify(name.slice(0, -'.weight'.length)));
  if (names.length === 0) return 'none';
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
}

/** Looks up `PREFIX.weight` (and `PREFIX.bias`) for a readout or embedding given as a prefix. */
function byPrefix(
  contents: CheckpointContents,
  format: WeightsFileFormat,
  prefix: string,
  key: 'readout' | 'embedding',
  relative: string,
): { weight: CheckpointTensor; bias?: CheckpointTensor } | SourceFailure {
  if (format === 'onnx' || format === 'keras') {
    return {
      error: `"${prefix}" names a key prefix, but ${relative} is ${format === 'onnx' ? 'an ONNX' : 'a Keras'} file: give the ${key} inline as {"weight": [[…]]${key === 'readout' ? ', "bias": […]' : ''}}`,
      code: 'invalid-model',
      key,
    };
  }
  const weight = contents.tensors.get(`${prefix}.weight`);
  if (!weight) {
    return {
      error: `no tensor "${prefix}.weight" in ${relative} (prefixes with a 2-D .weight: ${linearPrefixes(contents)})`,
      code: 'invalid-model',
      key,
    };
  }
  const bias = key === 'readout' ? contents.tensors.get(`${prefix}.bias`) : undefined;
  return bias ? { weight, bias } : { weight };
}

/** Decodes every tensor now (lazy PyTorch views), so that a damaged storage is a failure here, not later. */
function decodeAll(tensors: Iterable<CheckpointTensor>): void {
  for (const t of tensors) void t.data;
}

/** Reads the bytes of a weights file and its contents (ONNX external data through the loader). */
function readContents(
  bytes: Uint8Array,
  relative: string,
  loadFile: LoadFile,
  maxBytes: number,
): { format: WeightsFileFormat; contents: CheckpointContents } | SourceFailure {
  if (extensionOf(relative) === '.safetensors') {
    const file = readSafetensors(bytes);
    if ('error' in file) {
      // Version 1's message.
      return {
        error: `${relative} is not a valid safetensors file: ${file.error}`,
        code: 'invalid-model',
        key: 'weights',
      };
    }
    return { format: 'safetensors', contents: safetensorsContents(file.tensors) };
  }
  const byName = formatOfFileName(relative);
  if (byName === 'npy') {
    return {
      error: `${relative}: a .npy file holds one array, not a model's weights (use .npz, .pt, .safetensors, .onnx, .keras or .h5)`,
      code: 'unsupported-source',
      key: 'weights',
    };
  }
  let externalData: Map<string, Uint8Array> | undefined;
  if (byName === 'onnx') {
    const ext = onnxExternalData(bytes, relative, loadFile, maxBytes);
    if (!(ext instanceof Map)) return ext;
    externalData = ext;
  }
  const contents = readCheckpoint(bytes, { fileName: relative, maxBytes, externalData });
  if (contents.format === 'npy') {
    return {
      error: `${relative}: holds one numpy array, not a model's weights`,
      code: 'unsupported-source',
      key: 'weights',
    };
  }
  return { format: contents.format, contents };
}

/**
 * Reads a weights file's contents (every candidate module, every tensor by full name) without selecting a
 * module: ONNX external data through the loader, safetensors as a flat state_dict. Never throws on bad input.
 */
export function readWeightsFile(
  relative: string,
  loadFile: LoadFile,
  maxBytes = DEFAULT_MAX_BYTES,
): { format: WeightsFileFormat; contents: CheckpointContents } | SourceFailure {
  if (!isWeightsFileName(relative)) {
    return {
      error: `"${relative}" is not a weights file: expected ${WEIGHTS_FILE_EXTENSIONS.join(' ')}`,
      code: 'unsupported-source',
      key: 'weights',
    };
  }
  const bytes = load(loadFile, relative, 'weights');
  if (!(bytes instanceof Uint8Array)) return bytes;
  try {
    return readContents(bytes, relative, loadFile, maxBytes);
  } catch (err) {
    return failure(err, 'weights', relative);
  }
}

/** The module `module` selects (spec section 2); the v1 rule for a safetensors file without any candidate. */
function chooseModule(
  contents: CheckpointContents,
  format: WeightsFileFormat,
  module: string | undefined,
  relative: string,
): RecurrentModule | SourceFailure {
  if (format === 'safetensors' && contents.modules.length === 0 && module === undefined) {
    // Version 1: the file's names are the model's; stage 2 reports what is missing or unknown.
    return { name: '', origin: 'keys', attributes: {}, tensors: new Map(contents.tensors), unsupported: [] };
  }
  try {
    return selectModule(contents, module, relative);
  } catch (err) {
    const f = failure(err, module !== undefined ? 'module' : 'weights', relative);
    return contents.modules.length > 1 ? { ...f, candidates: contents.modules.map((m) => m.name) } : f;
  }
}

/**
 * Reads a `weights` file: its format by extension and magic bytes, the module `module` selects (the only
 * candidate without it), and the readout / embedding named by prefixes. Never throws on bad input: a file that
 * cannot be read, an ambiguous or unknown module, or an unsupported attribute is a `SourceFailure`.
 */
export function readCheckpointWeights(
  relative: string,
  loadFile: LoadFile,
  select: WeightsSelection = {},
  maxBytes = DEFAULT_MAX_BYTES,
): CheckpointWeights | SourceFailure {
  const read = readWeightsFile(relative, loadFile, maxBytes);
  if ('error' in read) return read;
  const { format, contents } = read;
  try {
    const chosen = chooseModule(contents, format, select.module, relative);
    if ('error' in chosen) return chosen;
    const tensors = new Map(chosen.tensors);
    let readout: CheckpointWeights['readout'];
    if (select.readout !== undefined) {
      const r = byPrefix(contents, format, select.readout, 'readout', relative);
      if ('error' in r) return r;
      readout = r;
    }
    let embedding: CheckpointTensor | undefined;
    if (select.embedding !== undefined) {
      const e = byPrefix(contents, format, select.embedding, 'embedding', relative);
      if ('error' in e) return e;
      embedding = e.weight;
    }
    if (chosen.name === '') {
      // A bare state_dict: the prefixed readout and embedding are not unknown recurrent names.
      for (const prefix of [select.readout, select.embedding]) {
        if (prefix === undefined) continue;
        tensors.delete(`${prefix}.weight`);
        tensors.delete(`${prefix}.bias`);
      }
    }
    decodeAll(tensors.values());
    if (readout) decodeAll([readout.weight, ...(readout.bias ? [readout.bias] : [])]);
    if (embedding) decodeAll([embedding]);
    return {
      format,
      module: chosen.name,
      candidates: contents.modules.map((m) => m.name),
      attributes: { ...chosen.attributes },
      tensors,
      ...(readout ? { readout } : {}),
      ...(embedding ? { embedding } : {}),
      notes: [...contents.notes],
    };
  } catch (err) {
    return failure(err, 'weights', relative);
  }
}

/** The dtypes a data array may have (spec section 4). */
const DATA_DTYPES: ReadonlySet<TensorDtype> = new Set([
  'float64',
  'float32',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
]);

/** One data array read from a file, with a label for messages (`batch.npz#x`). */
export interface DataFileArray {
  tensor: CheckpointTensor;
  /** The reference as the model file gives it. */
  label: string;
}

/**
 * Reads one data array (spec section 4): `x.npy`, `b.npz#name`, `b.pt#name` (an entry of a saved dict), `x.pt`
 * (one bare tensor), `b.safetensors#name`. Checks the dtype against the spec's list; shapes are checked by
 * stage 2 against the model.
 */
export function readDataFile(
  reference: string,
  loadFile: LoadFile,
  maxBytes = DEFAULT_MAX_BYTES,
): DataFileArray | { error: string; code: 'invalid-model' | 'unsupported-source' } {
  const { file, name } = splitArrayReference(reference);
  const bytes = load(loadFile, file, 'weights');
  if (!(bytes instanceof Uint8Array)) return { error: bytes.error, code: bytes.code };
  let tensor: CheckpointTensor;
  try {
    if (extensionOf(file) === '.safetensors') {
      tensor = safetensorsArray(bytes, file, name);
    } else {
      tensor = readArray(bytes, file, name, { maxBytes });
    }
    void tensor.data;
  } catch (err) {
    const f = failure(err, 'weights', file);
    return { error: f.error, code: f.code };
  }
  if (!DATA_DTYPES.has(tensor.dtype)) {
    return {
      error: `${reference}: dtype ${tensor.dtype} is not read for data (float64/32/16, int64/32/16/8, uint8, bool)`,
      code: 'unsupported-source',
    };
  }
  return { tensor, label: reference };
}

/** `b.safetensors#name`: one tensor of a safetensors file (floats or integers). */
function safetensorsArray(bytes: Uint8Array, file: string, name: string | undefined): CheckpointTensor {
  const read = readSafetensors(bytes, { integers: true });
  if ('error' in read) throw new CheckpointError('corrupt', file, '', `not a valid safetensors file: ${read.error}`);
  const keys = [...read.tensors.keys()].map((k) => JSON.stringify(k)).join(', ') || '(none)';
  if (name === undefined) {
    throw new CheckpointError('missing', file, '', `holds named tensors: name one with #NAME (tensors: ${keys})`);
  }
  const t = read.tensors.get(name);
  if (!t)
    throw new CheckpointError('missing', file, `#${name}`, `no tensor ${JSON.stringify(name)} (tensors: ${keys})`);
  return { shape: t.shape, dtype: SAFETENSORS_DTYPES[t.dtype], data: t.data };
}
