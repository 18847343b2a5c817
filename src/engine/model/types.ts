// The validated, in-memory model that the engine computes on (model-format.md, version 1).

/** A path of keys and array indices into the model file, e.g. ["weights", "weight_hh_l0", 3]. */
export type KeyPath = (string | number)[];

export type CellType = 'rnn' | 'lstm' | 'gru';
export type RnnForm = 'elman' | 'pascanu';
export type Nonlinearity = 'tanh' | 'relu' | 'sigmoid' | 'linear';
export type LossKind = 'sum' | 'mse' | 'cross_entropy';

/** Number of gate blocks stacked in the weight rows: G in model-format.md. */
export const GATES: Record<CellType, number> = { rnn: 1, lstm: 4, gru: 3 };

/** A dense row-major float64 matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** One layer's parameters, PyTorch layout: weightIh [G·H][I_k], weightHh [G·H][H], biases [G·H]. */
export interface LayerWeights {
  weightIh: Matrix;
  weightHh: Matrix;
  biasIh: Float64Array;
  biasHh: Float64Array;
  /** Biases the file leaves out (zeros, no gradient entry, as PyTorch's bias=False). Default: none. */
  omitted?: ('biasIh' | 'biasHh')[];
}

/** One input sequence: inputs T×I row-major; targets T×D (mse) or T class indices (cross_entropy). */
export interface Sequence {
  length: number;
  inputs: Float64Array;
  targets?: Float64Array;
}

/** The user's current training settings (model-format.md `training`). */
export interface TrainingSettings {
  clipNorm: number | null;
  clipValue: number | null;
  batchSize: number | null;
}

/** A fully validated model, ready for the engine. */
export interface Model {
  name?: string;
  cell: CellType;
  form: RnnForm;
  nonlinearity: Nonlinearity;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** D: rows of readout.weight, or hiddenSize without a readout. */
  outputSize: number;
  layers: LayerWeights[];
  readout?: { weight: Matrix; bias: Float64Array };
  sequences: Sequence[];
  loss: LossKind;
  training: TrainingSettings;
}

/** Creates a zero matrix. */
export function zeroMatrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}
