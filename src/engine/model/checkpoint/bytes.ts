// Byte-level helpers shared by the checkpoint readers: element decoding for every dtype, a cursor
// whose every read is bounds-checked, and checked products of shapes.
import { CheckpointError, DTYPE_BYTES, type TensorDtype } from './types';

/** Decodes an IEEE 754 half-precision number (subnormals, infinities and NaN included). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const F32_SCRATCH = new DataView(new ArrayBuffer(4));

/** Decodes a bfloat16 number: the upper half of a float32. */
export function bfloat16ToNumber(bits: number): number {
  F32_SCRATCH.setUint32(0, (bits & 0xffff) << 16, false);
  return F32_SCRATCH.getFloat32(0, false);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed-array view of the elements when the host's byte order and the alignment allow one. */
function alignedView(
  bytes: Uint8Array,
  offset: number,
  count: number,
  dtype: TensorDtype,
  littleEndian: boolean,
):
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | undefined {
  const size = DTYPE_BYTES[dtype];
  const at = bytes.byteOffset + offset;
  if ((size > 1 && littleEndian !== HOST_LITTLE_ENDIAN) || at % size !== 0) return undefined;
  switch (dtype) {
    case 'float64':
      return new Float64Array(bytes.buffer, at, count);
    case 'float32':
      return new Float32Array(bytes.buffer, at, count);
    case 'int32':
      return new Int32Array(bytes.buffer, at, count);
    case 'uint32':
      return new Uint32Array(bytes.buffer, at, count);
    case 'int16':
      return new Int16Array(bytes.buffer, at, count);
    case 'uint16':
      return new Uint16Array(bytes.buffer, at, count);
    case 'int8':
      return new Int8Array(bytes.buffer, at, count);
    case 'uint8':
      return new Uint8Array(bytes.buffer, at, count);
    default:
      return undefined; // float16, bfloat16, 64-bit integers and bool need a conversion per element
  }
}

/**
 * Decodes `count` elements of `dtype` starting at byte `offset` of `bytes` into float64. The caller
 * has checked that `offset + count * size` is within `bytes`.
 */
export function decodeElements(
  bytes: Uint8Array,
  offset: number,
  count: number,
  dtype: TensorDtype,
  littleEndian = true,
): Float64Array {
  const fast = alignedView(bytes, offset, count, dtype, littleEndian);
  const out = new Float64Array(count);
  if (fast) {
    out.set(fast);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * DTYPE_BYTES[dtype]);
  const le = littleEndian;
  switch (dtype) {
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, le);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, le);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(2 * i, le));
      break;
    case 'bfloat16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToNumber(view.getUint16(2 * i, le));
      break;
    case 'int64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, le));
      break;
    case 'uint64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(8 * i, le));
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, le);
      break;
    case 'uint32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, le);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, le);
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, le);
      break;
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/**
 * Product of the dimensions, or `undefined` when a dimension is not a non-negative safe integer or
 * the product passes 2^53.
 */
export function checkedProduct(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/** Formats a shape as `[3, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A cursor over bytes whose every read is bounds-checked: reading past the end throws a
 * `truncated` CheckpointError naming `file` and the `part` being read.
 */
export class ByteCursor {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    public part: string,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are present. */
  need(n: number, what = 'data'): void {
    if (!(n >= 0) || n > this.end - this.pos) {
      throw new CheckpointError(
        'truncated',
        this.file,
        this.part,
        `${what} needs ${n} bytes at offset ${this.pos}, only ${Math.max(0, this.end - this.pos)} left`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  u16(le = true): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, le);
    this.pos += 2;
    return v;
  }
  i16(le = true): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, le);
    this.pos += 2;
    return v;
  }
  u32(le = true): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, le);
    this.pos += 4;
    return v;
  }
  i32(le = true): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, le);
    this.pos += 4;
    return v;
  }
  /** An unsigned 64-bit integer as a number; beyond 2^53 it is returned as Infinity (never a valid size). */
  u64(le = true): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, le);
    this.pos += 8;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }
  /** An unsigned little-endian integer of `n` bytes (1..8); beyond 2^53 it is Infinity. */
  uintN(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + this.bytes[this.pos + i];
    this.pos += n;
    return Number.isSafeInteger(v) ? v : Infinity;
  }
  f32(le = true): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, le);
    this.pos += 4;
    return v;
  }
  f64(le = true): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, le);
    this.pos += 8;
    return v;
  }
  /** `n` bytes as a subarray (no copy). */
  take(n: number, what = 'data'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(n: number, what = 'data'): void {
    this.need(n, what);
    this.pos += n;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('latin1');

/** Decodes UTF-8, throwing a `corrupt` CheckpointError on invalid sequences. */
export function utf8(bytes: Uint8Array, file: string, part: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new CheckpointError('corrupt', file, part, 'text is not valid UTF-8');
  }
}

/** Decodes bytes one character per byte (Latin-1). */
export function latin1(bytes: Uint8Array): string {
  return LATIN1.decode(bytes);
}

/** Quotes a name for a message, shortened to 80 characters. */
export function quote(name: string): string {
  const s = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  return JSON.stringify(s);
}
