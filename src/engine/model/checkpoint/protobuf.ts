// A minimal protocol-buffers wire decoder (varint, 64-bit, length-delimited, 32-bit fields; packed
// repeated scalars), enough for ONNX. Every length is checked against the enclosing message;
// groups (wire types 3 and 4, long deprecated) are refused. No schema, no reflection, no recursion:
// callers walk a fixed, shallow message tree.
import { CheckpointError } from './types';

/** Wire types. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: its number, wire type, and where its value sits. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint fields: the value as a number (int64 two's complement decoded; beyond ±2^53 it is ±Infinity). */
  int: number;
  /** Length-delimited fields: the bytes (a view, not a copy). Fixed fields: their 4 or 8 bytes. */
  bytes: Uint8Array;
}

/** Errors name the file and the message path (e.g. `graph.node[3].attribute[1]`). */
export class ProtoContext {
  constructor(readonly file: string) {}
  fail(part: string, detail: string, kind: 'corrupt' | 'truncated' = 'corrupt'): never {
    throw new CheckpointError(kind, this.file, part, detail);
  }
}

/**
 * Reads a varint at `pos` of `bytes` (before `end`): returns [value, next position]. The value is
 * an int64 read as two's complement; values beyond ±2^53 come out as ±Infinity (never a valid size).
 */
export function readVarint(
  bytes: Uint8Array,
  pos: number,
  end: number,
  ctx: ProtoContext,
  part: string,
): [number, number] {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (let i = 0; ; i++) {
    if (pos >= end) return ctx.fail(part, 'varint runs past the end of its message', 'truncated');
    if (i >= 10) return ctx.fail(part, 'varint longer than 10 bytes');
    const b = bytes[pos++];
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else hi |= (b & 0x7f) << (shift - 32);
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  lo >>>= 0;
  hi >>>= 0;
  if (hi & 0x80000000) {
    // Negative int64: −(2^64 − value).
    const nlo = (~lo >>> 0) + 1;
    const nhi = (~hi >>> 0) + (nlo > 0xffffffff ? 1 : 0);
    const v = -((nhi >>> 0) * 2 ** 32 + (nlo >>> 0));
    return [Number.isSafeInteger(v) ? v : -Infinity, pos];
  }
  const v = hi * 2 ** 32 + lo;
  return [Number.isSafeInteger(v) ? v : Infinity, pos];
}

/** Iterates the fields of the message in `bytes` (the whole array is the message). */
export function* fields(bytes: Uint8Array, ctx: ProtoContext, part: string): IterableIterator<ProtoField> {
  let pos = 0;
  const end = bytes.length;
  while (pos < end) {
    let key: number;
    [key, pos] = readVarint(bytes, pos, end, ctx, part);
    if (!(key > 0) || !Number.isSafeInteger(key)) ctx.fail(part, `bad field key ${key}`);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) ctx.fail(part, 'field number 0');
    switch (wire) {
      case WIRE_VARINT: {
        let v: number;
        [v, pos] = readVarint(bytes, pos, end, ctx, part);
        yield { field, wire, int: v, bytes: bytes.subarray(0, 0) };
        break;
      }
      case WIRE_FIXED64:
        if (pos + 8 > end) ctx.fail(part, `field ${field}: 8 bytes run past the end of the message`, 'truncated');
        yield { field, wire, int: 0, bytes: bytes.subarray(pos, pos + 8) };
        pos += 8;
        break;
      case WIRE_FIXED32:
        if (pos + 4 > end) ctx.fail(part, `field ${field}: 4 bytes run past the end of the message`, 'truncated');
        yield { field, wire, int: 0, bytes: bytes.subarray(pos, pos + 4) };
        pos += 4;
        break;
      case WIRE_BYTES: {
        let n: number;
        [n, pos] = readVarint(bytes, pos, end, ctx, part);
        if (!(n >= 0) || n > end - pos)
          ctx.fail(
            part,
            `field ${field}: length ${n} runs past the end of the message (${end - pos} bytes left)`,
            'truncated',
          );
        yield { field, wire, int: 0, bytes: bytes.subarray(pos, pos + n) };
        pos += n;
        break;
      }
      default:
        ctx.fail(part, `field ${field}: wire type ${wire} is not read`);
    }
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A length-delimited field as UTF-8 text. */
export function fieldString(f: ProtoField, ctx: ProtoContext, part: string): string {
  if (f.wire !== WIRE_BYTES) ctx.fail(part, `field ${f.field} is not a string`);
  try {
    return UTF8.decode(f.bytes);
  } catch {
    return ctx.fail(part, `field ${f.field} is not valid UTF-8`);
  }
}

/** A varint field's value (an int64), or a failure if the wire type is not varint. */
export function fieldInt(f: ProtoField, ctx: ProtoContext, part: string): number {
  if (f.wire !== WIRE_VARINT) ctx.fail(part, `field ${f.field} is not a varint`);
  return f.int;
}

/** A float field (fixed32). */
export function fieldFloat(f: ProtoField, ctx: ProtoContext, part: string): number {
  if (f.wire !== WIRE_FIXED32) ctx.fail(part, `field ${f.field} is not a float`);
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/**
 * The values of a repeated scalar field, packed (one length-delimited chunk) or not (one field per
 * value); `chunks` are the field's occurrences in order. Counts are known before anything is
 * allocated, so callers can check them first with `repeatedCount`.
 */
export function repeatedCount(
  chunks: readonly ProtoField[],
  kind: 'varint' | 'fixed32' | 'fixed64',
  ctx: ProtoContext,
  part: string,
): number {
  let n = 0;
  for (const c of chunks) {
    if (c.wire === WIRE_BYTES) {
      if (kind === 'fixed32') {
        if (c.bytes.length % 4 !== 0) ctx.fail(part, `packed field ${c.field} is not a whole number of 4-byte values`);
        n += c.bytes.length / 4;
      } else if (kind === 'fixed64') {
        if (c.bytes.length % 8 !== 0) ctx.fail(part, `packed field ${c.field} is not a whole number of 8-byte values`);
        n += c.bytes.length / 8;
      } else {
        for (const b of c.bytes) if ((b & 0x80) === 0) n++;
      }
    } else n++;
  }
  return n;
}

/** Decodes a repeated scalar field into `out` (length from `repeatedCount`). */
export function readRepeated(
  chunks: readonly ProtoField[],
  kind: 'varint' | 'float' | 'double' | 'fixed64u',
  out: Float64Array,
  ctx: ProtoContext,
  part: string,
): void {
  let k = 0;
  for (const c of chunks) {
    if (c.wire === WIRE_BYTES) {
      const view = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
      if (kind === 'float') for (let i = 0; i < c.bytes.length; i += 4) out[k++] = view.getFloat32(i, true);
      else if (kind === 'double') for (let i = 0; i < c.bytes.length; i += 8) out[k++] = view.getFloat64(i, true);
      else if (kind === 'fixed64u')
        for (let i = 0; i < c.bytes.length; i += 8) out[k++] = Number(view.getBigUint64(i, true));
      else {
        let pos = 0;
        while (pos < c.bytes.length) {
          let v: number;
          [v, pos] = readVarint(c.bytes, pos, c.bytes.length, ctx, part);
          out[k++] = v;
        }
      }
    } else if (c.wire === WIRE_VARINT && kind === 'varint') out[k++] = c.int;
    else if (c.wire === WIRE_FIXED32 && kind === 'float')
      out[k++] = new DataView(c.bytes.buffer, c.bytes.byteOffset, 4).getFloat32(0, true);
    else if (c.wire === WIRE_FIXED64 && kind === 'double')
      out[k++] = new DataView(c.bytes.buffer, c.bytes.byteOffset, 8).getFloat64(0, true);
    else if (c.wire === WIRE_FIXED64 && kind === 'fixed64u')
      out[k++] = Number(new DataView(c.bytes.buffer, c.bytes.byteOffset, 8).getBigUint64(0, true));
    else ctx.fail(part, `field ${c.field} has wire type ${c.wire}, not the expected ${kind}`);
  }
}
