// Stage 2 of the model reader, for the weights: the names a recurrent module's tensors may have, the
// architecture their shapes and the explicit keys agree on (cell, sizes, directions, projections, GRU reset
// variant), and every shape checked against it.
import { GATES, type CellType, type Direction, type GruReset, type KeyPath } from './types';
import type { ProblemList, SourceRange } from './problems';
import { didYouMean, formatShape } from './jsonTree';
import type { Declared, WeightEntry, WeightsSource } from './source';

/** The per-layer tensor kinds, in PyTorch's naming. */
export type WeightKind = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh' | 'weight_hr';

/** The kinds of every layer in their canonical (and init draw) order; weight_hr only with projections. */
export const WEIGHT_KINDS: readonly WeightKind[] = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'];

/** Highest layer index accepted in a weight name. */
export const MAX_LAYER_INDEX = 1023;

/** Parses a PyTorch parameter name, e.g. "weight_hh_l1_reverse" → kind weight_hh, layer 1, reverse. */
export function parseWeightName(name: string): { kind: WeightKind; layer: number; direction: Direction } | undefined {
  const m = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(0|[1-9][0-9]{0,5})(_reverse)?$/.exec(name);
  if (!m) return undefined;
  const layer = Number(m[2]);
  if (layer > MAX_LAYER_INDEX) return undefined;
  return { kind: m[1] as WeightKind, layer, direction: m[3] ? 'reverse' : 'forward' };
}

/** Reports the names that are no recurrent tensor of the format (with a "did you mean"). */
export function reportUnknownNames(weights: WeightsSource, problems: ProblemList): void {
  for (const u of weights.unknown) {
    const known: string[] = [];
    for (let k = 0; k < 4; k++) for (const kind of WEIGHT_KINDS) known.push(`${kind}_l${k}`, `${kind}_l${k}_reverse`);
    for (let k = 0; k < 4; k++) known.push(`weight_hr_l${k}`);
    problems.error(
      u.path,
      u.range,
      `unknown weight name${u.origin}${didYouMean(u.name, known)}; expected weight_ih_l{k}, weight_hh_l{k}, ` +
        'bias_ih_l{k}, bias_hh_l{k} or weight_hr_l{k}, each optionally ending in _reverse',
    );
  }
}

/** A value given at top level (or declared by the weights source), with the range for problems. */
export interface ExplicitValue<T> {
  value: T;
  range: SourceRange;
  /** The key path it was given at (e.g. ["proj_size"]), or ["weights"] when a source declared it. */
  path: KeyPath;
  /** "" for a model-file key, else where the source declared it (" (declared in model.pt)"). */
  origin?: string;
}

/** What the top level (and the weights source) states about the architecture. */
export interface ExplicitArchitecture {
  cell?: ExplicitValue<CellType>;
  inputSize?: ExplicitValue<number>;
  hiddenSize?: ExplicitValue<number>;
  numLayers?: ExplicitValue<number>;
  bidirectional?: ExplicitValue<boolean>;
  projSize?: ExplicitValue<number>;
  gruReset?: ExplicitValue<GruReset>;
}

/** The architecture the weights and explicit keys agree on; inputSize may still come from the embedding or data. */
export interface Architecture {
  cell: CellType;
  hiddenSize: number;
  /** P: 0 without projections. */
  projSize: number;
  bidirectional: boolean;
  gruReset: GruReset;
  numLayers: number;
  inputSize?: number;
}

const CELL_BY_GATES: Record<number, CellType> = { 1: 'rnn', 4: 'lstm', 3: 'gru' };

/** Joins a source's declared attribute into the explicit keys; a disagreement is an error on the key. */
export function mergeDeclared<T extends string | number | boolean>(
  key: string,
  given: ExplicitValue<T> | undefined,
  declared: Declared<T> | undefined,
  problems: ProblemList,
): ExplicitValue<T> | undefined {
  if (!declared) return given;
  if (given && given.value !== declared.value) {
    problems.error(
      given.path,
      given.range,
      `${JSON.stringify(given.value)}, but the weights declare ${key} ${JSON.stringify(declared.value)}${declared.origin}`,
    );
    return given;
  }
  return given ?? { value: declared.value, range: declared.range, path: ['weights'], origin: declared.origin };
}

/** The valid tensors of one kind, by layer and direction, in name order. */
function entriesOf(
  weights: WeightsSource,
  kind: WeightKind,
): (WeightEntry & { layer: number; direction: Direction })[] {
  const out: (WeightEntry & { layer: number; direction: Direction })[] = [];
  for (const e of weights.valid.values()) {
    const p = parseWeightName(e.name);
    if (p && p.kind === kind) out.push({ ...e, layer: p.layer, direction: p.direction });
  }
  return out.sort((a, b) => a.layer - b.layer || (a.direction === 'forward' ? -1 : 1));
}

/** Layer indices that some given recurrent name refers to, ascending. */
export function layersGiven(weights: WeightsSource): number[] {
  const set = new Set<number>();
  for (const n of weights.given) {
    const p = parseWeightName(n);
    if (p) set.add(p.layer);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Infers cell, H, P, directions, L and I from the weights and checks them against explicit keys. Each
 * disagreement is reported once (on the explicit key), then the weights' own figure is used so that the shape
 * checks do not repeat it. Returns undefined when the architecture cannot be determined.
 */
export function resolveArchitecture(
  weights: WeightsSource,
  explicit: ExplicitArchitecture,
  withInit: boolean,
  anchors: { init?: SourceRange; weights?: SourceRange },
  problems: ProblemList,
): Architecture | undefined {
  const layerIndices = layersGiven(weights);
  const weightLayers = layerIndices.length > 0 ? layerIndices[layerIndices.length - 1] + 1 : 0;
  const hh0 = entriesOf(weights, 'weight_hh')[0];
  if (!hh0 && [...weights.given].some((n) => n.startsWith('weight_hh'))) {
    return undefined; // a weight_hh tensor was given but is invalid: reported already
  }
  if (!hh0 && !withInit && weights.given.size > 0 && explicit.hiddenSize === undefined && anchors.weights) {
    problems.error(['weights'], anchors.weights, 'missing weight_hh_l0 (it gives the hidden size and the cell)');
    return undefined;
  }
  const hr0 = entriesOf(weights, 'weight_hr')[0];
  const projSize = projSizeOf(weights, hr0, explicit, problems);
  if (projSize === undefined) return undefined;
  const hiddenSize = hiddenSizeOf(hh0, hr0, projSize, explicit, problems);
  if (hiddenSize === undefined) {
    // A misspelt hidden_size ("hiddn_size") is reported once, as an unknown key with its "did you mean".
    if (!hh0 && withInit && anchors.init && !explicit.hiddenSize && !problems.isMisspelt(['hidden_size'])) {
      problems.error(['init'], anchors.init, 'needs hidden_size, since no weight_hh tensor gives it');
    }
    return undefined;
  }
  const cell = hh0
    ? cellOf(hh0, hiddenSize, explicit, problems)
    : (explicit.cell?.value ?? (projSize > 0 ? 'lstm' : 'rnn'));
  if (cell === undefined) return undefined;
  if (projSize > 0 && !checkProjectionCell(cell, projSize, hiddenSize, explicit, hr0, problems)) return undefined;
  const bidirectional = bidirectionalOf(weights, explicit, problems);
  const gruReset = gruResetOf(cell, explicit, problems);
  const numLayers = numLayersOf(weightLayers, explicit, withInit, problems);
  const inputSize = inputSizeOf(weights, explicit, problems);
  return { cell, hiddenSize, projSize, bidirectional, gruReset, numLayers, inputSize };
}

/** P: proj_size, else the rows of the first weight_hr; 0 without either. Undefined when wrong (reported). */
function projSizeOf(
  weights: WeightsSource,
  hr0: WeightEntry | undefined,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
): number | undefined {
  if (explicit.projSize) {
    if (explicit.projSize.value === 0 && hr0) {
      problems.error(
        explicit.projSize.path,
        explicit.projSize.range,
        `0 (no projections), but the weights give ${hr0.name}${hr0.origin}`,
      );
      return undefined;
    }
    return explicit.projSize.value;
  }
  if (hr0) return hr0.tensor.shape[0];
  if ([...weights.given].some((n) => n.startsWith('weight_hr'))) return undefined; // invalid, reported
  return 0;
}

/**
 * H: with projections the rows of weight_hr's columns (or weight_hh's rows / 4); otherwise the columns of the
 * first weight_hh. A disagreeing hidden_size is reported on it, unless the rows agree with hidden_size (then
 * the shape check reports the columns). Undefined when H < 1 (reported) or unknown.
 */
function hiddenSizeOf(
  hh0: WeightEntry | undefined,
  hr0: WeightEntry | undefined,
  projSize: number,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
): number | undefined {
  if (projSize > 0) {
    const fromWeights = hr0 ? hr0.tensor.shape[1] : hh0 ? hh0.tensor.shape[0] / 4 : undefined;
    const source = hr0 ? `${hr0.path.join('.')}${hr0.origin} has ${hr0.tensor.shape[1]} columns` : undefined;
    if (explicit.hiddenSize && fromWeights !== undefined && fromWeights !== explicit.hiddenSize.value && source) {
      problems.error(
        explicit.hiddenSize.path,
        explicit.hiddenSize.range,
        `${explicit.hiddenSize.value}, but ${source} (hidden size ${fromWeights})`,
      );
    }
    const h = explicit.hiddenSize?.value ?? fromWeights;
    if (h === undefined || !Number.isInteger(h) || h < 1) {
      if (hh0 && h !== undefined)
        problems.error(
          hh0.path,
          hh0.range,
          `expected 4·H rows (lstm with projections), got shape ${formatShape(hh0.tensor.shape)}${hh0.origin}`,
        );
      return undefined;
    }
    return h;
  }
  if (!hh0) return explicit.hiddenSize?.value;
  const [rows, cols] = hh0.tensor.shape;
  let hiddenSize = cols;
  if (explicit.hiddenSize && cols !== explicit.hiddenSize.value) {
    const h = explicit.hiddenSize.value;
    const gateCounts = explicit.cell ? [GATES[explicit.cell.value]] : [1, 3, 4];
    if (gateCounts.some((g) => rows === g * h)) {
      hiddenSize = h; // the rows agree with hidden_size: the shape check reports the columns
    } else {
      problems.error(
        explicit.hiddenSize.path,
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

/** Projections need an lstm and P < H (as PyTorch requires); false when not (reported). */
function checkProjectionCell(
  cell: CellType,
  projSize: number,
  hiddenSize: number,
  explicit: ExplicitArchitecture,
  hr0: WeightEntry | undefined,
  problems: ProblemList,
): boolean {
  const at = explicit.projSize ?? (hr0 ? { path: hr0.path, range: hr0.range } : undefined);
  if (!at) return true;
  if (cell !== 'lstm') {
    problems.error(
      at.path,
      at.range,
      `projections (proj_size, weight_hr) apply only to lstm cells, but this model is ${cell}`,
    );
    return false;
  }
  if (projSize >= hiddenSize) {
    problems.error(
      at.path,
      at.range,
      `proj_size ${projSize} must be smaller than the hidden size ${hiddenSize} (as in PyTorch)`,
    );
    return false;
  }
  return true;
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
        explicit.cell.path,
        explicit.cell.range,
        `"${explicit.cell.value}"${explicit.cell.origin ?? ''} needs ${hh0.path.join('.')} with ${g}·H = ${g * hiddenSize} rows, but it has ${rows} ` +
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

/** Bidirectional when `bidirectional` says so or any _reverse tensor is given; `false` with _reverse tensors is an error. */
function bidirectionalOf(weights: WeightsSource, explicit: ExplicitArchitecture, problems: ProblemList): boolean {
  const reverse = [...weights.given].find((n) => n.endsWith('_reverse'));
  if (explicit.bidirectional) {
    if (!explicit.bidirectional.value && reverse) {
      problems.error(
        explicit.bidirectional.path,
        explicit.bidirectional.range,
        `false, but the weights give reverse-direction tensors (${reverse}); remove them or set bidirectional to true`,
      );
    }
    return explicit.bidirectional.value;
  }
  return reverse !== undefined;
}

/** gru_reset applies to gru cells only; `after` (PyTorch's) by default. */
function gruResetOf(cell: CellType, explicit: ExplicitArchitecture, problems: ProblemList): GruReset {
  const given = explicit.gruReset;
  if (!given) return 'after';
  if (cell !== 'gru') {
    problems.error(given.path, given.range, `"${given.value}" applies only to cell gru, but this model is ${cell}`);
    return 'after';
  }
  return given.value;
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
      explicit.numLayers.path,
      explicit.numLayers.range,
      `${n}, but the weights give layers 0 to ${weightLayers - 1} (${weightLayers} layer${weightLayers === 1 ? '' : 's'})`,
    );
    return withInit ? Math.max(n, weightLayers) : weightLayers;
  }
  return numLayers;
}

/** I from weight_ih_l0's columns (a disagreeing input_size is reported), else input_size, else unknown yet. */
function inputSizeOf(
  weights: WeightsSource,
  explicit: ExplicitArchitecture,
  problems: ProblemList,
): number | undefined {
  const ih0 = weights.valid.get('weight_ih_l0') ?? weights.valid.get('weight_ih_l0_reverse');
  if (!ih0 || ih0.tensor.shape.length !== 2) return explicit.inputSize?.value;
  const cols = ih0.tensor.shape[1];
  if (explicit.inputSize && cols !== explicit.inputSize.value) {
    problems.error(
      explicit.inputSize.path,
      explicit.inputSize.range,
      `${explicit.inputSize.value}, but ${ih0.path.join('.')}${ih0.origin} has ${cols} columns (input size ${cols})`,
    );
  }
  return cols;
}

/** The directions of a layer of this architecture. */
export function directionsOfArch(arch: Pick<Architecture, 'bidirectional'>): Direction[] {
  return arch.bidirectional ? ['forward', 'reverse'] : ['forward'];
}

/**
 * Reports layers and directions whose required weights are missing (gaps in l{k}, a direction without its
 * _reverse tensors, a projection layer without weight_hr), when no init fills them.
 */
export function checkMissingWeights(
  weights: WeightsSource,
  arch: Architecture,
  weightsPath: KeyPath,
  weightsRange: SourceRange,
  problems: ProblemList,
): void {
  const found = layersGiven(weights);
  for (let k = 0; k < arch.numLayers; k++) {
    const missingLayer = directionsOfArch(arch).every(
      (d) => !weights.given.has(`weight_ih_l${k}${suffix(d)}`) && !weights.given.has(`weight_hh_l${k}${suffix(d)}`),
    );
    if (missingLayer) {
      problems.error(
        weightsPath,
        weightsRange,
        `layer ${k} is missing (needs weight_ih_l${k} and weight_hh_l${k}${arch.bidirectional ? ', and their _reverse tensors' : ''}); the weights give layer${found.length === 1 ? '' : 's'} ${found.join(', ')}`,
      );
      continue;
    }
    for (const d of directionsOfArch(arch)) {
      const kinds = arch.projSize > 0 ? ['weight_ih', 'weight_hh', 'weight_hr'] : ['weight_ih', 'weight_hh'];
      const names = kinds.map((kind) => `${kind}_l${k}${suffix(d)}`);
      const missing = names.filter((n) => !weights.given.has(n));
      if (missing.length === 0) continue;
      if (d === 'reverse' && missing.length === names.length) {
        problems.error(
          weightsPath,
          weightsRange,
          `layer ${k} has no reverse direction (needs ${names.join(', ')}), but the model is bidirectional` +
            (found.length > 1 || k > 0 ? '; every layer needs both directions' : ''),
        );
      } else {
        problems.error(
          weightsPath,
          weightsRange,
          `missing ${missing.join(' and ')} (layer ${k}${d === 'reverse' ? ' reverse' : ''} has the other weights)`,
        );
      }
    }
  }
}

function suffix(d: Direction): string {
  return d === 'reverse' ? '_reverse' : '';
}

/** The shape each kind must have in layer k, and the formula messages print. */
export function expectedShape(
  kind: WeightKind,
  layer: number,
  arch: Architecture & { inputSize?: number },
): { shape: number[]; formula: string } | undefined {
  const g = GATES[arch.cell];
  const h = arch.hiddenSize;
  const gh = g * h;
  const p = arch.projSize;
  const r = p > 0 ? p : h;
  const dirs = arch.bidirectional ? 2 : 1;
  const gateNote = `G=${g} for ${arch.cell}, H=${h}${p > 0 ? `, P=${p}` : ''}`;
  const rName = p > 0 ? 'P' : 'H';
  switch (kind) {
    case 'weight_ih': {
      if (layer === 0) {
        if (arch.inputSize === undefined) return undefined;
        return { shape: [gh, arch.inputSize], formula: `G·H × I, ${gateNote}, I=${arch.inputSize}` };
      }
      const cols = dirs * r;
      const what = dirs === 2 ? `2·${rName}: both directions of layer ${layer - 1}` : rName;
      return { shape: [gh, cols], formula: `G·H × ${what}, ${gateNote}` };
    }
    case 'weight_hh':
      return { shape: [gh, r], formula: `G·H × ${rName}, ${gateNote}` };
    case 'bias_ih':
    case 'bias_hh':
      return { shape: [gh], formula: `G·H, ${gateNote}` };
    case 'weight_hr':
      return { shape: [p, h], formula: `proj_size × H, P=${p}, H=${h}` };
  }
}

/** Checks every valid weight's name and shape against the architecture; returns false if any is wrong. */
export function checkWeightShapes(weights: WeightsSource, arch: Architecture, problems: ProblemList): boolean {
  let ok = true;
  for (const entry of weights.valid.values()) {
    const parsed = parseWeightName(entry.name);
    if (!parsed) continue;
    if (parsed.layer >= arch.numLayers) continue; // reported by the num_layers check
    if (parsed.direction === 'reverse' && !arch.bidirectional) continue; // reported on `bidirectional`
    if (parsed.kind === 'weight_hr' && arch.projSize === 0) continue; // reported on proj_size
    const want = expectedShape(parsed.kind, parsed.layer, arch);
    if (!want) continue;
    const shape = entry.tensor.shape;
    if (shape.length !== want.shape.length || shape.some((n, i) => n !== want.shape[i])) {
      problems.error(
        entry.path,
        entry.range,
        `expected shape ${formatShape(want.shape)} (${want.formula}), got ${formatShape(shape)}${entry.origin}`,
      );
      ok = false;
    }
  }
  return ok;
}
