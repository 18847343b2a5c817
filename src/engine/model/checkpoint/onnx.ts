// ONNX models: the graph's RNN / LSTM / GRU nodes and their W, R, B initializers, converted to
// PyTorch names (shared/spec/checkpoints.md sections 1-3). The protobuf is decoded by our own
// minimal wire decoder (protobuf.ts); only the fields below are read.
//
// External data (`data_location: EXTERNAL`) is returned as a reference; the I/O layer resolves the
// location inside the workspace and passes the bytes back in (`externalData`), so this module stays
// pure.
import { checkedProduct, formatShape, halfToNumber, bfloat16ToNumber, quote } from './bytes';
import { convertOnnxDirection, type OnnxRecurrentOp } from './convert';
import {
  fieldFloat,
  fieldInt,
  fieldString,
  fields,
  ProtoContext,
  readRepeated,
  repeatedCount,
  WIRE_BYTES,
  type ProtoField,
} from './protobuf';
import { lazyTensor } from './tensor';
import {
  CheckpointError,
  DEFAULT_MAX_BYTES,
  type CheckpointContents,
  type CheckpointTensor,
  type ReadOptions,
  type RecurrentAttributes,
  type RecurrentModule,
  type TensorDtype,
} from './types';

/** ONNX TensorProto.DataType values this reader decodes. */
export const ONNX_DTYPES: Record<number, TensorDtype> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/** Where an external tensor's bytes are, as the file says (location relative to the model file). */
export interface OnnxExternalRef {
  location: string;
  offset: number;
  /** Byte length, or undefined for "to the end of the file". */
  length?: number;
}

/** A TensorProto: dims, type, and where its data sits (decoded only on request). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** The path of this tensor in the file, for messages (`graph.initializer[3]`). */
  part: string;
  raw?: Uint8Array;
  /** Occurrences of the typed data fields, by field number (4 float, 5 int32, 7 int64, 10 double, 11 uint64). */
  typed: Map<number, ProtoField[]>;
  external?: OnnxExternalRef;
}

export type OnnxAttributeValue = number | string | number[] | string[] | OnnxTensor;

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttributeValue>;
  /** Index in graph.node. */
  index: number;
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  graphName: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

function parseTensor(bytes: Uint8Array, ctx: ProtoContext, part: string): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, part, typed: new Map() };
  const dimFields: ProtoField[] = [];
  const externalEntries: [string, string][] = [];
  let location = 0;
  for (const f of fields(bytes, ctx, part)) {
    switch (f.field) {
      case 1:
        dimFields.push(f);
        break;
      case 2:
        t.dataType = fieldInt(f, ctx, part);
        break;
      case 8:
        t.name = fieldString(f, ctx, part);
        break;
      case 9:
        if (f.wire !== WIRE_BYTES) ctx.fail(part, 'raw_data is not bytes');
        t.raw = f.bytes;
        break;
      case 4:
      case 5:
      case 7:
      case 10:
      case 11: {
        const list = t.typed.get(f.field) ?? [];
        list.push(f);
        t.typed.set(f.field, list);
        break;
      }
      case 13: {
        let key = '';
        let value = '';
        for (const e of fields(f.bytes, ctx, `${part}.external_data`)) {
          if (e.field === 1) key = fieldString(e, ctx, part);
          else if (e.field === 2) value = fieldString(e, ctx, part);
        }
        externalEntries.push([key, value]);
        break;
      }
      case 14:
        location = fieldInt(f, ctx, part);
        break;
      case 3:
        ctx.fail(part, 'segmented tensors are not read');
        break;
      default:
        break;
    }
  }
  const n = repeatedCount(dimFields, 'varint', ctx, part);
  if (n > 64) ctx.fail(part, `${n} dimensions`);
  const dims = new Float64Array(n);
  readRepeated(dimFields, 'varint', dims, ctx, part);
  t.dims = Array.from(dims);
  if (t.name) t.part = `${part} ${quote(t.name)}`;
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0))
    ctx.fail(t.part, `dims ${formatShape(t.dims)} are not non-negative integers`);
  if (location === 1) {
    const entries = new Map(externalEntries);
    const loc = entries.get('location');
    if (!loc) ctx.fail(t.part, 'external data without a location');
    const offset = entries.has('offset') ? Number(entries.get('offset')) : 0;
    const length = entries.has('length') ? Number(entries.get('length')) : undefined;
    if (!Number.isSafeInteger(offset) || offset < 0)
      ctx.fail(t.part, `external data offset ${quote(entries.get('offset') ?? '')} is not a byte offset`);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      ctx.fail(t.part, `external data length ${quote(entries.get('length') ?? '')} is not a byte count`);
    }
    t.external = { location: loc, offset, length };
  }
  return t;
}

function parseAttribute(bytes: Uint8Array, ctx: ProtoContext, part: string): [string, OnnxAttributeValue | undefined] {
  let name = '';
  let value: OnnxAttributeValue | undefined;
  const ints: ProtoField[] = [];
  const floats: ProtoField[] = [];
  const strings: string[] = [];
  let type = 0;
  for (const f of fields(bytes, ctx, part)) {
    switch (f.field) {
      case 1:
        name = fieldString(f, ctx, part);
        break;
      case 2:
        value = fieldFloat(f, ctx, part);
        break;
      case 3:
        value = fieldInt(f, ctx, part);
        break;
      case 4:
        if (f.wire !== WIRE_BYTES) ctx.fail(part, 'attribute s is not bytes');
        value = new TextDecoder('latin1').decode(f.bytes);
        break;
      case 5:
        value = parseTensor(f.bytes, ctx, `${part}.t`);
        break;
      case 7:
        floats.push(f);
        break;
      case 8:
        ints.push(f);
        break;
      case 9:
        if (f.wire !== WIRE_BYTES) ctx.fail(part, 'attribute strings are not bytes');
        strings.push(new TextDecoder('latin1').decode(f.bytes));
        break;
      case 20:
        type = fieldInt(f, ctx, part);
        break;
      default:
        break; // graphs, sparse tensors, type protos: not needed
    }
  }
  if (floats.length > 0 || type === 6) {
    const out = new Float64Array(repeatedCount(floats, 'fixed32', ctx, part));
    readRepeated(floats, 'float', out, ctx, part);
    value = Array.from(out);
  } else if (ints.length > 0 || type === 7) {
    const out = new Float64Array(repeatedCount(ints, 'varint', ctx, part));
    readRepeated(ints, 'varint', out, ctx, part);
    value = Array.from(out);
  } else if (strings.length > 0 || type === 8) {
    value = strings;
  }
  return [name, value];
}

function parseNode(bytes: Uint8Array, ctx: ProtoContext, part: string, index: number): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map(), index };
  let a = 0;
  for (const f of fields(bytes, ctx, part)) {
    switch (f.field) {
      case 1:
        node.inputs.push(fieldString(f, ctx, part));
        break;
      case 2:
        node.outputs.push(fieldString(f, ctx, part));
        break;
      case 3:
        node.name = fieldString(f, ctx, part);
        break;
      case 4:
        node.opType = fieldString(f, ctx, part);
        break;
      case 7:
        node.domain = fieldString(f, ctx, part);
        break;
      case 5: {
        const [name, value] = parseAttribute(f.bytes, ctx, `${part}.attribute[${a++}]`);
        if (value !== undefined) node.attributes.set(name, value);
        break;
      }
      default:
        break;
    }
  }
  return node;
}

function valueInfoName(bytes: Uint8Array, ctx: ProtoContext, part: string): string {
  for (const f of fields(bytes, ctx, part)) if (f.field === 1) return fieldString(f, ctx, part);
  return '';
}

/** Parses an ONNX ModelProto (the graph's nodes and initializers). Throws `CheckpointError`. */
export function parseOnnx(bytes: Uint8Array, options: ReadOptions = {}): OnnxModel {
  const ctx = new ProtoContext(options.fileName ?? 'model.onnx');
  const model: OnnxModel = {
    irVersion: 0,
    producer: '',
    opsets: [],
    graphName: '',
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
  };
  let graph: Uint8Array | undefined;
  for (const f of fields(bytes, ctx, 'model')) {
    if (f.field === 1) model.irVersion = fieldInt(f, ctx, 'model.ir_version');
    else if (f.field === 2) model.producer = fieldString(f, ctx, 'model.producer_name');
    else if (f.field === 7) {
      if (f.wire !== WIRE_BYTES) ctx.fail('model', 'graph is not a message');
      graph = f.bytes;
    } else if (f.field === 8) {
      let domain = '';
      let version = 0;
      for (const o of fields(f.bytes, ctx, 'model.opset_import')) {
        if (o.field === 1) domain = fieldString(o, ctx, 'model.opset_import');
        else if (o.field === 2) version = fieldInt(o, ctx, 'model.opset_import');
      }
      model.opsets.push({ domain, version });
    }
  }
  if (!graph) return ctx.fail('model', 'no graph (not an ONNX model)');
  let n = 0;
  let init = 0;
  for (const f of fields(graph, ctx, 'graph')) {
    if (f.wire !== WIRE_BYTES && [1, 5, 11, 12].includes(f.field))
      ctx.fail('graph', `field ${f.field} is not a message`);
    if (f.field === 1) {
      model.nodes.push(parseNode(f.bytes, ctx, `graph.node[${n}]`, n));
      n++;
    } else if (f.field === 2) model.graphName = fieldString(f, ctx, 'graph.name');
    else if (f.field === 5) {
      const t = parseTensor(f.bytes, ctx, `graph.initializer[${init++}]`);
      model.initializers.set(t.name, t);
    } else if (f.field === 11) model.inputs.push(valueInfoName(f.bytes, ctx, 'graph.input'));
    else if (f.field === 12) model.outputs.push(valueInfoName(f.bytes, ctx, 'graph.output'));
  }
  for (const node of model.nodes) if (!node.name) node.name = `${node.opType}_${node.index}`;
  return model;
}

/** The external locations a model's tensors name (for the I/O layer to resolve), once each. */
export function externalLocations(model: OnnxModel): string[] {
  const out = new Set<string>();
  const add = (t: OnnxTensor): void => {
    if (t.external) out.add(t.external.location);
  };
  for (const t of model.initializers.values()) add(t);
  for (const node of model.nodes)
    for (const v of node.attributes.values()) if (typeof v === 'object' && !Array.isArray(v)) add(v);
  return [...out];
}

/** A location is a relative path (ONNX says: relative to the model file); anything else is refused. */
export function checkExternalLocation(location: string, file: string, part: string): void {
  if (
    location.includes('\0') ||
    location.startsWith('/') ||
    location.startsWith('\\') ||
    /^[a-zA-Z]:/.test(location) ||
    location.includes('://')
  ) {
    throw new CheckpointError(
      'unsupported',
      file,
      part,
      `external data location ${quote(location)} is not a relative path`,
    );
  }
}

/**
 * Decodes a tensor's data to float64 (C order), checking the element count against the bytes
 * present before allocating. External tensors need `externalData` to hold their location's bytes.
 */
export function onnxTensorData(
  t: OnnxTensor,
  file: string,
  externalData?: ReadonlyMap<string, Uint8Array>,
  maxBytes = DEFAULT_MAX_BYTES,
): CheckpointTensor {
  const fail = (
    detail: string,
    kind: 'corrupt' | 'unsupported' | 'limit' | 'missing' | 'truncated' = 'corrupt',
  ): never => {
    throw new CheckpointError(kind, file, t.part, detail);
  };
  const dtype = ONNX_DTYPES[t.dataType];
  if (!dtype) return fail(`data type ${t.dataType} is not read`, 'unsupported');
  const count = checkedProduct(t.dims);
  if (count === undefined || count * 8 > maxBytes)
    return fail(`dims ${formatShape(t.dims)} are over the limit of ${maxBytes} bytes`, 'limit');
  const itemSize = {
    float64: 8,
    int64: 8,
    uint64: 8,
    float32: 4,
    int32: 4,
    uint32: 4,
    float16: 2,
    bfloat16: 2,
    int16: 2,
    uint16: 2,
    int8: 1,
    uint8: 1,
    bool: 1,
  }[dtype];
  let raw = t.raw;
  if (t.external) {
    const ref = t.external;
    checkExternalLocation(ref.location, file, t.part);
    const ext = externalData?.get(ref.location);
    if (!ext) return fail(`external data ${quote(ref.location)} was not provided`, 'missing');
    const length = ref.length ?? ext.length - ref.offset;
    if (!(ref.offset + length <= ext.length) || length < 0) {
      return fail(
        `external data ${quote(ref.location)} holds ${ext.length} bytes; offset ${ref.offset} + length ${length} runs past its end`,
        'truncated',
      );
    }
    raw = ext.subarray(ref.offset, ref.offset + length);
  }
  if (raw) {
    if (raw.length !== count * itemSize) {
      return fail(
        `raw_data holds ${raw.length} bytes, dims ${formatShape(t.dims)} of ${dtype} need ${count * itemSize}`,
      );
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      switch (dtype) {
        case 'float32':
          out[i] = view.getFloat32(4 * i, true);
          break;
        case 'float64':
          out[i] = view.getFloat64(8 * i, true);
          break;
        case 'float16':
          out[i] = halfToNumber(view.getUint16(2 * i, true));
          break;
        case 'bfloat16':
          out[i] = bfloat16ToNumber(view.getUint16(2 * i, true));
          break;
        case 'int64':
          out[i] = Number(view.getBigInt64(8 * i, true));
          break;
        case 'uint64':
          out[i] = Number(view.getBigUint64(8 * i, true));
          break;
        case 'int32':
          out[i] = view.getInt32(4 * i, true);
          break;
        case 'uint32':
          out[i] = view.getUint32(4 * i, true);
          break;
        case 'int16':
          out[i] = view.getInt16(2 * i, true);
          break;
        case 'uint16':
          out[i] = view.getUint16(2 * i, true);
          break;
        case 'int8':
          out[i] = view.getInt8(i);
          break;
        case 'uint8':
          out[i] = view.getUint8(i);
          break;
        case 'bool':
          out[i] = view.getUint8(i) ? 1 : 0;
          break;
      }
    }
    return { shape: t.dims.slice(), dtype, data: out };
  }
  // Typed fields: which one holds which type (onnx.proto TensorProto).
  const ctx = new ProtoContext(file);
  const field =
    dtype === 'float32'
      ? 4
      : dtype === 'float64'
        ? 10
        : dtype === 'int64'
          ? 7
          : dtype === 'uint32' || dtype === 'uint64'
            ? 11
            : 5;
  const chunks = t.typed.get(field) ?? [];
  const kind = field === 4 ? 'fixed32' : field === 10 || field === 11 ? 'fixed64' : 'varint';
  const present = repeatedCount(chunks, kind, ctx, t.part);
  if (present !== count) return fail(`holds ${present} values, dims ${formatShape(t.dims)} need ${count}`);
  const out = new Float64Array(count);
  readRepeated(
    chunks,
    field === 4 ? 'float' : field === 10 ? 'double' : field === 11 ? 'fixed64u' : 'varint',
    out,
    ctx,
    t.part,
  );
  if (dtype === 'float16') for (let i = 0; i < count; i++) out[i] = halfToNumber(out[i] & 0xffff);
  if (dtype === 'bfloat16') for (let i = 0; i < count; i++) out[i] = bfloat16ToNumber(out[i] & 0xffff);
  if (dtype === 'bool') for (let i = 0; i < count; i++) out[i] = out[i] ? 1 : 0;
  return { shape: t.dims.slice(), dtype, data: out };
}

/** An attribute value as text for messages. */
function attributeText(v: OnnxAttributeValue | undefined): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return JSON.stringify(v);
  return `a tensor ${formatShape(v.dims)}`;
}

const RECURRENT_OPS = new Set(['RNN', 'LSTM', 'GRU']);
/** Nodes that torch.onnx.export writes between stacked recurrent layers. */
const PASS_THROUGH = new Set(['Squeeze', 'Transpose', 'Reshape', 'Identity']);
/** Nodes through which an all-zero value stays all zero (for initial_h / initial_c / P). */
const ZERO_PRESERVING = new Set([
  'Expand',
  'Reshape',
  'Unsqueeze',
  'Squeeze',
  'Transpose',
  'Identity',
  'Cast',
  'Tile',
  'Slice',
  'Gather',
  'Flatten',
]);

const DEFAULT_ACTIVATIONS: Record<OnnxRecurrentOp, string[]> = {
  RNN: ['Tanh'],
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
};

/** One recurrent node, checked: its converted PyTorch tensors per direction and what is unsupported. */
interface RecurrentNodeInfo {
  node: OnnxNode;
  op: OnnxRecurrentOp;
  hiddenSize: number;
  inputSize: number;
  directions: number;
  nonlinearity: 'tanh' | 'relu';
  gruReset: 'after' | 'before';
  hasBias: boolean;
  unsupported: string[];
  /** PyTorch-named tensors of this layer for layer index `k` (suffix `_l{k}`). */
  tensorsFor(k: number): Map<string, CheckpointTensor>;
}

/** Resolves a value name to a constant tensor: an initializer or a Constant node's `value`. */
function constantTensor(model: OnnxModel, producers: Map<string, OnnxNode>, name: string): OnnxTensor | undefined {
  const init = model.initializers.get(name);
  if (init) return init;
  const p = producers.get(name);
  if (p && p.opType === 'Constant') {
    const v = p.attributes.get('value');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  }
  return undefined;
}

/**
 * Whether a value is all zeros: traced back through zero-preserving nodes to constants,
 * ConstantOfShape and Concat. Returns a reason string when it is not (or cannot be shown to be).
 */
function zeroValue(
  model: OnnxModel,
  producers: Map<string, OnnxNode>,
  name: string,
  file: string,
  externalData: ReadonlyMap<string, Uint8Array> | undefined,
  maxBytes: number,
): string | undefined {
  const stack = [name];
  let work = 0;
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (++work > 10_000) return 'its producing graph is too large to check';
    const t = constantTensor(model, producers, v);
    if (t) {
      const data = onnxTensorData(t, file, externalData, maxBytes).data;
      if (data.some((x) => x !== 0)) return `it is the non-zero constant ${quote(v)}`;
      continue;
    }
    const p = producers.get(v);
    if (!p)
      return model.inputs.includes(v)
        ? `it is the graph input ${quote(v)}`
        : `nothing in the graph produces ${quote(v)}`;
    if (p.opType === 'ConstantOfShape') {
      const value = p.attributes.get('value');
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        if (onnxTensorData(value, file, externalData, maxBytes).data.some((x) => x !== 0))
          return `ConstantOfShape ${quote(p.name)} fills a non-zero value`;
      }
      continue;
    }
    if (p.opType === 'Concat') {
      stack.push(...p.inputs.filter((i) => i !== ''));
      continue;
    }
    if (ZERO_PRESERVING.has(p.opType)) {
      if (p.inputs[0]) stack.push(p.inputs[0]);
      continue;
    }
    return `it is computed by the ${p.opType} node ${quote(p.name)}`;
  }
  return undefined;
}

/**
 * The RNN nonlinearity an `activations` attribute gives ('relu' for RNN ["Relu"]); anything but the
 * defaults (the same for every direction) is added to `unsupported`, naming the attribute.
 */
function checkActivations(
  op: OnnxRecurrentOp,
  acts: OnnxAttributeValue | undefined,
  label: string,
  unsupported: string[],
): 'tanh' | 'relu' {
  if (acts === undefined) return 'tanh';
  const list = Array.isArray(acts) ? acts.map((a) => String(a)) : [attributeText(acts)];
  const per = DEFAULT_ACTIVATIONS[op].length;
  const perDirection: string[] = [];
  for (let d = 0; d * per < list.length; d++) {
    perDirection.push(
      list
        .slice(d * per, d * per + per)
        .map((a) => a.toLowerCase())
        .join(','),
    );
  }
  const first = perDirection[0] ?? '';
  const defaults = DEFAULT_ACTIVATIONS[op].map((a) => a.toLowerCase()).join(',');
  if (perDirection.some((d) => d !== first)) {
    unsupported.push(`${label}: attribute activations ${JSON.stringify(list)} differ between directions`);
  } else if (op === 'RNN' && first === 'relu') {
    return 'relu';
  } else if (first !== defaults) {
    const allowed = `${JSON.stringify(DEFAULT_ACTIVATIONS[op])}${op === 'RNN' ? ' or ["Relu"]' : ''}`;
    unsupported.push(`${label}: attribute activations ${JSON.stringify(list)} are not supported (only ${allowed})`);
  }
  return 'tanh';
}

function analyzeNode(
  model: OnnxModel,
  producers: Map<string, OnnxNode>,
  node: OnnxNode,
  file: string,
  externalData: ReadonlyMap<string, Uint8Array> | undefined,
  maxBytes: number,
): RecurrentNodeInfo {
  const op = node.opType as OnnxRecurrentOp;
  const label = `${op} node ${quote(node.name)}`;
  const unsupported: string[] = [];
  const attr = node.attributes;
  const input = (i: number): string => node.inputs[i] ?? '';
  const tensorOf = (i: number, what: string, required: boolean): OnnxTensor | undefined => {
    const name = input(i);
    if (name === '') {
      if (required) throw new CheckpointError('corrupt', file, label, `input ${what} is missing`);
      return undefined;
    }
    const t = constantTensor(model, producers, name);
    if (!t)
      throw new CheckpointError(
        'unsupported',
        file,
        label,
        `input ${what} (${quote(name)}) is not an initializer or Constant`,
      );
    return t;
  };
  const W = tensorOf(1, 'W', true)!;
  const R = tensorOf(2, 'R', true)!;
  const B = tensorOf(3, 'B', false);
  const gates = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
  if (W.dims.length !== 3 || R.dims.length !== 3) {
    throw new CheckpointError(
      'corrupt',
      file,
      label,
      `W ${formatShape(W.dims)} and R ${formatShape(R.dims)} must have 3 dimensions`,
    );
  }
  const directions = W.dims[0];
  const hiddenAttr = attr.get('hidden_size');
  const hiddenSize = typeof hiddenAttr === 'number' ? hiddenAttr : R.dims[2];
  const inputSize = W.dims[2];
  const direction = attr.get('direction') ?? 'forward';
  const expectedDirections = direction === 'bidirectional' ? 2 : 1;
  const G = gates * hiddenSize;
  const fail = (detail: string): never => {
    throw new CheckpointError('corrupt', file, label, detail);
  };
  if (directions !== expectedDirections)
    fail(`W has ${directions} directions, direction ${quote(attributeText(direction))} needs ${expectedDirections}`);
  if (W.dims[1] !== G) fail(`W ${formatShape(W.dims)} needs ${G} rows (${gates} gates × hidden_size ${hiddenSize})`);
  if (R.dims[0] !== directions || R.dims[1] !== G || R.dims[2] !== hiddenSize)
    fail(`R ${formatShape(R.dims)} should be ${formatShape([directions, G, hiddenSize])}`);
  if (B && (B.dims.length !== 2 || B.dims[0] !== directions || B.dims[1] !== 2 * G))
    fail(`B ${formatShape(B.dims)} should be ${formatShape([directions, 2 * G])}`);
  if (direction === 'reverse')
    unsupported.push(`${label}: direction "reverse" (a reverse-only layer) is not supported; PyTorch has none`);
  else if (direction !== 'forward' && direction !== 'bidirectional')
    unsupported.push(`${label}: direction ${quote(attributeText(direction))} is not supported`);
  if (attr.has('clip'))
    unsupported.push(`${label}: attribute clip = ${attributeText(attr.get('clip'))} is not supported (cell clipping)`);
  const inputForget = attr.get('input_forget');
  if (typeof inputForget === 'number' && inputForget !== 0)
    unsupported.push(
      `${label}: attribute input_forget = ${inputForget} is not supported (coupled input and forget gates)`,
    );
  const layout = attr.get('layout');
  if (typeof layout === 'number' && layout !== 0 && layout !== 1)
    unsupported.push(`${label}: attribute layout = ${layout} is not supported`);
  const nonlinearity = checkActivations(op, attr.get('activations'), label, unsupported);
  const lbr = attr.get('linear_before_reset');
  const gruReset: 'after' | 'before' = typeof lbr === 'number' && lbr !== 0 ? 'after' : 'before';
  if (op === 'LSTM' && input(7) !== '') {
    const P = tensorOf(7, 'P', false);
    const zero = P ? !onnxTensorData(P, file, externalData, maxBytes).data.some((x) => x !== 0) : false;
    if (!zero) unsupported.push(`${label}: input P (peepholes, ${quote(input(7))}) is not supported`);
  }
  for (const [i, what] of [
    [5, 'initial_h'],
    [6, 'initial_c'],
  ] as [number, string][]) {
    if (i === 6 && op !== 'LSTM') continue;
    if (input(i) === '') continue;
    const reason = zeroValue(model, producers, input(i), file, externalData, maxBytes);
    if (reason) unsupported.push(`${label}: input ${what} must be absent or zero, but ${reason}`);
  }
  // Decode now: the sizes and external references are checked here, not when the data is first used.
  const Wd = onnxTensorData(W, file, externalData, maxBytes).data;
  const Rd = onnxTensorData(R, file, externalData, maxBytes).data;
  const Bd = B ? onnxTensorData(B, file, externalData, maxBytes).data : undefined;
  const tensorsFor = (k: number): Map<string, CheckpointTensor> => {
    const out = new Map<string, CheckpointTensor>();
    for (let d = 0; d < directions; d++) {
      const suffix = `_l${k}${d === 1 ? '_reverse' : ''}`;
      const convert = () => convertOnnxDirection(op, hiddenSize, inputSize, d, Wd, Rd, Bd);
      let cached: ReturnType<typeof convert> | undefined;
      const get = () => (cached ??= convert());
      out.set(
        `weight_ih${suffix}`,
        lazyTensor([G, inputSize], dtypeOf(W), () => get().weightIh),
      );
      out.set(
        `weight_hh${suffix}`,
        lazyTensor([G, hiddenSize], dtypeOf(R), () => get().weightHh),
      );
      if (B) {
        out.set(
          `bias_ih${suffix}`,
          lazyTensor([G], dtypeOf(B), () => get().biasIh!),
        );
        out.set(
          `bias_hh${suffix}`,
          lazyTensor([G], dtypeOf(B), () => get().biasHh!),
        );
      }
    }
    return out;
  };
  return {
    node,
    op,
    hiddenSize,
    inputSize,
    directions,
    nonlinearity,
    gruReset,
    hasBias: B !== undefined,
    unsupported,
    tensorsFor,
  };
}

function dtypeOf(t: OnnxTensor): TensorDtype {
  return ONNX_DTYPES[t.dataType] ?? 'float32';
}

/** Follows a value back through the nodes torch.onnx.export puts between stacked layers. */
function sourceRecurrent(producers: Map<string, OnnxNode>, name: string): OnnxNode | undefined {
  let v = name;
  for (let i = 0; i < 100; i++) {
    const p = producers.get(v);
    if (!p) return undefined;
    if (RECURRENT_OPS.has(p.opType)) return p.outputs[0] === v ? p : undefined;
    if (!PASS_THROUGH.has(p.opType) || !p.inputs[0]) return undefined;
    v = p.inputs[0];
  }
  return undefined;
}

/** Options of `readOnnx`. */
export interface OnnxReadOptions extends ReadOptions {
  /** Bytes of external data files, by the location the model names (resolved by the I/O layer). */
  externalData?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Reads an ONNX model's recurrent nodes as candidate modules: maximal chains of RNN/LSTM/GRU nodes
 * (same op, hidden size, directions), each node's input being the previous one's output directly
 * or through Squeeze/Transpose/Reshape; each candidate is named by its first node and holds the
 * converted PyTorch tensors (`weight_ih_l0`, … `_reverse`). `tensors` holds every initializer.
 */
export function readOnnx(bytes: Uint8Array, options: OnnxReadOptions = {}): CheckpointContents {
  const file = options.fileName ?? 'model.onnx';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const model = parseOnnx(bytes, options);
  const ext = options.externalData;
  const producers = new Map<string, OnnxNode>();
  for (const node of model.nodes) for (const o of node.outputs) if (o !== '') producers.set(o, node);
  const recurrent = model.nodes.filter(
    (n) => RECURRENT_OPS.has(n.opType) && (n.domain === '' || n.domain === 'ai.onnx'),
  );
  const infos = recurrent.map((n) => analyzeNode(model, producers, n, file, ext, maxBytes));
  const chains: RecurrentNodeInfo[][] = [];
  for (const info of infos) {
    const last = chains.length > 0 ? chains[chains.length - 1] : undefined;
    const prev = last?.[last.length - 1];
    const from = sourceRecurrent(producers, info.node.inputs[0] ?? '');
    const continues =
      prev !== undefined &&
      from === prev.node &&
      prev.op === info.op &&
      prev.hiddenSize === info.hiddenSize &&
      prev.directions === info.directions &&
      prev.nonlinearity === info.nonlinearity &&
      prev.gruReset === info.gruReset &&
      prev.hasBias === info.hasBias;
    if (continues) last!.push(info);
    else chains.push([info]);
  }
  const modules: RecurrentModule[] = chains.map((chain) => {
    const first = chain[0];
    const tensors = new Map<string, CheckpointTensor>();
    chain.forEach((info, k) => {
      for (const [name, t] of info.tensorsFor(k)) tensors.set(name, t);
    });
    const attributes: RecurrentAttributes = {
      mode: first.op === 'RNN' ? (first.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH') : first.op,
      input_size: first.inputSize,
      hidden_size: first.hiddenSize,
      num_layers: chain.length,
      bias: first.hasBias,
      bidirectional: first.directions === 2,
    };
    if (first.op === 'RNN') attributes.nonlinearity = first.nonlinearity;
    if (first.op === 'GRU') attributes.gru_reset = first.gruReset;
    return {
      name: first.node.name,
      origin: 'onnx-node',
      attributes,
      tensors,
      members: chain.map((c) => c.node.name),
      unsupported: chain.flatMap((c) => c.unsupported),
    };
  });
  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, t] of model.initializers) {
    const dtype = ONNX_DTYPES[t.dataType];
    if (!dtype) continue;
    tensors.set(
      name,
      lazyTensor(t.dims.slice(), dtype, () => onnxTensorData(t, file, ext, maxBytes).data),
    );
  }
  const notes: string[] = [];
  if (model.producer) notes.push(`produced by ${model.producer}`);
  return { format: 'onnx', tensors, modules, meta: {}, notes };
}
