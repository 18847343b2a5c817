// The checkpoint readers' public entry points: pick a reader by file name and magic bytes, read
// weights or one data array, and select a recurrent module (shared/spec/checkpoints.md sections 1,
// 2 and 4). Pure functions over bytes; the I/O layer reads files (and ONNX external data) inside
// the workspace and passes the bytes in.
import { quote } from './bytes';
import { looksLikeHdf5 } from './hdf5';
import { readKeras } from './keras';
import { looksLikeNpy, readNpy } from './npy';
import { readNpz, readNpzArray } from './npz';
import { readOnnx, type OnnxReadOptions } from './onnx';
import { readPytorch, readPytorchArray } from './pytorch';
import {
  CheckpointError,
  type CheckpointContents,
  type CheckpointFormat,
  type CheckpointTensor,
  type ReadOptions,
  type RecurrentModule,
} from './types';
import { looksLikeZip } from './zip';

export * from './types';
export { readPytorch, readPytorchArray, RESAVE_HINT } from './pytorch';
export { readNpy } from './npy';
export { readNpz, readNpzArray } from './npz';
export { readOnnx, parseOnnx, externalLocations, checkExternalLocation } from './onnx';
export { readKeras } from './keras';
export { openHdf5 } from './hdf5';
export { CONVERSIONS } from './convert';

/** File extensions of each weights format (lower case, with the dot). */
export const CHECKPOINT_EXTENSIONS: Record<CheckpointFormat, string[]> = {
  pytorch: ['.pt', '.pth', '.bin', '.ckpt'],
  npz: ['.npz'],
  npy: ['.npy'],
  onnx: ['.onnx'],
  keras: ['.keras', '.h5', '.hdf5'],
};

function extensionOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot).toLowerCase();
}

/** The format a file name says, or undefined for other extensions (`.safetensors`, `.json`). */
export function formatOfFileName(fileName: string): CheckpointFormat | undefined {
  const ext = extensionOf(fileName);
  for (const [format, exts] of Object.entries(CHECKPOINT_EXTENSIONS) as [CheckpointFormat, string[]][]) {
    if (exts.includes(ext)) return format;
  }
  return undefined;
}

/**
 * The format of a file: by extension, checked against the bytes so that a file with a misleading
 * extension gets a message naming what it is. `.bin` is PyTorch (Hugging Face) when it is a zip.
 */
export function detectFormat(bytes: Uint8Array, fileName: string): CheckpointFormat {
  const byName = formatOfFileName(fileName);
  const zip = looksLikeZip(bytes);
  const hdf5 = looksLikeHdf5(bytes);
  const npy = looksLikeNpy(bytes);
  if (byName === 'keras') {
    if (zip || hdf5) return 'keras';
  } else if (byName === 'npy') {
    if (npy) return 'npy';
  } else if (byName === 'npz' || byName === 'pytorch') {
    if (zip || byName === 'pytorch') return byName;
  } else if (byName === 'onnx') {
    return 'onnx';
  }
  if (hdf5) return 'keras';
  if (npy) return 'npy';
  if (byName) {
    throw new CheckpointError(
      'corrupt',
      fileName,
      '',
      `the extension says ${byName}, but the file does not start like one`,
    );
  }
  throw new CheckpointError(
    'unsupported',
    fileName,
    '',
    `not a checkpoint format this tool reads (${Object.values(CHECKPOINT_EXTENSIONS).flat().join(' ')})`,
  );
}

/** Reads the weights of a checkpoint of any supported format (the format chosen by `detectFormat`). */
export function readCheckpoint(bytes: Uint8Array, options: OnnxReadOptions & { fileName: string }): CheckpointContents {
  const format = detectFormat(bytes, options.fileName);
  switch (format) {
    case 'pytorch':
      return readPytorch(bytes, options);
    case 'npz':
      return readNpz(bytes, options);
    case 'onnx':
      return readOnnx(bytes, options);
    case 'keras':
      return readKeras(bytes, options);
    case 'npy': {
      const t = readNpy(bytes, options);
      return { format: 'npy', tensors: new Map([['', t]]), modules: [], meta: {}, notes: [] };
    }
  }
}

/**
 * Splits a data reference `file.npz#name` into the file and the member name (the last `#`; a file
 * name may not end in `#`).
 */
export function splitArrayReference(reference: string): { file: string; name?: string } {
  const at = reference.lastIndexOf('#');
  if (at <= 0) return { file: reference };
  return { file: reference.slice(0, at), name: reference.slice(at + 1) };
}

/**
 * Reads one data array (spec section 4): `x.npy`, `batch.npz#inputs`, `batch.pt#x`, or `x.pt`
 * holding one bare tensor. `.safetensors#name` is read by the existing safetensors reader.
 */
export function readArray(
  bytes: Uint8Array,
  fileName: string,
  name: string | undefined,
  options: ReadOptions = {},
): CheckpointTensor {
  const opts = { ...options, fileName };
  const format = detectFormat(bytes, fileName);
  switch (format) {
    case 'npy':
      if (name !== undefined)
        throw new CheckpointError('missing', fileName, `#${name}`, 'a .npy file holds one array: drop the #name');
      return readNpy(bytes, opts);
    case 'npz':
      return readNpzArray(bytes, name, opts);
    case 'pytorch':
      return readPytorchArray(bytes, name, opts);
    default:
      throw new CheckpointError(
        'unsupported',
        fileName,
        '',
        `data arrays are read from .npy, .npz and .pt files, not ${format}`,
      );
  }
}

/**
 * Selects the recurrent module (spec section 2): by name when `module` is given, else the only
 * candidate. Several candidates without `module`, an unknown `module`, or a module whose source
 * declares something the engine does not compute are `CheckpointError`s listing or naming them.
 */
export function selectModule(
  contents: CheckpointContents,
  module: string | undefined,
  fileName: string,
): RecurrentModule {
  const names = contents.modules.map((m) => quote(m.name));
  let chosen: RecurrentModule | undefined;
  if (module !== undefined) {
    chosen = contents.modules.find((m) => m.name === module);
    if (!chosen) {
      throw new CheckpointError(
        'missing',
        fileName,
        'module',
        `no recurrent module ${quote(module)} (candidates: ${names.join(', ') || 'none'})`,
      );
    }
  } else if (contents.modules.length === 1) {
    chosen = contents.modules[0];
  } else if (contents.modules.length === 0) {
    throw new CheckpointError(
      'missing',
      fileName,
      '',
      'no recurrent module (no key ending in weight_hh_l0, no RNN/LSTM/GRU node or layer)',
    );
  } else {
    throw new CheckpointError(
      'missing',
      fileName,
      'module',
      `several recurrent modules; choose one with "module": ${names.join(', ')}`,
    );
  }
  if (chosen.unsupported.length > 0) {
    throw new CheckpointError('unsupported', fileName, quote(chosen.name), chosen.unsupported.join('; '));
  }
  return chosen;
}
