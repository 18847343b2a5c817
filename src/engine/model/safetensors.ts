// The safetensors file format (https://github.com/huggingface/safetensors): read with every length
// and offset checked against the bytes actually present, and write (for tests and tools).

/** The dtypes a weights file may hold. */
export type SafetensorsFloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';
/** The integer dtypes a data file may also hold (token ids, lengths, class targets). */
export type SafetensorsIntDtype = 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export type SafetensorsDtype = SafetensorsFloatDtype | SafetensorsIntDtype;

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Options of readSafetensors. */
export interface SafetensorsOptions {
  /** Also accept the integer dtypes (data arrays); weights files hold floats only. Default false. */
  integers?: boolean;
}

/** One tensor of a safetensors file, decoded to float64 (row-major). */
export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float64Array;
}

/** The tensors of a file by name, plus its `__metadata__`; or an error naming the field or tensor. */
export type SafetensorsResult =
  { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } | { error: string };

/** Largest header accepted (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Decodes an IEEE 754 half-precision number (subnormals, infinities and NaN included). */
export function decodeF16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Decodes a bfloat16 number: the upper half of a float32. */
export function decodeBF16(bits: number): number {
  const scratch = new DataView(new ArrayBuffer(4));
  scratch.setUint32(0, (bits & 0xffff) << 16, true);
  return scratch.getFloat32(0, true);
}

/** Rounds a non-negative double to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5 || (d === 0.5 && f % 2 === 1)) return f + 1;
  return f;
}

/** Encodes a number as IEEE half precision, rounding to nearest even (overflow gives infinity). */
export function encodeF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal; 1024 becomes the smallest normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let mantissa = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | mantissa;
}

/** Encodes a number as bfloat16 (via float32, then rounding to nearest even). */
export function encodeBF16(x: number): number {
  const scratch = new DataView(new ArrayBuffer(4));
  scratch.setFloat32(0, x, true);
  const bits = scratch.getUint32(0, true);
  if (Number.isNaN(x)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function isFloatDtype(value: unknown): value is SafetensorsFloatDtype {
  return value === 'F64' || value === 'F32' || value === 'F16' || value === 'BF16';
}

function isIntDtype(value: unknown): value is SafetensorsIntDtype {
  return value === 'I64' || value === 'I32' || value === 'I16' || value === 'I8' || value === 'U8' || value === 'BOOL';
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads a safetensors file. Never throws: any inconsistency is returned as `{ error }`. */
export function readSafetensors(bytes: Uint8Array, options: SafetensorsOptions = {}): SafetensorsResult {
  if (bytes.length < 8) {
    return { error: `file is ${bytes.length} bytes, too short for the 8-byte header length` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength > bytes.length - 8) {
    return { error: `header length ${headerLength} exceeds the file size (${bytes.length} bytes)` };
  }
  if (headerLength > MAX_HEADER_BYTES) {
    return { error: `header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes` };
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (err) {
    return { error: `header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return { error: 'header is not a JSON object' };
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return { error: '__metadata__ is not an object of strings' };
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') return { error: `__metadata__.${k} is not a string` };
        metadata[k] = v;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return { error: `tensor ${name}: header entry is not an object` };
    }
    const entry = raw as Record<string, unknown>;
    const { dtype, shape } = entry;
    const offsets = entry['data_offsets'];
    if (!isFloatDtype(dtype) && !(options.integers === true && isIntDtype(dtype))) {
      const expected =
        options.integers === true ? 'F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL' : 'F64, F32, F16 or BF16';
      return { error: `tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}; expected ${expected}` };
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      return { error: `tensor ${name}: shape is not a list of non-negative integers` };
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      return { error: `tensor ${name}: data_offsets is not a pair of non-negative integers` };
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) {
      return { error: `tensor ${name}: data_offsets [${begin}, ${end}] are not in order` };
    }
    if (end > dataLength) {
      return {
        error: `tensor ${name}: data_offsets [${begin}, ${end}] lie outside the data region (${dataLength} bytes); the file may be truncated`,
      };
    }
    let elements = 1;
    for (const n of shape) {
      elements *= n;
      if (elements * DTYPE_SIZE[dtype] > dataLength) break; // cannot match; stop before overflow
    }
    const expectedBytes = elements * DTYPE_SIZE[dtype];
    if (expectedBytes !== end - begin) {
      return {
        error: `tensor ${name}: data_offsets span ${end - begin} bytes, but shape [${shape.join(', ')}] of ${dtype} needs ${expectedBytes}`,
      };
    }
    entries.push({ name, dtype, shape: shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      return { error: `tensor ${sorted[i].name}: data_offsets overlap those of tensor ${sorted[i - 1].name}` };
    }
  }
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / DTYPE_SIZE[e.dtype];
    const data = new Float64Array(count);
    const at = dataStart + e.begin;
    for (let i = 0; i < count; i++) {
      switch (e.dtype) {
        case 'F64':
          data[i] = view.getFloat64(at + 8 * i, true);
          break;
        case 'F32':
          data[i] = view.getFloat32(at + 4 * i, true);
          break;
        case 'F16':
          data[i] = decodeF16(view.getUint16(at + 2 * i, true));
          break;
        case 'BF16':
          data[i] = decodeBF16(view.getUint16(at + 2 * i, true));
          break;
        case 'I64':
          data[i] = Number(view.getBigInt64(at + 8 * i, true));
          break;
        case 'I32':
          data[i] = view.getInt32(at + 4 * i, true);
          break;
        case 'I16':
          data[i] = view.getInt16(at + 2 * i, true);
          break;
        case 'I8':
          data[i] = view.getInt8(at + i);
          break;
        case 'U8':
        case 'BOOL':
          data[i] = view.getUint8(at + i);
          break;
      }
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** A tensor to write: its name, dtype, shape and row-major values. */
export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayLike<number>;
}

/** Writes tensors (in the given order) as a safetensors file, header padded to 8 bytes. */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    const size = t.data.length * DTYPE_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(headerBytes);
    headerBytes = withSpaces;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      switch (t.dtype) {
        case 'F64':
          view.setFloat64(at, v, true);
          at += 8;
          break;
        case 'F32':
          view.setFloat32(at, v, true);
          at += 4;
          break;
        case 'F16':
          view.setUint16(at, encodeF16(v), true);
          at += 2;
          break;
        case 'BF16':
          view.setUint16(at, encodeBF16(v), true);
          at += 2;
          break;
        case 'I64':
          view.setBigInt64(at, BigInt(Math.trunc(v)), true);
          at += 8;
          break;
        case 'I32':
          view.setInt32(at, v, true);
          at += 4;
          break;
        case 'I16':
          view.setInt16(at, v, true);
          at += 2;
          break;
        case 'I8':
          view.setInt8(at, v);
          at += 1;
          break;
        case 'U8':
        case 'BOOL':
          view.setUint8(at, v);
          at += 1;
          break;
      }
    }
  }
  return out;
}
