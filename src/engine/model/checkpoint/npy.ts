// numpy's .npy format (versions 1, 2 and 3): the header is a Python dict literal, parsed here by a
// small literal parser (never evaluated). Every declared size is checked against the bytes present
// before anything is allocated: a header claiming 10^12 elements in a small file is an error.
import { ByteCursor, checkedProduct, decodeElements, formatShape, latin1, quote, utf8 } from './bytes';
import { fortranToC } from './tensor';
import {
  CheckpointError,
  DEFAULT_MAX_BYTES,
  DTYPE_BYTES,
  type CheckpointTensor,
  type ReadOptions,
  type TensorDtype,
} from './types';

/** The parsed header of a .npy file. */
export interface NpyHeader {
  dtype: TensorDtype;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** True when the bytes start with the .npy magic string. */
export function looksLikeNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** Parses the Python literal subset numpy writes: dicts, tuples, lists, strings, ints, True/False/None. */
export function parsePythonLiteral(text: string, fail: (detail: string) => never): Literal {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (depth: number): Literal => {
    if (depth > 16) return fail('header literal nests too deeply');
    ws();
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return fail('unterminated string in the header');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) return fail('escapes in header strings are not read');
      i = end + 1;
      return s;
    }
    if (ch === '{' || ch === '(' || ch === '[') {
      const close = ch === '{' ? '}' : ch === '(' ? ')' : ']';
      i++;
      const items: Literal[] = [];
      const dict: { [key: string]: Literal } = {};
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        const item = value(depth + 1);
        if (ch === '{') {
          ws();
          if (text[i] !== ':' || typeof item !== 'string')
            return fail('header dict keys must be strings followed by ":"');
          i++;
          dict[item] = value(depth + 1);
        } else {
          items.push(item);
        }
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) return fail(`expected "," or "${close}" in the header at character ${i}`);
      }
      return ch === '{' ? dict : items;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) return fail(`unexpected character ${quote(text[i] ?? 'end of header')} in the header at character ${i}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    const n = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(n)) return fail(`integer ${m[0]} in the header is too large`);
    return n;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters after the header dict');
  return v;
}

const NUMPY_DTYPES: Record<string, TensorDtype> = {
  f8: 'float64',
  f4: 'float32',
  f2: 'float16',
  i8: 'int64',
  i4: 'int32',
  i2: 'int16',
  i1: 'int8',
  u8: 'uint64',
  u4: 'uint32',
  u2: 'uint16',
  u1: 'uint8',
  b1: 'bool',
};

/** Maps a numpy dtype string (`<f4`, `|b1`, `>i8`) to a dtype and byte order. */
export function parseNumpyDescr(
  descr: string,
  fail: (detail: string) => never,
): { dtype: TensorDtype; littleEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z?]\d*)$/.exec(descr);
  if (!m) return fail(`dtype ${quote(descr)} is not read`);
  const code = m[2] === '?' ? 'b1' : m[2];
  if (code.startsWith('O'))
    return fail(`dtype ${quote(descr)} (Python objects) is not read: saving objects needs pickle`);
  const dtype = NUMPY_DTYPES[code];
  if (!dtype) return fail(`dtype ${quote(descr)} is not read (float64/32/16, int64/32/16/8, uint8/16/32/64, bool are)`);
  return { dtype, littleEndian: m[1] !== '>' };
}

/** Parses and checks a .npy header. `part` names the file part in messages. */
export function parseNpyHeader(bytes: Uint8Array, file: string, part: string): NpyHeader {
  const fail = (detail: string, kind: 'corrupt' | 'unsupported' | 'truncated' = 'corrupt'): never => {
    throw new CheckpointError(kind, file, part, detail);
  };
  if (!looksLikeNpy(bytes)) fail('not a .npy array (no \\x93NUMPY magic)');
  const c = new ByteCursor(bytes, file, part, 6);
  const major = c.u8();
  c.u8();
  if (major < 1 || major > 3) fail(`.npy format version ${major} is not read (1, 2 and 3 are)`, 'unsupported');
  const headerLength = major === 1 ? c.u16() : c.u32();
  const raw = c.take(headerLength, 'header');
  const text = major === 3 ? utf8(raw, file, part) : latin1(raw);
  const header = parsePythonLiteral(text.trim(), (d) => fail(d));
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a dict');
  const { descr, fortran_order: fortran, shape } = header as Record<string, Literal>;
  if (typeof descr !== 'string')
    return fail('header "descr" is not a simple dtype string (structured arrays are not read)', 'unsupported');
  const { dtype, littleEndian } = parseNumpyDescr(descr, (d) => fail(d, 'unsupported'));
  if (typeof fortran !== 'boolean') return fail('header "fortran_order" is not True or False');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return fail('header "shape" is not a tuple of non-negative integers');
  }
  return { dtype, littleEndian, fortranOrder: fortran, shape: shape as number[], dataOffset: c.pos };
}

/** Reads a .npy array. Throws `CheckpointError`; never allocates more than the data present. */
export function readNpy(bytes: Uint8Array, options: ReadOptions & { part?: string } = {}): CheckpointTensor {
  const file = options.fileName ?? 'array.npy';
  const part = options.part ?? '';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const h = parseNpyHeader(bytes, file, part);
  const count = checkedProduct(h.shape);
  const itemSize = DTYPE_BYTES[h.dtype];
  const present = bytes.length - h.dataOffset;
  if (count === undefined || count * itemSize > present) {
    throw new CheckpointError(
      'truncated',
      file,
      part,
      `header claims shape ${formatShape(h.shape)} of ${h.dtype} (${count === undefined ? 'over 2^53' : count * itemSize} bytes), ` +
        `the file holds ${present} bytes of data`,
    );
  }
  if (count * 8 > maxBytes) {
    throw new CheckpointError(
      'limit',
      file,
      part,
      `shape ${formatShape(h.shape)} is over the limit of ${maxBytes} bytes`,
    );
  }
  const data = decodeElements(bytes, h.dataOffset, count, h.dtype, h.littleEndian);
  return { shape: h.shape, dtype: h.dtype, data: h.fortranOrder ? fortranToC(data, h.shape) : data };
}
