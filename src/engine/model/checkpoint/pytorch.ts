// PyTorch checkpoints (torch.save's zip format, the default since 1.6): zip + allow-listed pickle →
// named tensors, read without executing anything (shared/spec/checkpoints.md section 1).
//
// - A state_dict is found wherever it sits: the first dict, depth-first in the file's key order,
//   with a key ending in `weight_hh_l0`; a whole pickled `nn.Module` counts as the dict its
//   `state_dict()` would be (`_parameters`, `_buffers`, `_modules`, names joined by `.`).
// - A leading `module.` (DataParallel, DDP) is stripped.
// - Tensors honour storage_offset, size and stride (views of one shared storage).
// - Legacy (pre-1.6) files and TorchScript archives are refused with a message saying how to re-save.
import { checkedProduct, formatShape, quote, utf8 } from './bytes';
import {
  asInt,
  describe,
  interpretPickle,
  PyDict,
  PyGlobal,
  PyList,
  PyRecord,
  PySet,
  PyStorage,
  PyTensor,
  PyTuple,
  storageDtypeOf,
  type PyValue,
} from './pickle';
import { gatherStrided, lazyTensor, viewExtent } from './tensor';
import {
  CheckpointError,
  DEFAULT_MAX_BYTES,
  DTYPE_BYTES,
  MAX_NESTING,
  isIntegerDtype,
  type CheckpointContents,
  type CheckpointMeta,
  type CheckpointTensor,
  type ReadOptions,
  type RecurrentAttributes,
  type RecurrentModule,
  type TensorDtype,
} from './types';
import { looksLikeZip, openZip, type ZipArchive } from './zip';

/** How to re-save, quoted by every refusal. */
export const RESAVE_HINT = 'load it in Python and re-save the weights with torch.save(model.state_dict(), PATH)';

/** The magic number that legacy (pre-1.6) torch.save files pickle first. */
const LEGACY_MAGIC = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** The top-level entries copied into `meta` when they are integers. */
const META_KEYS: (keyof CheckpointMeta)[] = ['step', 'global_step', 'iteration', 'epoch'];

/** Most module and container nodes walked when searching a pickle (a bound on work, not on files). */
const MAX_WALK = 5_000_000;

/** An opened torch.save archive: the unpickled object and a way to decode its tensors. */
export interface TorchArchive {
  file: string;
  /** The object torch.save was given, as inert values. */
  root: PyValue;
  /** Globals that were kept as inert records (`os.system`, a module class), once each. */
  inertGlobals: string[];
  /** Checks a tensor view against its storage (without reading it) and returns it, decoded lazily. */
  tensor(t: PyTensor, name: string): CheckpointTensor;
}

function isLegacyPickle(bytes: Uint8Array): boolean {
  if (bytes.length < 4 + LEGACY_MAGIC.length) return false;
  if (bytes[0] !== 0x80 || bytes[2] !== 0x8a || bytes[3] !== LEGACY_MAGIC.length) return false;
  return LEGACY_MAGIC.every((b, i) => bytes[4 + i] === b);
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

/** Opens a torch.save zip archive and interprets its data.pkl. Throws `CheckpointError`. */
export function openTorchArchive(bytes: Uint8Array, options: ReadOptions = {}): TorchArchive {
  const file = options.fileName ?? 'checkpoint.pt';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!looksLikeZip(bytes)) {
    if (isLegacyPickle(bytes) || isTar(bytes)) {
      throw new CheckpointError('unsupported', file, '', `a legacy (pre-1.6) PyTorch file is not read; ${RESAVE_HINT}`);
    }
    if (bytes.length > 0 && bytes[0] === 0x80) {
      throw new CheckpointError(
        'unsupported',
        file,
        '',
        `a plain pickle, not a torch.save zip archive, is not read; ${RESAVE_HINT}`,
      );
    }
    throw new CheckpointError('corrupt', file, '', 'not a PyTorch checkpoint (no zip signature at the start)');
  }
  const zip = openZip(bytes, { fileName: file, maxBytes, verifyCrc: options.verifyCrc });
  const pkl = zip.entries.find((e) => /^[^/]*\/data\.pkl$/.test(e.name) || e.name === 'data.pkl');
  const prefix = pkl ? pkl.name.slice(0, pkl.name.length - 'data.pkl'.length) : undefined;
  const isTorchScript =
    zip.entries.some((e) => e.name.endsWith('/constants.pkl') || /^[^/]*\/code\//.test(e.name)) ||
    zip.entries.some((e) => e.name === 'constants.pkl');
  if (isTorchScript) {
    throw new CheckpointError(
      'unsupported',
      file,
      '',
      `a TorchScript archive (torch.jit.save) is not read; ${RESAVE_HINT}`,
    );
  }
  if (prefix === undefined) {
    throw new CheckpointError('corrupt', file, '', 'a zip archive without data.pkl is not a torch.save checkpoint');
  }
  let littleEndian = true;
  if (zip.has(`${prefix}byteorder`)) {
    const order = utf8(zip.read(`${prefix}byteorder`), file, 'byteorder').trim();
    if (order !== 'little' && order !== 'big')
      throw new CheckpointError('corrupt', file, 'byteorder', `unknown byte order ${quote(order)}`);
    littleEndian = order === 'little';
  }
  const persistentLoad = (pid: PyValue): PyValue => {
    const items = pid instanceof PyTuple ? pid.items : undefined;
    if (!items || items.length < 5 || items[0] !== 'storage') {
      throw new CheckpointError(
        'corrupt',
        file,
        'data.pkl',
        `persistent id ${describe(pid)} is not a storage reference`,
      );
    }
    const [, type, key, location, numel] = items;
    const n = asInt(numel);
    if (typeof key !== 'string' || n === undefined || n < 0) {
      throw new CheckpointError('corrupt', file, 'data.pkl', 'storage reference without a key and element count');
    }
    const dtype = storageDtypeOf(type) ?? (type instanceof PyGlobal ? type.qualified : describe(type));
    return new PyStorage(dtype, key, typeof location === 'string' ? location : '', n);
  };
  const { value: root, inertGlobals } = interpretPickle(zip.read(`${prefix}data.pkl`), {
    file,
    part: 'data.pkl',
    persistentLoad,
  });
  let decodedBytes = 0;
  const tensor = (t: PyTensor, name: string): CheckpointTensor =>
    tensorOf(zip, prefix, file, littleEndian, maxBytes, t, name, (n) => {
      decodedBytes += n;
      if (decodedBytes > maxBytes) {
        throw new CheckpointError('limit', file, name, `decoding the tensors would take more than ${maxBytes} bytes`);
      }
    });
  return { file, root, inertGlobals, tensor };
}

/** Checks one tensor view against its storage member and returns it, decoded lazily. */
function tensorOf(
  zip: ZipArchive,
  prefix: string,
  file: string,
  littleEndian: boolean,
  maxBytes: number,
  t: PyTensor,
  name: string,
  account: (bytes: number) => void,
): CheckpointTensor {
  const storage = t.storage;
  const member = `data/${storage.key}`;
  const where = `${quote(name)} (${member})`;
  if (!(storage.dtype in DTYPE_BYTES)) {
    throw new CheckpointError('unsupported', file, where, `storage type ${storage.dtype} is not read`);
  }
  const dtype = storage.dtype as TensorDtype;
  const itemSize = DTYPE_BYTES[dtype];
  const count = checkedProduct(t.size);
  if (count === undefined || count * 8 > maxBytes) {
    throw new CheckpointError(
      'limit',
      file,
      where,
      `shape ${formatShape(t.size)} is over the limit of ${maxBytes} bytes`,
    );
  }
  if (!zip.has(`${prefix}${member}`))
    throw new CheckpointError('corrupt', file, member, 'storage member is missing from the archive');
  const entry = zip.entries.find((e) => e.name === `${prefix}${member}`)!;
  const held = entry.uncompressedSize;
  if (storage.numel * itemSize > held) {
    throw new CheckpointError(
      'corrupt',
      file,
      member,
      `storage holds ${held} bytes, its ${storage.numel} ${dtype} elements need ${storage.numel * itemSize}`,
    );
  }
  const extent = viewExtent(t.offset, t.size, t.stride);
  const needed = extent * itemSize;
  if (count > 0 && !(extent <= storage.numel)) {
    throw new CheckpointError(
      'corrupt',
      file,
      member,
      `storage holds ${Math.min(held, storage.numel * itemSize)} bytes, tensor ${quote(name)} needs ${needed} ` +
        `(offset ${t.offset}, size ${formatShape(t.size)}, stride ${formatShape(t.stride)})`,
    );
  }
  account(count * 8);
  return lazyTensor(t.size.slice(), dtype, () =>
    gatherStrided(zip.read(`${prefix}${member}`), dtype, littleEndian, t.offset, t.size, t.stride, count),
  );
}

/** The state of a pickled object (`__dict__`), when BUILD gave it one. */
function stateDict(r: PyRecord): PyDict | undefined {
  const s = r.state;
  if (s instanceof PyDict) return s;
  if (s instanceof PyTuple && s.items[0] instanceof PyDict) return s.items[0];
  return undefined;
}

/** True for a record that looks like a pickled torch.nn.Module. */
function isModuleRecord(v: PyValue): v is PyRecord {
  if (!(v instanceof PyRecord)) return false;
  const s = stateDict(v);
  return s !== undefined && (s.get('_parameters') instanceof PyDict || s.get('_modules') instanceof PyDict);
}

const RNN_MODES = new Set(['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU']);

/** The declared attributes of a pickled torch.nn.RNN/LSTM/GRU (or subclass), or undefined. */
function recurrentAttributes(state: PyDict): RecurrentAttributes | undefined {
  const mode = state.get('mode');
  if (typeof mode !== 'string' || !RNN_MODES.has(mode)) return undefined;
  const a: RecurrentAttributes = { mode: mode as RecurrentAttributes['mode'] };
  const int = (k: string): number | undefined => {
    const v = asInt(state.get(k));
    return v !== undefined && v >= 0 ? v : undefined;
  };
  const bool = (k: string): boolean | undefined => {
    const v = state.get(k);
    return typeof v === 'boolean' ? v : undefined;
  };
  a.input_size = int('input_size');
  a.hidden_size = int('hidden_size');
  a.num_layers = int('num_layers');
  a.proj_size = int('proj_size');
  a.bias = bool('bias');
  a.batch_first = bool('batch_first');
  a.bidirectional = bool('bidirectional');
  const nl = state.get('nonlinearity');
  if (nl === 'tanh' || nl === 'relu') a.nonlinearity = nl;
  else if (mode === 'RNN_TANH') a.nonlinearity = 'tanh';
  else if (mode === 'RNN_RELU') a.nonlinearity = 'relu';
  for (const k of Object.keys(a) as (keyof RecurrentAttributes)[]) if (a[k] === undefined) delete a[k];
  return a;
}

/** A state_dict as found in the pickle: names → tensor descriptions, plus pickled-module facts. */
interface FoundStateDict {
  entries: [string, PyValue][];
  /** Declared attributes of pickled recurrent modules, by module prefix. */
  recurrent: Map<string, RecurrentAttributes>;
  /** Where it was found, e.g. `["model_state_dict"]`. */
  path: string[];
  fromModule: boolean;
}

/**
 * Flattens a pickled module as `state_dict()` names it: own parameters, own persistent buffers,
 * then the children in order, names joined by `.`. Iterative and bounded.
 */
function flattenModule(root: PyRecord, file: string, part: string): Omit<FoundStateDict, 'path'> {
  const entries: [string, PyValue][] = [];
  const recurrent = new Map<string, RecurrentAttributes>();
  const stack: { module: PyRecord; prefix: string; depth: number }[] = [{ module: root, prefix: '', depth: 0 }];
  let work = 0;
  while (stack.length > 0) {
    const { module, prefix, depth } = stack.pop()!;
    if (depth > MAX_NESTING)
      throw new CheckpointError('limit', file, part, `modules nest more than ${MAX_NESTING} levels deep`);
    if (++work > MAX_WALK) throw new CheckpointError('limit', file, part, `more than ${MAX_WALK} modules`);
    const state = stateDict(module);
    if (!state) continue;
    const attrs = recurrentAttributes(state);
    if (attrs) recurrent.set(prefix.replace(/\.$/, ''), attrs);
    const params = state.get('_parameters');
    if (params instanceof PyDict) {
      for (const [k, v] of params.stringEntries()) if (v !== null) entries.push([prefix + k, v]);
    }
    const buffers = state.get('_buffers');
    const nonPersistent = state.get('_non_persistent_buffers_set');
    const skip = new Set(
      nonPersistent instanceof PySet ? nonPersistent.items.filter((x) => typeof x === 'string') : [],
    );
    if (buffers instanceof PyDict) {
      for (const [k, v] of buffers.stringEntries()) if (v !== null && !skip.has(k)) entries.push([prefix + k, v]);
    }
    const children = state.get('_modules');
    if (children instanceof PyDict) {
      const list = [...children.stringEntries()].filter(([, v]) => isModuleRecord(v));
      for (let i = list.length - 1; i >= 0; i--) {
        stack.push({ module: list[i][1] as PyRecord, prefix: `${prefix}${list[i][0]}.`, depth: depth + 1 });
      }
    }
  }
  return { entries, recurrent, fromModule: true };
}

function hasRecurrentKey(entries: Iterable<[string, PyValue]>): boolean {
  for (const [k, v] of entries) if (k.endsWith('weight_hh_l0') && v instanceof PyTensor) return true;
  return false;
}

function keyLabel(k: PyValue): string {
  return typeof k === 'string' ? k : typeof k === 'number' ? String(k) : describe(k);
}

/**
 * Searches the unpickled object depth-first, in the file's key order, for the first dict (or
 * pickled module) with a key ending in `weight_hh_l0`. Iterative, bounded in depth and work.
 */
export function findStateDict(root: PyValue, file: string): FoundStateDict | undefined {
  const stack: { value: PyValue; path: string[] }[] = [{ value: root, path: [] }];
  const seen = new Set<object>();
  let work = 0;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) continue;
    if (seen.has(value)) continue;
    seen.add(value);
    if (path.length > MAX_NESTING) {
      throw new CheckpointError('limit', file, 'data.pkl', `objects nest more than ${MAX_NESTING} levels deep`);
    }
    if (++work > MAX_WALK)
      throw new CheckpointError('limit', file, 'data.pkl', `more than ${MAX_WALK} objects to search`);
    const children: { value: PyValue; path: string[] }[] = [];
    if (value instanceof PyDict) {
      const entries = [...value.stringEntries()];
      if (hasRecurrentKey(entries)) return { entries, recurrent: new Map(), path, fromModule: false };
      for (let i = 0; i < value.size; i++)
        children.push({ value: value.values[i], path: [...path, keyLabel(value.keys[i])] });
    } else if (isModuleRecord(value)) {
      const flat = flattenModule(value, file, path.join('.') || 'data.pkl');
      if (hasRecurrentKey(flat.entries)) return { ...flat, path };
    } else if (value instanceof PyList || value instanceof PyTuple) {
      value.items.forEach((v, i) => children.push({ value: v, path: [...path, String(i)] }));
    } else if (value instanceof PyRecord) {
      if (value.state !== undefined) children.push({ value: value.state, path });
      for (const [k, v] of value.dictItems) children.push({ value: v, path: [...path, keyLabel(k)] });
      value.listItems.forEach((v, i) => children.push({ value: v, path: [...path, String(i)] }));
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}

/** Integer meta entries of a top-level dict (`epoch`, `step`, ...), from ints or 0-d integer tensors. */
function metaOf(root: PyValue, archive: TorchArchive): CheckpointMeta {
  const meta: CheckpointMeta = {};
  if (!(root instanceof PyDict)) return meta;
  for (const key of META_KEYS) {
    const v = root.get(key);
    const n = asInt(v);
    if (n !== undefined) meta[key] = n;
    else if (v instanceof PyTensor && checkedProduct(v.size) === 1) {
      const t = archive.tensor(v, key);
      if (isIntegerDtype(t.dtype) && Number.isSafeInteger(t.data[0])) meta[key] = t.data[0];
    }
  }
  return meta;
}

/**
 * The candidate recurrent modules of a flat state_dict: each prefix P with a `P.weight_hh_l0` key
 * (or '' for `weight_hh_l0`), in key order, with the declared attributes of pickled modules.
 */
export function recurrentCandidates(
  tensors: Map<string, CheckpointTensor>,
  declared: Map<string, RecurrentAttributes> = new Map(),
): RecurrentModule[] {
  const modules: RecurrentModule[] = [];
  for (const key of tensors.keys()) {
    if (key !== 'weight_hh_l0' && !key.endsWith('.weight_hh_l0')) continue;
    const prefix = key.slice(0, key.length - 'weight_hh_l0'.length).replace(/\.$/, '');
    const dotted = prefix === '' ? '' : `${prefix}.`;
    const own = new Map<string, CheckpointTensor>();
    for (const [k, t] of tensors) {
      if (!k.startsWith(dotted)) continue;
      const rest = k.slice(dotted.length);
      if (prefix === '' ? true : !rest.includes('.')) own.set(rest, t);
    }
    const attributes = declared.get(prefix);
    modules.push({
      name: prefix,
      origin: attributes ? 'pickled-module' : 'keys',
      attributes: attributes ? { ...attributes } : {},
      tensors: own,
      unsupported: [],
    });
  }
  return modules;
}

/**
 * Reads a PyTorch checkpoint's weights: the state_dict wherever it sits, its tensors (lazily
 * decoded, every view checked against its storage), the candidate recurrent modules, and the
 * integer meta entries. Throws `CheckpointError`.
 */
export function readPytorch(bytes: Uint8Array, options: ReadOptions = {}): CheckpointContents {
  const archive = openTorchArchive(bytes, options);
  const { file, root } = archive;
  const notes: string[] = [];
  for (const g of archive.inertGlobals) notes.push(`global ${g} kept as an inert record (nothing imported or called)`);
  let found = findStateDict(root, file);
  if (!found && root instanceof PyDict) {
    // No recurrent module: still return the top-level tensors (a readout-only file, data tensors).
    found = { entries: [...root.stringEntries()], recurrent: new Map(), path: [], fromModule: false };
  } else if (!found && root instanceof PyRecord && isModuleRecord(root)) {
    found = { ...flattenModule(root, file, 'data.pkl'), path: [] };
  }
  if (!found) {
    throw new CheckpointError(
      'missing',
      file,
      'data.pkl',
      `holds ${describe(root)}, not a state_dict (no key ending in weight_hh_l0)`,
    );
  }
  if (found.path.length > 0) notes.push(`state_dict found at ${found.path.map((p) => quote(p)).join(' → ')}`);
  if (found.fromModule) notes.push('a whole pickled module, read as its state_dict() names it');
  const stripped = found.entries.some(([k]) => k.startsWith('module.'));
  const tensors = new Map<string, CheckpointTensor>();
  const skipped: string[] = [];
  for (const [rawKey, v] of found.entries) {
    const key = rawKey.startsWith('module.') ? rawKey.slice('module.'.length) : rawKey;
    if (!(v instanceof PyTensor)) {
      skipped.push(rawKey);
      continue;
    }
    if (tensors.has(key)) {
      throw new CheckpointError(
        'corrupt',
        file,
        quote(rawKey),
        `two entries are named ${quote(key)} once the module. prefix is stripped`,
      );
    }
    tensors.set(key, archive.tensor(v, rawKey));
  }
  if (stripped) notes.push('leading "module." (DataParallel / DDP) stripped from the keys');
  if (skipped.length > 0)
    notes.push(`entries that are not tensors skipped: ${skipped.slice(0, 10).map(quote).join(', ')}`);
  const declared = new Map<string, RecurrentAttributes>();
  for (const [prefix, attrs] of found.recurrent)
    declared.set(prefix.startsWith('module.') ? prefix.slice(7) : prefix === 'module' ? '' : prefix, attrs);
  return {
    format: 'pytorch',
    tensors,
    modules: recurrentCandidates(tensors, declared),
    meta: metaOf(root, archive),
    notes,
  };
}

/** The string keys of a dict, for messages (at most 20). */
function listKeys(d: PyDict): string {
  const keys = [...d.stringEntries()].map(([k]) => quote(k));
  return keys.length > 20 ? `${keys.slice(0, 20).join(', ')}, … (${keys.length} keys)` : keys.join(', ') || '(none)';
}

/**
 * Reads one array from a PyTorch file for `data`: the file's bare tensor (`x.pt`, `name`
 * undefined), or entry `name` of a saved dict (`batch.pt#x`). A dict without a name, or a missing
 * name, is a `missing` error listing the keys.
 */
export function readPytorchArray(
  bytes: Uint8Array,
  name: string | undefined,
  options: ReadOptions = {},
): CheckpointTensor {
  const archive = openTorchArchive(bytes, options);
  const { file, root } = archive;
  if (name === undefined) {
    if (root instanceof PyTensor) return archive.tensor(root, '');
    if (root instanceof PyDict) {
      throw new CheckpointError(
        'missing',
        file,
        '',
        `holds a dict, not one tensor: name an entry with #NAME (keys: ${listKeys(root)})`,
      );
    }
    throw new CheckpointError('missing', file, '', `holds ${describe(root)}, not a tensor`);
  }
  if (root instanceof PyDict) {
    const v = root.get(name);
    if (v === undefined)
      throw new CheckpointError('missing', file, `#${name}`, `no entry ${quote(name)} (keys: ${listKeys(root)})`);
    if (!(v instanceof PyTensor))
      throw new CheckpointError('missing', file, `#${name}`, `entry is ${describe(v)}, not a tensor`);
    return archive.tensor(v, name);
  }
  if (root instanceof PyTensor) {
    throw new CheckpointError(
      'missing',
      file,
      `#${name}`,
      'the file holds one bare tensor, not a dict: drop the #name',
    );
  }
  throw new CheckpointError('missing', file, `#${name}`, `holds ${describe(root)}, not a dict of tensors`);
}
