// Shared types of the checkpoint readers (shared/spec/checkpoints.md sections 1, 2 and 4): the
// tensors a file holds, the recurrent modules it declares, and the one error type every reader
// throws. Readers are pure functions over bytes: no file system, no vscode, nothing executed.

/** The element types the readers decode (all end up as float64 in `CheckpointTensor.data`). */
export type TensorDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<TensorDtype, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

/** True for the integer and bool dtypes (token ids, lengths, class targets). */
export function isIntegerDtype(dtype: TensorDtype): boolean {
  return !(dtype === 'float64' || dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16');
}

/**
 * One tensor, decoded to a dense row-major (C order) float64 array. `dtype` is the file's element
 * type; 64-bit integers beyond ±2^53 lose precision (they are never token ids or lengths).
 */
export interface CheckpointTensor {
  shape: number[];
  dtype: TensorDtype;
  data: Float64Array;
}

/** The source formats (the values of report v2's `model.source.format`, less json/safetensors). */
export type CheckpointFormat = 'pytorch' | 'npz' | 'npy' | 'onnx' | 'keras';

/** The recurrent kinds, as PyTorch's `mode`. */
export type RecurrentMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/**
 * What a source declares about a recurrent module, in PyTorch terms (`torch.nn.RNN/LSTM/GRU`
 * attribute names). Only what the file says is set; the model parser fills the rest from the tensors.
 */
export interface RecurrentAttributes {
  mode?: RecurrentMode;
  nonlinearity?: 'tanh' | 'relu';
  input_size?: number;
  hidden_size?: number;
  num_layers?: number;
  bias?: boolean;
  batch_first?: boolean;
  bidirectional?: boolean;
  proj_size?: number;
  /** GRU only: 'after' (PyTorch, Keras reset_after=True, ONNX linear_before_reset=1) or 'before'. */
  gru_reset?: 'after' | 'before';
}

/**
 * A candidate recurrent module: a key prefix of a PyTorch state_dict (`encoder.rnn`, or '' for a
 * bare `nn.LSTM` state_dict), the first node of a stack of ONNX recurrent nodes, or the first layer
 * of a stack of Keras recurrent layers.
 */
export interface RecurrentModule {
  /** The name `module` selects it by: a key prefix (PyTorch, npz), a node name (ONNX), a layer name (Keras). */
  name: string;
  /** Where the declaration came from: the tensor names only, a pickled module record, a node, a layer. */
  origin: 'keys' | 'pickled-module' | 'onnx-node' | 'keras-layer';
  attributes: RecurrentAttributes;
  /**
   * The module's parameters with PyTorch names relative to the module (`weight_ih_l0`,
   * `bias_hh_l1_reverse`, `weight_hr_l0`). For PyTorch and npz these are the same objects as in
   * `CheckpointContents.tensors`; for ONNX and Keras they are converted (spec section 3).
   */
  tensors: Map<string, CheckpointTensor>;
  /** ONNX nodes / Keras layers forming the stack, in order (one per PyTorch layer index). */
  members?: string[];
  /**
   * Things the source declares that the engine does not compute, each naming the attribute
   * (`LSTM node "lstm_1": attribute clip = 5 is not supported`). Non-empty: selecting this module
   * is an `unsupported-source` error.
   */
  unsupported: string[];
}

/** Integer entries at the top level of a training checkpoint (timelines order checkpoints by them). */
export interface CheckpointMeta {
  step?: number;
  global_step?: number;
  iteration?: number;
  epoch?: number;
}

/** Everything a reader found in a weights file. */
export interface CheckpointContents {
  format: CheckpointFormat;
  /**
   * All parameters by full name. PyTorch/npz: the state_dict's keys, a leading `module.` stripped
   * (so `readout: "head"` finds `head.weight`). ONNX: initializer names. Keras: weight paths
   * (`lstm/lstm_cell/kernel:0`). Module selection uses `modules`, not these names, for ONNX/Keras.
   */
  tensors: Map<string, CheckpointTensor>;
  /** Candidate recurrent modules, in file order. */
  modules: RecurrentModule[];
  meta: CheckpointMeta;
  /**
   * Facts a user may want to see: where the state_dict was found, keys skipped, globals kept as
   * inert records (`os.system`), a stripped `module.` prefix.
   */
  notes: string[];
}

/** What kind of problem a `CheckpointError` is. */
export type CheckpointErrorKind =
  /** The bytes end before a structure does. */
  | 'truncated'
  /** The bytes contradict themselves (bad signature, checksum, offset, size). */
  | 'corrupt'
  /** A valid file of a kind or with a feature we do not read (legacy torch, TorchScript, peepholes). */
  | 'unsupported'
  /** A size beyond what we are willing to allocate or walk (zip bomb, 10^12 elements, deep nesting). */
  | 'limit'
  /** A name asked for is not in the file (`batch.npz#x`, `module`). */
  | 'missing';

/**
 * The one error every reader throws. `message` reads
 * `FILE: PART: what is wrong` (e.g. `m.pt: data/3: storage holds 40 bytes, tensor needs 80`);
 * `part` names the place inside the file (zip member, pickle key, protobuf field, HDF5 path).
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly kind: CheckpointErrorKind,
    readonly file: string,
    readonly part: string,
    readonly detail: string,
  ) {
    super([file, part, detail].filter((s) => s !== '').join(': '));
  }
}

/** Options every reader takes. */
export interface ReadOptions {
  /** The file's name, used as the first part of every error message. Default: the format's name. */
  fileName?: string;
  /** Largest total of decoded tensor bytes, and of one zip member or HDF5 dataset. Default 1 GiB. */
  maxBytes?: number;
  /** Check the CRC-32 of zip members (default true). Off only to fuzz what lies behind the check. */
  verifyCrc?: boolean;
}

/** Default `maxBytes`: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1 << 30;

/** Most nested levels any reader walks (real files stay far below: Python's recursion limit is 1000). */
export const MAX_NESTING = 1000;
