// Stage 1 of the model reader, file sources (source.ts calls these): the `weights` path (any format of
// checkpoints.md section 1) with `module`, `readout` and `embedding` given as prefixes (section 2), and data
// arrays named by strings (section 4). Every problem names its key and sits on its value: file problems on the
// `weights` path string, a module choice on `module` (or on `weights` when `module` is absent), a prefix on its
// string, a data file on its string.
import { type Node, parseTree } from 'jsonc-parser';
import type { CheckpointTensor, RecurrentAttributes } from './checkpoint';
import {
  type CheckpointWeights,
  type LoadFile,
  readCheckpointWeights,
  readDataFile,
  type SourceFailure,
  type WeightsFileFormat,
} from './checkpointSource';
import { type Property, rangeOf, typeName } from './jsonTree';
import type { ProblemList, SourceRange } from './problems';
import type { KeyPath, ModelSource } from './types';

/** A weights file read for the parser: the module's tensors and what the file declares about it. */
export interface FileWeights {
  origin: ModelSource & { format: WeightsFileFormat };
  /** PyTorch names relative to the module (and, with the empty prefix, the file's other names). */
  tensors: Map<string, { shape: number[]; data: Float64Array }>;
  /** A readout named by a prefix, as `readout.weight` / `readout.bias` entries. */
  readout?: { weight: CheckpointTensor; bias?: CheckpointTensor };
  embedding?: CheckpointTensor;
  declared: RecurrentAttributes;
  notes: string[];
}

/** Reports a SourceFailure on the key it belongs to. */
function reportFailure(
  failure: SourceFailure,
  props: Map<string, Property>,
  weightsProp: Property,
  problems: ProblemList,
): void {
  const prop = props.get(failure.key);
  const range = prop ? rangeOf(prop.value) : rangeOf(weightsProp.value);
  const path: KeyPath = prop ? [failure.key] : ['weights'];
  problems.errorWith(path, range, failure.error, {
    ...(failure.code === 'unsupported-source' ? { code: 'unsupported-source' as const } : {}),
    ...(failure.candidates ? { candidates: failure.candidates } : {}),
  });
}

/** A string-valued key (`module`, a `readout` / `embedding` prefix), or undefined with a problem when not a string. */
function stringOf(prop: Property | undefined, key: string, problems: ProblemList): string | undefined {
  if (!prop || prop.value.type !== 'string') return undefined;
  const v = String(prop.value.value);
  if (v === '' && key !== 'module') {
    problems.error([key], rangeOf(prop.value), 'expected a key prefix, got an empty string');
    return undefined;
  }
  return v;
}

/**
 * Reads the weights file the `weights` path names (spec sections 1 and 2): the module `module` selects, the
 * readout and embedding named by prefixes. Undefined (with problems) when the file cannot be used.
 */
export function readWeightsFileSource(
  weightsProp: Property,
  props: Map<string, Property>,
  loadFile: LoadFile | undefined,
  problems: ProblemList,
): FileWeights | undefined {
  const relative = String(weightsProp.value.value);
  const range = rangeOf(weightsProp.value);
  if (!loadFile) {
    problems.error(['weights'], range, `cannot load "${relative}": weight files are not available here`);
    return undefined;
  }
  const moduleProp = props.get('module');
  if (moduleProp && moduleProp.value.type !== 'string') {
    problems.error(
      ['module'],
      rangeOf(moduleProp.value),
      `expected a string (a module name), got ${typeName(moduleProp.value)}`,
    );
    return undefined;
  }
  const before = problems.errorCount;
  const module = stringOf(moduleProp, 'module', problems);
  const readout = stringOf(props.get('readout'), 'readout', problems);
  const embedding = stringOf(props.get('embedding'), 'embedding', problems);
  if (problems.errorCount > before) return undefined;
  const read: CheckpointWeights | SourceFailure = readCheckpointWeights(relative, loadFile, {
    module,
    readout,
    embedding,
  });
  if ('error' in read) {
    reportFailure(read, props, weightsProp, problems);
    return undefined;
  }
  return {
    origin: { format: read.format, path: relative, module: read.module },
    tensors: read.tensors,
    ...(read.readout ? { readout: read.readout } : {}),
    ...(read.embedding ? { embedding: read.embedding } : {}),
    declared: read.attributes,
    notes: read.notes,
  };
}

/**
 * `module`, a string `readout` or a string `embedding` without a weights file to look in: an error on the key
 * (ONNX and Keras readouts are given inline; inline weights have no modules).
 */
export function checkPrefixKeysWithoutFile(props: Map<string, Property>, problems: ProblemList): void {
  const moduleProp = props.get('module');
  if (moduleProp) {
    problems.error(
      ['module'],
      rangeOf(moduleProp.keyNode),
      'selects a module of a checkpoint, but "weights" is not a file path; remove it, or name a checkpoint in "weights"',
    );
  }
  for (const key of ['readout', 'embedding'] as const) {
    const prop = props.get(key);
    if (prop?.value.type === 'string') {
      problems.error(
        [key],
        rangeOf(prop.value),
        `"${String(prop.value.value)}" names a key prefix in a checkpoint, but "weights" is not a file path; give the ${key} inline as {"weight": [[…]]}`,
      );
    }
  }
}

/** One data array read from a file, for stage 2's checks. */
export interface DataFileArray {
  tensor: CheckpointTensor;
  /** The reference as written (`batch.npz#inputs`). */
  label: string;
  path: KeyPath;
  range: SourceRange;
}

/**
 * Reads `data.KEY` when it is a string naming an array in a file (spec section 4). Undefined (with a problem on
 * the string) when it cannot be read.
 */
export function readDataArray(
  prop: Property,
  key: string,
  loadFile: LoadFile | undefined,
  problems: ProblemList,
): DataFileArray | undefined {
  const reference = String(prop.value.value);
  const range = rangeOf(prop.value);
  const path: KeyPath = ['data', key];
  if (!loadFile) {
    problems.error(path, range, `cannot load "${reference}": data files are not available here`);
    return undefined;
  }
  const read = readDataFile(reference, loadFile);
  if ('error' in read) {
    problems.errorWith(path, range, read.error, read.code === 'unsupported-source' ? { code: read.code } : {});
    return undefined;
  }
  return { tensor: read.tensor, label: reference, path, range };
}

/** `{"generate": {"sequences": 8, "length": 64}}`: the data a model file without `data` gets (spec section 4). */
export const SYNTHETIC_DATA = { sequences: 8, length: 64 } as const;

/** The `data` property the synthetic data stands for, parsed from its own small text (ranges point into it). */
export function syntheticDataProperty(): Property {
  const text = `{"data": {"generate": {"sequences": ${SYNTHETIC_DATA.sequences}, "length": ${SYNTHETIC_DATA.length}}}}`;
  const root = parseTree(text) as Node;
  const pair = (root.children ?? [])[0];
  const [keyNode, value] = pair.children ?? [];
  return { key: 'data', keyNode, value };
}
