// Conversion of Keras and ONNX recurrent weights to PyTorch names and layouts
// (shared/spec/checkpoints.md section 3), as data tables plus two small array operations.
//
// Block k of a gate axis is rows k·H … (k+1)·H−1. `order[k]` names the source block that becomes
// PyTorch block k: PyTorch's gate order is (i, f, g, o) for LSTM, (r, z, n) for GRU.

export type OnnxRecurrentOp = 'RNN' | 'LSTM' | 'GRU';
export type KerasRecurrentClass = 'SimpleRNN' | 'LSTM' | 'GRU';

/** One row of the spec's conversion table. */
export interface ConversionRow {
  source: string;
  /** Gate blocks on the gate axis. */
  gates: number;
  /** PyTorch block k ← source block order[k]. */
  order: number[];
  /** Source gate names in source order, for documentation and messages. */
  sourceGates: string[];
  /** Keras stores kernels [I][G·H] (transposed); ONNX stores [G·H][I] as PyTorch does. */
  transposed: boolean;
  /** How the bias splits into bias_ih / bias_hh. */
  bias: 'keras-single' | 'keras-gru-reset-after' | 'onnx-wb-rb';
}

/** The conversion table, one row per source layout. */
export const CONVERSIONS = {
  kerasLstm: {
    source: 'Keras LSTM',
    gates: 4,
    order: [0, 1, 2, 3],
    sourceGates: ['i', 'f', 'c', 'o'],
    transposed: true,
    bias: 'keras-single',
  },
  kerasGruResetAfter: {
    source: 'Keras GRU (reset_after=True)',
    gates: 3,
    order: [1, 0, 2],
    sourceGates: ['z', 'r', 'h'],
    transposed: true,
    bias: 'keras-gru-reset-after',
  },
  kerasGruResetBefore: {
    source: 'Keras GRU (reset_after=False)',
    gates: 3,
    order: [1, 0, 2],
    sourceGates: ['z', 'r', 'h'],
    transposed: true,
    bias: 'keras-single',
  },
  kerasSimpleRnn: {
    source: 'Keras SimpleRNN',
    gates: 1,
    order: [0],
    sourceGates: ['h'],
    transposed: true,
    bias: 'keras-single',
  },
  onnxLstm: {
    source: 'ONNX LSTM',
    gates: 4,
    order: [0, 2, 3, 1],
    sourceGates: ['i', 'o', 'f', 'c'],
    transposed: false,
    bias: 'onnx-wb-rb',
  },
  onnxGru: {
    source: 'ONNX GRU',
    gates: 3,
    order: [1, 0, 2],
    sourceGates: ['z', 'r', 'h'],
    transposed: false,
    bias: 'onnx-wb-rb',
  },
  onnxRnn: { source: 'ONNX RNN', gates: 1, order: [0], sourceGates: ['h'], transposed: false, bias: 'onnx-wb-rb' },
} as const satisfies Record<string, ConversionRow>;

/** The table row of an ONNX op. */
export function onnxConversion(op: OnnxRecurrentOp): ConversionRow {
  return op === 'LSTM' ? CONVERSIONS.onnxLstm : op === 'GRU' ? CONVERSIONS.onnxGru : CONVERSIONS.onnxRnn;
}

/** The table row of a Keras layer class. */
export function kerasConversion(cls: KerasRecurrentClass, resetAfter: boolean): ConversionRow {
  if (cls === 'LSTM') return CONVERSIONS.kerasLstm;
  if (cls === 'GRU') return resetAfter ? CONVERSIONS.kerasGruResetAfter : CONVERSIONS.kerasGruResetBefore;
  return CONVERSIONS.kerasSimpleRnn;
}

/**
 * Reorders the gate blocks of a row-major [gates·H][cols] array: PyTorch block k ← source block
 * order[k]. A 1-D bias is cols = 1.
 */
export function reorderBlocks(src: Float64Array, hidden: number, cols: number, order: readonly number[]): Float64Array {
  const block = hidden * cols;
  const out = new Float64Array(order.length * block);
  order.forEach((from, k) => out.set(src.subarray(from * block, from * block + block), k * block));
  return out;
}

/** Transposes a row-major [rows][cols] array. */
export function transpose(src: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** One direction of one layer, in PyTorch layout. Absent biases are undefined. */
export interface PytorchLayerWeights {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh?: Float64Array;
  biasHh?: Float64Array;
}

/**
 * Direction `d` of an ONNX RNN/LSTM/GRU node: W [dirs][G·H][I], R [dirs][G·H][H], B [dirs][2·G·H]
 * (Wb then Rb), all row-major.
 */
export function convertOnnxDirection(
  op: OnnxRecurrentOp,
  hidden: number,
  input: number,
  d: number,
  W: Float64Array,
  R: Float64Array,
  B: Float64Array | undefined,
): PytorchLayerWeights {
  const row = onnxConversion(op);
  const G = row.gates * hidden;
  const w = W.subarray(d * G * input, (d + 1) * G * input);
  const r = R.subarray(d * G * hidden, (d + 1) * G * hidden);
  const out: PytorchLayerWeights = {
    weightIh: reorderBlocks(w, hidden, input, row.order),
    weightHh: reorderBlocks(r, hidden, hidden, row.order),
  };
  if (B) {
    const b = B.subarray(d * 2 * G, (d + 1) * 2 * G);
    out.biasIh = reorderBlocks(b.subarray(0, G), hidden, 1, row.order);
    out.biasHh = reorderBlocks(b.subarray(G, 2 * G), hidden, 1, row.order);
  }
  return out;
}

/**
 * One Keras cell: kernel [I][G·H], recurrent_kernel [H][G·H], bias [G·H] (or [2][G·H] for GRU
 * with reset_after), row-major.
 */
export function convertKerasCell(
  cls: KerasRecurrentClass,
  resetAfter: boolean,
  hidden: number,
  input: number,
  kernel: Float64Array,
  recurrentKernel: Float64Array,
  bias: Float64Array | undefined,
): PytorchLayerWeights {
  const row = kerasConversion(cls, resetAfter);
  const G = row.gates * hidden;
  const out: PytorchLayerWeights = {
    weightIh: reorderBlocks(transpose(kernel, input, G), hidden, input, row.order),
    weightHh: reorderBlocks(transpose(recurrentKernel, hidden, G), hidden, hidden, row.order),
  };
  if (bias) {
    if (row.bias === 'keras-gru-reset-after') {
      out.biasIh = reorderBlocks(bias.subarray(0, G), hidden, 1, row.order);
      out.biasHh = reorderBlocks(bias.subarray(G, 2 * G), hidden, 1, row.order);
    } else {
      out.biasIh = reorderBlocks(bias.subarray(0, G), hidden, 1, row.order);
    }
  }
  return out;
}
