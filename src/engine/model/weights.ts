// Weights: collecting PyTorch-named tensors (inline or from a safetensors file), inferring the
// architecture from their shapes, and checking every shape against it.
import { GATES, type CellType, type KeyPath } from './types';
import type { ProblemList, SourceRange } from './problems';
import {
  didYouMean,
  formatShape,
  type NumericTensor,
  type Property,
  rangeOf,
  readObject,
  readTensor,
} from './jsonTree';
import type { SafeTensor } from './safetensors';

/** The four per-layer tensor kinds, in PyTorch's naming. */
export type WeightKind = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh';

/** The kinds in their canonical (and init draw) order. */
export const WEIGHT_KINDS: readonly WeightKind[] = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'];

/** Highest layer index accepted in a weight name. */
export const MAX_LAYER_INDEX = 1023;

/** A tensor given for the model, with where problems about it are shown. */
export interface WeightEntry {
  name: string;
  tensor: NumericTensor;
  path: KeyPath;
  range: SourceRange;
  /** " (in FILE)" for tensors from a weights file, else "". */
  origin: string;
}

/** All tensors the model file gives: valid ones by name, and every known name given (even invalid). */
export interface WeightSet {
  valid: Map<string, WeightEntry>;
  given: Set<string>;
  /** Layer indices that some given weight name refers to. */
  layersGiven: Set<number>;
  /** readout.weight / readout.bias from a weights file. */
  readout: Map<'weight' | 'bias', WeightEntry>;
  /** Names given for the readout in a weights file (even invalid). */
  readoutGiven: Set<string>;
}

/** Parses a PyTorch parameter name, e.g. "weight_hh_l1" → kind weight_hh, layer 1. */
export function parseWeightName(name: string): { kind: WeightKind; layer: number } | undefined {
  const m = /^(weight_ih|weight_hh|bias_ih|bias_hh)_l(0|[1-9][0-9]{0,5})$/.exec(name);
  if (!m) return undefined;
  const layer = Number(m[2]);
  if (layer > MAX_LAYER_INDEX) return undefined;
  return { kind: m[1] as WeightKind, layer };
}

/** The message for a weight name the format does not know. */
function unknownWeightMessage(name: string, origin: string): string {
  if (/_reverse$/.test(name)) {
    return `unknown weight${origin}: bidirectional weights (_reverse) are not supported; the format describes one direction`;
  }
  if (/^weight_hr_/.test(name)) {
    return `unknown weight${origin}: LSTM projection weights (weight_hr_, proj_size) are not supported`;
  }
  const known: string[] = [];
  for (let k = 0; k < 4; k++) for (const kind of WEIGHT_KINDS) known.push(`${kind}_l${k}`);
  return (
    `unknown weight name${origin}${didYouMean(name, known)}; ` +
    'expected weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k} or bias_hh_l{k}'
  );
}

/** A set with no tensors (no weights given, or a file that could not be read). */
export function emptyWeightSet(): WeightSet {
  return { valid: new Map(), given: new Set(), layersGiven: new Set(), readout: new Map(), readoutGiven: new Set() };
}

/** Collects the inline `weights` object: names checked, each tensor read with its rank. */
export function collectInlineWeights(prop: Property, problems: ProblemList): WeightSet {
  const set = emptyWeightSet();
  const props = readObject(prop.value, ['weights'], problems);
  if (!props) return set;
  for (const [name, p] of props) {
    const path = ['weights', name];
    const parsed = parseWeightName(name);
    if (!parsed) {
      problems.error(path, rangeOf(p.keyNode), unknownWeightMessage(name, ''));
      continue;
    }
    set.given.add(name);
    set.layersGiven.add(parsed.layer);
    const tensor = readTensor(p.value, path, parsed.kind.startsWith('weight') ? 2 : 1, problems);
    if (tensor) set.valid.set(name, { name, tensor, path, range: rangeOf(p.keyNode), origin: '' });
  }
  return set;
}

/** Collects the tensors of a weights file; problems sit on the `weights` path string. */
export function collectFileWeights(
  tensors: Map<string, SafeTensor>,
  fileLabel: string,
  range: SourceRange,
  problems: ProblemList,
): WeightSet {
  const set = emptyWeightSet();
  const origin = ` (in ${fileLabel})`;
  for (const [name, t] of tensors) {
    const path = ['weights', name];
    const readoutPart = name === 'readout.weight' ? 'weight' : name === 'readout.bias' ? 'bias' : undefined;
    const parsed = parseWeightName(name);
    if (!parsed && !readoutPart) {
      problems.error(path, range, unknownWeightMessage(name, origin));
      continue;
    }
    if (parsed) {
      set.given.add(name);
      set.layersGiven.add(parsed.layer);
    } else {
      set.readoutGiven.add(name);
    }
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

/** A positive integer given at top level, with the value's range for problems. */
export interface ExplicitSize {
  value: number;
  range: SourceRange;
}

/** What the top level states about the architecture. */
export interface ExplicitArchitecture {
  cell?: { value: CellType; range: SourceRange };
  inputSize?: ExplicitSize;
  hiddenSize?: ExplicitSize;
  numLayers?: ExplicitSize;
}

/** The architecture the weights and explicit keys agree on; inputSize may still come from the data. */
export interface Architecture {
  cell: CellType;
  hiddenSize: number;
  numLayers: number;
  inputSize?: number;
}

const CELL_BY_GATES: Record<number, CellType> = { 1: 'rnn', 4: 'lstm', 3: 'gru' };

/**
 * Infers cell, H, L and I from the weights and checks them against explicit keys. Each disagreement
 * is reported once (on the explicit key), then the weights' own figure is used so that the shape
 * checks do not repeat it. Returns undefined when the architecture cannot be determined.
 */
export function resolveArchitecture(
  weights: WeightSet,
  explicit: ExplicitArchitecture,
  withInit: boolean,
  anchors: { init?: SourceRange; weights?: SourceRange },
  problems: ProblemList,
): Architecture | undefined {
  const layerIndices = [...weights.layersGiven].sort((a, b) => a - b);
  const weightLayers = layerIndices.length > 0 ? layerIndices[layerIndices.length - 1] + 1 : 0;
  let hh0: WeightEntry | undefined;
  for (const k of layerIndices) {
    hh0 = weights.valid.get(`weight_hh_l${k}`);
    if (hh0) break;
  }
  if (!hh0 && [...weights.given].some((n) => n.startsWith('weight_hh'))) {
    return undefined; // a weight_hh tensor was given but is invalid: reported already
  }
  if (!hh0 && !withInit && weights.given.size > 0 && explicit.hiddenSize === undefined && anchors.weights) {
    problems.error(['weights'], anchors.weights, 'missing weight_hh_l0 (it gives the hidden size and the cell)');
    return undefined;
  }
  const hiddenSize = hh0 ? hiddenSizeOf(hh0, explicit, problems) : explicit.hiddenSize?.value;
  if (hiddenSize === undefined) {
    if (!hh0 && withInit && anchors.init) {
      problems.error(['init'], anchors.init, 'needs hidden_size, since no weight_hh tensor gives it');
    }
    return undefined;
  }
  const cell = hh0 ? cellOf(hh0, hiddenSize, explicit, problems) : (explicit.cell?.value ?? 'rnn');
  if (cell === undefined) return undefined;
  const numLayers = numLayersOf(weightLayers, explicit, withInit, problems);
  const inputSize = inputSizeOf(weights, explicit, problems);
  return { cell, hiddenSize, numLayers, inputSize };
}

/**
 * H from the first weight_hh's columns; a disagreeing hidden_size is reported on it, unless the rows agree
 * with hidden_size (then the shape check reports the columns). Undefined when H < 1 (reported).
 */
function hiddenSizeOf(hh0: WeightEntry, explicit: ExplicitArchitecture, problems: ProblemList): number | undefined {
  const [rows, cols] = hh0.tensor.shape;
  let hiddenSize = cols;
  if (explicit.hiddenSize && cols !== explicit.hiddenSize.value) {
    const h = explicit.hiddenSize.value;
    const gateCounts = explicit.cell ? [GATES[explicit.cell.value]] : [1, 3, 4];
    if (gateCounts.some((g) => rows === g * h)) {
      hiddenSize = h; // the rows agree with hidden_size: the shape check reports the columns
    } else {
      problems.error(
        ['hidden_size'],
        explicit.hiddenSize.range,
        `${h}, but ${hh0.path.join('.')}${hh0.origin} has ${cols} columns (hidden size ${cols})`,
      );
    }
  }
  if (hiddenSize < 1) {
    problems.error(
      hh0.path,
      hh0.range,
      `expected at least one column (the hidden size), got shape ${formatShape(hh0.tensor.shape)}`,
    );
    return undefined;
  }
  return hiddenSize;
}

/**
 * The cell from the first weight_hh's gate count (rows / H); a disagreeing `cell` is reported on it and the
 * weights' cell used. Undefined when the rows fit no cell and `cell` is not given (reported).
 */
function cellOf(
  hh0: WeightEntry,
  hiddenSize: number,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
): CellType | undefined {
  const rows = hh0.tensor.shape[0];
  const ratio = rows / hiddenSize;
  const inferred = Number.isInteger(ratio) ? CELL_BY_GATES[ratio] : undefined;
  if (explicit.cell) {
    if (inferred && inferred !== explicit.cell.value) {
      const g = GATES[explicit.cell.value];
      problems.error(
        ['cell'],
        explicit.cell.range,
        `"${explicit.cell.value}" needs ${hh0.path.join('.')} with ${g}·H = ${g * hiddenSize} rows, but it has ${rows} ` +
          `(gate count ${ratio}, as for ${inferred})`,
      );
      return inferred;
    }
    return explicit.cell.value;
  }
  if (inferred) return inferred;
  problems.error(
    hh0.path,
    hh0.range,
    `cannot infer the cell${hh0.origin}: ${rows} rows is not 1, 4 or 3 times the hidden size ${hiddenSize} ` +
      `(rnn, lstm or gru); got shape ${formatShape(hh0.tensor.shape)}`,
  );
  return undefined;
}

/**
 * L: num_layers, else the layers the weight names give (1 without any). A num_layers that disagrees with
 * the weights is reported (with an init, more layers than the weights give is fine: the init fills them).
 */
function numLayersOf(
  weightLayers: number,
  explicit: ExplicitArchitecture,
  withInit: boolean,
  problems: ProblemList,
): number {
  const numLayers = explicit.numLayers?.value ?? (weightLayers > 0 ? weightLayers : 1);
  if (!explicit.numLayers || weightLayers === 0) return numLayers;
  const n = explicit.numLayers.value;
  if (weightLayers > n || (!withInit && weightLayers !== n)) {
    problems.error(
      ['num_layers'],
      explicit.numLayers.range,
      `${n}, but the weights give layers 0 to ${weightLayers - 1} (${weightLayers} layer${weightLayers === 1 ? '' : 's'})`,
    );
    return withInit ? Math.max(n, weightLayers) : weightLayers;
  }
  return numLayers;
}

/** I from weight_ih_l0's columns (a disagreeing input_size is reported), else input_size, else unknown yet. */
function inputSizeOf(weights: WeightSet, explicit: ExplicitArchitecture, problems: ProblemList): number | undefined {
  const ih0 = weights.valid.get('weight_ih_l0');
  if (!ih0 || ih0.tensor.shape.length !== 2) return explicit.inputSize?.value;
  const cols = ih0.tensor.shape[1];
  if (explicit.inputSize && cols !== explicit.inputSize.value) {
    problems.error(
      ['input_size'],
      explicit.inputSize.range,
      `${explicit.inputSize.value}, but ${ih0.path.join('.')}${ih0.origin} has ${cols} columns (input size ${cols})`,
    );
  }
  return cols;
}

/** Reports layers whose required weights are missing (gaps in l{k}), when no init fills them. */
export function checkMissingWeights(
  weights: WeightSet,
  arch: Architecture,
  weightsPath: KeyPath,
  weightsRange: SourceRange,
  problems: ProblemList,
): void {
  const found = [...weights.layersGiven].sort((a, b) => a - b);
  for (let k = 0; k < arch.numLayers; k++) {
    const missing = ['weight_ih', 'weight_hh'].map((kind) => `${kind}_l${k}`).filter((n) => !weights.given.has(n));
    if (missing.length === 2) {
      problems.error(
        weightsPath,
        weightsRange,
        `layer ${k} is missing (needs weight_ih_l${k} and weight_hh_l${k}); the weights give layer${found.length === 1 ? '' : 's'} ${found.join(', ')}`,
      );
    } else if (missing.length === 1) {
      problems.error(weightsPath, weightsRange, `missing ${missing[0]} (layer ${k} has the other weights)`);
    }
  }
}

/** Checks every valid weight's shape against the architecture; returns false if any is wrong. */
export function checkWeightShapes(weights: WeightSet, arch: Architecture, problems: ProblemList): boolean {
  const g = GATES[arch.cell];
  const h = arch.hiddenSize;
  const gh = g * h;
  const gateNote = `G=${g} for ${arch.cell}, H=${h}`;
  let ok = true;
  for (const entry of weights.valid.values()) {
    const parsed = parseWeightName(entry.name);
    if (!parsed) continue;
    let expected: number[];
    let formula: string;
    if (parsed.kind === 'weight_ih') {
      const cols = parsed.layer === 0 ? arch.inputSize : h;
      if (cols === undefined) continue;
      expected = [gh, cols];
      formula = parsed.layer === 0 ? `G·H × I, ${gateNote}, I=${cols}` : `G·H × H, ${gateNote}`;
    } else if (parsed.kind === 'weight_hh') {
      expected = [gh, h];
      formula = `G·H × H, ${gateNote}`;
    } else {
      expected = [gh];
      formula = `G·H, ${gateNote}`;
    }
    if (parsed.layer >= arch.numLayers) continue; // reported by the num_layers check
    const shape = entry.tensor.shape;
    if (shape.length !== expected.length || shape.some((n, i) => n !== expected[i])) {
      problems.error(
        entry.path,
        entry.range,
        `expected shape ${formatShape(expected)} (${formula}), got ${formatShape(shape)}${entry.origin}`,
      );
      ok = false;
    }
  }
  return ok;
}
