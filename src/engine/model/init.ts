// `init`: seeded initialisation of the weights that `weights` does not give (schemes in docs/model-files.md).
import { GATES, type CellType, type LayerWeights, type Matrix } from './types';
import type { ProblemList, SourceRange } from './problems';
import { type Property, rangeOf, readEnum, readNonNegativeInt, readNumber, readObject } from './jsonTree';
import { MAX_SEED, SeededRandom } from './random';
import { type Architecture, directionsOfArch, WEIGHT_KINDS, type WeightKind } from './weights';
import type { WeightsSource } from './source';

/** The initialisation schemes offered. */
export const INIT_SCHEMES = ['pytorch', 'orthogonal', 'identity', 'normal'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/** Most parameters init creates (all layers together). */
export const MAX_INIT_PARAMETERS = 20_000_000;
/** Largest G·L·H³ the orthogonal scheme accepts (one H×H QR per gate block and layer; ~2 s at the limit). */
export const MAX_ORTHOGONAL_WORK = 2 ** 29;

/** A validated `init` object. */
export interface InitSpec {
  scheme: InitScheme;
  seed: number;
  gain: number;
  /** Standard deviation of normal draws: all weights for `normal`, weight_ih for `identity`. */
  std: number;
  forgetBias?: number;
  /** Where problems about init as a whole are shown (the `init` key). */
  range: SourceRange;
  forgetBiasRange?: SourceRange;
}

const INIT_KEYS = ['scheme', 'seed', 'gain', 'std', 'forget_bias'];

/** Reads and validates the `init` object (scheme-independent checks; cell checks come later). */
export function readInit(prop: Property, problems: ProblemList): InitSpec | undefined {
  const before = problems.errorCount;
  const props = readObject(prop.value, ['init'], problems, INIT_KEYS);
  if (!props) return undefined;
  const get = (key: string) => props.get(key);
  const schemeProp = get('scheme');
  const scheme = schemeProp ? readEnum(schemeProp, ['init', 'scheme'], INIT_SCHEMES, problems) : 'pytorch';
  const seedProp = get('seed');
  const seed = seedProp ? readNonNegativeInt(seedProp, ['init', 'seed'], problems, MAX_SEED) : 0;
  const gainProp = get('gain');
  let gain = 1;
  if (gainProp) {
    const v = readNumber(gainProp, ['init', 'gain'], problems);
    if (v !== undefined) gain = v;
    if (scheme && scheme !== 'orthogonal' && scheme !== 'identity') {
      problems.error(
        ['init', 'gain'],
        rangeOf(gainProp.keyNode),
        `applies only to the orthogonal and identity schemes, not "${scheme}"`,
      );
    }
  }
  const stdProp = get('std');
  let std = scheme === 'identity' ? 0.001 : 0.01;
  if (stdProp) {
    const v = readNumber(stdProp, ['init', 'std'], problems);
    if (v !== undefined && v < 0)
      problems.error(['init', 'std'], rangeOf(stdProp.value), `expected a non-negative number, got ${v}`);
    else if (v !== undefined) std = v;
    if (scheme && scheme !== 'normal' && scheme !== 'identity') {
      problems.error(
        ['init', 'std'],
        rangeOf(stdProp.keyNode),
        `applies only to the normal and identity schemes, not "${scheme}"`,
      );
    }
  }
  const fbProp = get('forget_bias');
  const forgetBias = fbProp ? readNumber(fbProp, ['init', 'forget_bias'], problems) : undefined;
  if (problems.errorCount > before || !scheme || seed === undefined) return undefined;
  return {
    scheme,
    seed,
    gain,
    std,
    forgetBias,
    range: rangeOf(prop.keyNode),
    forgetBiasRange: fbProp ? rangeOf(fbProp.keyNode) : undefined,
  };
}

/** Checks init against the architecture (forget_bias only for lstm, size caps); false if wrong. */
export function checkInitFits(
  spec: InitSpec,
  arch: Architecture & { inputSize: number },
  problems: ProblemList,
): boolean {
  let ok = true;
  if (spec.forgetBias !== undefined && arch.cell !== 'lstm' && spec.forgetBiasRange) {
    problems.error(
      ['init', 'forget_bias'],
      spec.forgetBiasRange,
      `applies only to lstm cells, but this model is ${arch.cell}`,
    );
    ok = false;
  }
  const g = GATES[arch.cell];
  const h = arch.hiddenSize;
  const r = arch.projSize > 0 ? arch.projSize : h;
  const dirs = arch.bidirectional ? 2 : 1;
  let parameters = 0;
  for (let k = 0; k < arch.numLayers; k++) {
    parameters += dirs * (g * h * ((k === 0 ? arch.inputSize : dirs * r) + r + 2) + arch.projSize * h);
  }
  if (arch.projSize > 0 && (spec.scheme === 'orthogonal' || spec.scheme === 'identity')) {
    problems.error(
      ['init', 'scheme'],
      spec.range,
      `"${spec.scheme}" makes square H×H blocks of weight_hh, which has ${r} columns with projections (proj_size ${arch.projSize}); use "pytorch" or "normal"`,
    );
    ok = false;
  }
  if (parameters > MAX_INIT_PARAMETERS) {
    problems.error(
      ['init'],
      spec.range,
      `would create ${parameters} parameters (num_layers ${arch.numLayers}, hidden_size ${h}, input_size ${arch.inputSize}); the limit is ${MAX_INIT_PARAMETERS}`,
    );
    ok = false;
  } else if (spec.scheme === 'orthogonal' && g * arch.numLayers * h ** 3 > MAX_ORTHOGONAL_WORK) {
    problems.error(
      ['init'],
      spec.range,
      `the orthogonal scheme would need G·L·H³ = ${g * arch.numLayers * h ** 3} operations (G=${g}, L=${arch.numLayers}, H=${h}); the limit is ${MAX_ORTHOGONAL_WORK} (e.g. one lstm layer of H ≤ 512)`,
    );
    ok = false;
  }
  return ok;
}

/** Fills `out` with uniform draws from [−a, a). */
function fillUniform(out: Float64Array, a: number, rng: SeededRandom): void {
  for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(-a, a);
}

/** Fills `out` with normal draws of standard deviation `std`. */
function fillNormal(out: Float64Array, std: number, rng: SeededRandom): void {
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
}

/**
 * An n×n orthogonal matrix (row-major): the Q of A = QR for a standard-normal A (drawn row-major),
 * with R's diagonal made positive, as torch.nn.init.orthogonal_ does. Computed by Gram–Schmidt on
 * A's columns with one re-orthogonalisation pass, which yields exactly that sign-corrected Q.
 */
export function randomOrthogonal(n: number, rng: SeededRandom): Float64Array {
  const a = new Float64Array(n * n);
  fillNormal(a, 1, rng);
  const q = new Float64Array(n * n); // column j of Q stored at q[j*n .. j*n+n) (column-major)
  const v = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) v[i] = a[i * n + j];
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[p * n + i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[p * n + i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    if (norm === 0) norm = 1; // probability zero for a Gaussian matrix
    for (let i = 0; i < n; i++) q[j * n + i] = v[i] / norm;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = q[j * n + i];
  return out;
}

function matrix(rows: number, cols: number, data: Float64Array): Matrix {
  return { rows, cols, data };
}

/** Draws one tensor of layer k by the scheme; every tensor is drawn in order even if `weights` gives it. */
function drawTensor(
  kind: WeightKind,
  rows: number,
  cols: number,
  cell: CellType,
  hidden: number,
  spec: InitSpec,
  rng: SeededRandom,
): Float64Array {
  const out = new Float64Array(rows * cols);
  const bound = 1 / Math.sqrt(hidden);
  const isBias = kind === 'bias_ih' || kind === 'bias_hh';
  if (kind === 'weight_hr') {
    if (spec.scheme === 'pytorch') fillUniform(out, bound, rng);
    else if (spec.scheme === 'normal') fillNormal(out, spec.std, rng);
    return out;
  }
  switch (spec.scheme) {
    case 'pytorch':
      fillUniform(out, bound, rng);
      break;
    case 'normal':
      if (!isBias) fillNormal(out, spec.std, rng);
      break;
    case 'orthogonal':
      if (kind === 'weight_ih') fillUniform(out, bound, rng);
      else if (kind === 'weight_hh') {
        for (let b = 0; b < GATES[cell]; b++) {
          const block = randomOrthogonal(hidden, rng);
          for (let i = 0; i < block.length; i++) out[b * hidden * hidden + i] = spec.gain * block[i];
        }
      }
      break;
    case 'identity':
      if (kind === 'weight_ih') fillNormal(out, spec.std, rng);
      else if (kind === 'weight_hh') {
        for (let b = 0; b < GATES[cell]; b++) {
          for (let i = 0; i < hidden; i++) out[(b * hidden + i) * hidden + i] = spec.gain;
        }
      }
      break;
  }
  if (spec.forgetBias !== undefined && cell === 'lstm' && isBias) {
    out.fill(kind === 'bias_ih' ? spec.forgetBias : 0, hidden, 2 * hidden); // gate order i, f, g, o
  }
  return out;
}

/**
 * Builds every layer's tensors, one entry per layer and direction (l0, l0 reverse, l1, …): those `weights`
 * gives as given; the rest from `init` (zeros for absent biases when there is no init), drawn in PyTorch's
 * parameter order (per layer and direction: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr). Requires the
 * shapes to have been checked.
 */
export function assembleLayers(
  arch: Architecture & { inputSize: number },
  weights: WeightsSource,
  spec: InitSpec | undefined,
): LayerWeights[] {
  const g = GATES[arch.cell];
  const h = arch.hiddenSize;
  const p = arch.projSize;
  const r = p > 0 ? p : h;
  const dirs = arch.bidirectional ? 2 : 1;
  const rng = spec ? new SeededRandom(spec.seed) : undefined;
  const kinds: WeightKind[] = p > 0 ? [...WEIGHT_KINDS, 'weight_hr'] : [...WEIGHT_KINDS];
  const layers: LayerWeights[] = [];
  for (let k = 0; k < arch.numLayers; k++) {
    for (const direction of directionsOfArch(arch)) {
      const suffix = direction === 'reverse' ? '_reverse' : '';
      const shapes: Record<WeightKind, [number, number]> = {
        weight_ih: [g * h, k === 0 ? arch.inputSize : dirs * r],
        weight_hh: [g * h, r],
        bias_ih: [g * h, 1],
        bias_hh: [g * h, 1],
        weight_hr: [p, h],
      };
      const tensors = {} as Record<WeightKind, Float64Array>;
      const omitted: ('biasIh' | 'biasHh')[] = [];
      for (const kind of kinds) {
        const [rows, cols] = shapes[kind];
        const drawn = spec && rng ? drawTensor(kind, rows, cols, arch.cell, h, spec, rng) : undefined;
        const given = weights.valid.get(`${kind}_l${k}${suffix}`);
        tensors[kind] = given ? given.tensor.data : (drawn ?? new Float64Array(rows * cols));
        // A bias neither given nor drawn is absent, as with PyTorch's bias=False: no parameter, no gradient.
        if (!given && !drawn && kind === 'bias_ih') omitted.push('biasIh');
        if (!given && !drawn && kind === 'bias_hh') omitted.push('biasHh');
      }
      layers.push({
        layer: k,
        direction,
        weightIh: matrix(g * h, shapes.weight_ih[1], tensors.weight_ih),
        weightHh: matrix(g * h, r, tensors.weight_hh),
        biasIh: tensors.bias_ih,
        biasHh: tensors.bias_hh,
        ...(p > 0 ? { weightHr: matrix(p, h, tensors.weight_hr) } : {}),
        ...(omitted.length ? { omitted } : {}),
      });
    }
  }
  return layers;
}
