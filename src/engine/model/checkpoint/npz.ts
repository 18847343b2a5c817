// numpy's .npz format: a zip of .npy members (np.savez stores them, np.savez_compressed deflates
// them). Arrays are named by their member name less `.npy`, so a state_dict saved with
// `np.savez(PATH, **{k: v.numpy() for k, v in sd.items()})` keeps its keys.
import { quote } from './bytes';
import { readNpy } from './npy';
import { recurrentCandidates } from './pytorch';
import {
  CheckpointError,
  DEFAULT_MAX_BYTES,
  type CheckpointContents,
  type CheckpointTensor,
  type ReadOptions,
} from './types';
import { openZip, type ZipArchive } from './zip';

function arrayNames(zip: ZipArchive): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of zip.entries) if (e.name.endsWith('.npy')) names.set(e.name.slice(0, -4), e.name);
  return names;
}

function listNames(names: Map<string, string>): string {
  const keys = [...names.keys()].map(quote);
  return keys.length > 20 ? `${keys.slice(0, 20).join(', ')}, … (${keys.length} arrays)` : keys.join(', ') || '(none)';
}

/** Reads every array of an .npz file, with the candidate recurrent modules of its names. */
export function readNpz(bytes: Uint8Array, options: ReadOptions = {}): CheckpointContents {
  const file = options.fileName ?? 'arrays.npz';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const zip = openZip(bytes, { fileName: file, maxBytes, verifyCrc: options.verifyCrc });
  const names = arrayNames(zip);
  const tensors = new Map<string, CheckpointTensor>();
  const notes: string[] = [];
  let total = 0;
  for (const [name, member] of names) {
    const t = readNpy(zip.read(member), { fileName: file, part: member, maxBytes });
    total += t.data.length * 8;
    if (total > maxBytes)
      throw new CheckpointError('limit', file, member, `the arrays take more than ${maxBytes} bytes`);
    tensors.set(name, t);
  }
  const others = zip.entries.filter((e) => !e.name.endsWith('.npy')).map((e) => quote(e.name));
  if (others.length > 0) notes.push(`members that are not .npy arrays skipped: ${others.slice(0, 10).join(', ')}`);
  return { format: 'npz', tensors, modules: recurrentCandidates(tensors), meta: {}, notes };
}

/**
 * Reads one array of an .npz file (`batch.npz#inputs`). Without a name it is a `missing` error
 * listing the arrays.
 */
export function readNpzArray(bytes: Uint8Array, name: string | undefined, options: ReadOptions = {}): CheckpointTensor {
  const file = options.fileName ?? 'arrays.npz';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const zip = openZip(bytes, { fileName: file, maxBytes, verifyCrc: options.verifyCrc });
  const names = arrayNames(zip);
  if (name === undefined) {
    throw new CheckpointError(
      'missing',
      file,
      '',
      `holds several arrays: name one with #NAME (arrays: ${listNames(names)})`,
    );
  }
  const member = names.get(name);
  if (member === undefined)
    throw new CheckpointError('missing', file, `#${name}`, `no array ${quote(name)} (arrays: ${listNames(names)})`);
  return readNpy(zip.read(member), { fileName: file, part: member, maxBytes });
}
