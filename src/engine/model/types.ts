// The validated, in-memory model that the engine computes on (model-format.md, version 1, and the
// version-2 architectures of checkpoints.md section 3: bidirectional stacks, LSTM projections, an
// embedding, GRU reset-before, padded batches).

/** A path of keys and array indices into the model file, e.g. ["weights", "weight_hh_l0", 3]. */
export type KeyPath = (string | number)[];

export type CellType = 'rnn' | 'lstm' | 'gru';
export type RnnForm = 'elman' | 'pascanu';
export type Nonlinearity = 'tanh' | 'relu' | 'sigmoid' | 'linear';
export type LossKind = 'sum' | 'mse' | 'cross_entropy';
/** The direction of one layer of a stack: `reverse` runs t = T−1 … 0 (PyTorch names end in `_reverse`). */
export type Direction = 'forward' | 'reverse';
/** Where a GRU applies its reset gate: PyTorch's `after` W_hn h, or `before` it (Keras reset_after=False). */
export type GruReset = 'after' | 'before';
/** Where the weights came from (report `model.source.format`). */
export type SourceFormat = 'json' | 'safetensors' | 'pytorch' | 'npz' | 'onnx' | 'keras';

/** Number of gate blocks stacked in the weight rows: G in model-format.md. */
export const GATES: Record<CellType, number> = { rnn: 1, lstm: 4, gru: 3 };

/** A dense row-major float64 matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * One layer and direction's parameters, PyTorch layout: weightIh [G·H][I_k], weightHh [G·H][R] (R = P with
 * projections, else H), biases [G·H], weightHr [P][H].
 */
export interface LayerWeights {
  /** The layer index k. */
  layer: number;
  direction: Direction;
  weightIh: Matrix;
  weightHh: Matrix;
  biasIh: Float64Array;
  biasHh: Float64Array;
  /** LSTM projection W_hr [P][H] (proj_size P > 0). */
  weightHr?: Matrix;
  /** Biases the file leaves out (zeros, no gradient entry, as PyTorch's bias=False). Default: none. */
  omitted?: ('biasIh' | 'biasHh')[];
}

/**
 * One input sequence, already cut to its real length (`data.lengths`: padding never reaches the engine):
 * inputs T×I row-major (empty with an embedding), or token ids (with an embedding); targets T×D (mse) or T
 * class indices (cross_entropy).
 */
export interface Sequence {
  length: number;
  inputs: Float64Array;
  tokens?: Int32Array;
  targets?: Float64Array;
}

/** The user's current training settings (model-format.md `training`). */
export interface TrainingSettings {
  clipNorm: number | null;
  clipValue: number | null;
  batchSize: number | null;
}

/** Where the weights came from (report `model.source`). */
export interface ModelSource {
  format: SourceFormat;
  /** The weights path as the model file writes it (file sources only). */
  path?: string;
  /** The recurrent module's key prefix ("" for a bare state_dict or inline weights). */
  module: string;
}

/**
 * The version-2 features a model file uses (checkpoints.md): any of them makes the report version 2
 * (see report/version.ts). Readers add the ones they meet.
 */
export type V2Feature =
  | 'checkpoint'
  | 'module'
  | 'readout-prefix'
  | 'embedding-prefix'
  | 'bidirectional'
  | 'proj_size'
  | 'embedding'
  | 'gru_reset'
  | 'tokens'
  | 'lengths'
  | 'data-files'
  | 'no-data';

/** A fully validated model, ready for the engine. */
export interface Model {
  name?: string;
  cell: CellType;
  form: RnnForm;
  nonlinearity: Nonlinearity;
  /** GRU reset variant (`after` for every other cell). */
  gruReset: GruReset;
  /** I: the input width of layer 0 (the embedding width with an embedding). */
  inputSize: number;
  hiddenSize: number;
  /** P: LSTM proj_size, 0 when none. */
  projSize: number;
  bidirectional: boolean;
  /** Layers of the stack (a bidirectional layer counts once). */
  numLayers: number;
  /** D: rows of readout.weight, or the top layer's output width without a readout. */
  outputSize: number;
  /** One entry per layer and direction, in the report's order: l0, l0 reverse, l1, l1 reverse, … */
  layers: LayerWeights[];
  readout?: { weight: Matrix; bias: Float64Array };
  /** embedding.weight [V][I]: layer 0 reads row tokens[t] (with `sequences[b].tokens`). */
  embedding?: Matrix;
  sequences: Sequence[];
  loss: LossKind;
  training: TrainingSettings;
  source: ModelSource;
  /** The model file has no `data`: the sequences are synthetic (a `synthetic-data` finding says so). */
  syntheticData?: boolean;
  /** The version-2 features the file uses (empty for a version-1 file). */
  v2Features: V2Feature[];
}

/** Creates a zero matrix. */
export function zeroMatrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** Number of directions of each layer: 2 for a bidirectional stack. */
export function directionsOf(model: Pick<Model, 'bidirectional'>): 1 | 2 {
  return model.bidirectional ? 2 : 1;
}

/** Width of one direction's output y_t (and of h): P with projections, else H. */
export function directionWidth(model: Pick<Model, 'projSize' | 'hiddenSize'>): number {
  return model.projSize > 0 ? model.projSize : model.hiddenSize;
}

/** Width of a layer's output (the next layer's and the readout's input): directions × P (or H). */
export function layerOutputWidth(model: Pick<Model, 'projSize' | 'hiddenSize' | 'bidirectional'>): number {
  return directionsOf(model) * directionWidth(model);
}

/** The suffix of a direction's PyTorch names: "" or "_reverse". */
export function directionSuffix(direction: Direction): string {
  return direction === 'reverse' ? '_reverse' : '';
}

/** PyTorch's name of one of a layer's tensors, e.g. ("weight_hh", 0, "reverse") → "weight_hh_l0_reverse". */
export function paramName(kind: string, layer: number, direction: Direction): string {
  return `${kind}_l${layer}${directionSuffix(direction)}`;
}
