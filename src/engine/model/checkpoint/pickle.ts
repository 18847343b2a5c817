// An allow-listed pickle interpreter (protocols 0-5) for the pickles torch.save and numpy write.
//
// Nothing is ever imported or called. GLOBAL / STACK_GLOBAL push an inert `PyGlobal` (a module and
// a name). REDUCE / NEWOBJ / INST / OBJ on an allow-listed global apply that global's own, inert
// meaning (`collections.OrderedDict()` builds a dict, `torch._utils._rebuild_tensor_v2(...)` a
// tensor description); on any other global (`os.system`, `builtins.eval`, a user's module class)
// they build a `PyRecord` holding the name, the arguments and, after BUILD, the state. The
// interpreter is a loop over opcodes with explicit stacks (no recursion); every length is checked
// against the bytes present; memo references to missing entries are errors; containers nested more
// than MAX_NESTING deep are errors; every object is made by an opcode of at least one byte, so the
// object count is bounded by the pickle's length.
import { ByteCursor, latin1, quote } from './bytes';
import { CheckpointError, MAX_NESTING, type TensorDtype } from './types';

/** A Python value as the interpreter represents it. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | PyRecord
  | PyStorage
  | PyTensor
  | PyNumpyDtype;

/** Containers carry an estimate of how deeply they nest (checked against MAX_NESTING). */
abstract class PyContainer {
  depth = 1;
}

export class PyTuple extends PyContainer {
  constructor(readonly items: PyValue[]) {
    super();
  }
}

export class PyList extends PyContainer {
  constructor(readonly items: PyValue[] = []) {
    super();
  }
}

export class PySet extends PyContainer {
  constructor(
    readonly items: PyValue[] = [],
    readonly frozen = false,
  ) {
    super();
  }
}

/** A dict (or OrderedDict) in insertion order; keys of any type, looked up by primitive value. */
export class PyDict extends PyContainer {
  readonly keys: PyValue[] = [];
  readonly values: PyValue[] = [];
  private readonly index = new Map<string, number>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`). */
  attributes?: PyValue;
  constructor(readonly ordered = false) {
    super();
  }
  private static indexKey(key: PyValue): string | undefined {
    if (typeof key === 'string') return `s${key}`;
    if (typeof key === 'number') return `n${key}`;
    if (typeof key === 'bigint') return `n${key}`;
    if (typeof key === 'boolean') return `n${key ? 1 : 0}`;
    if (key === null) return 'None';
    return undefined;
  }
  set(key: PyValue, value: PyValue): void {
    const k = PyDict.indexKey(key);
    const at = k === undefined ? undefined : this.index.get(k);
    if (at !== undefined) {
      this.values[at] = value;
      return;
    }
    if (k !== undefined) this.index.set(k, this.keys.length);
    this.keys.push(key);
    this.values.push(value);
  }
  get(key: string): PyValue | undefined {
    const at = this.index.get(`s${key}`);
    return at === undefined ? undefined : this.values[at];
  }
  has(key: string): boolean {
    return this.index.has(`s${key}`);
  }
  get size(): number {
    return this.keys.length;
  }
  /** The entries whose key is a string, in order. */
  *stringEntries(): IterableIterator<[string, PyValue]> {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (typeof k === 'string') yield [k, this.values[i]];
    }
  }
}

/** A reference to a global (`module.name`): never imported, never called. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * The inert result of "calling" a global that is not allow-listed: its name, the arguments it would
 * have been called with, and what BUILD / SETITEMS / APPENDS would have given it. Nothing runs.
 */
export class PyRecord extends PyContainer {
  state: PyValue | undefined;
  readonly dictItems: [PyValue, PyValue][] = [];
  readonly listItems: PyValue[] = [];
  constructor(
    /** The callable: a global, or (rarely) another value that a pickle calls. */
    readonly callable: PyGlobal | PyValue,
    readonly args: PyValue,
    readonly via: 'reduce' | 'newobj' | 'inst',
  ) {
    super();
  }
  get qualified(): string {
    return this.callable instanceof PyGlobal ? this.callable.qualified : '<computed callable>';
  }
}

/** A storage named by a persistent id (torch: `('storage', torch.FloatStorage, '0', 'cpu', 48)`). */
export class PyStorage {
  constructor(
    /** A TensorDtype for torch storage types, else the storage type's name (refused when read). */
    readonly dtype: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor description: a view (offset, size, stride in elements) of a storage. */
export class PyTensor {
  isParameter = false;
  constructor(
    readonly storage: PyStorage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A numpy dtype (`numpy.dtype('<i8')`), for numpy scalars inside checkpoints. */
export class PyNumpyDtype {
  byteorder = '=';
  constructor(readonly descr: string) {}
}

/** The storage classes torch.save names, and their element types. */
export const TORCH_STORAGE_DTYPES: Record<string, TensorDtype> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Options of `interpretPickle`. */
export interface PickleOptions {
  file: string;
  /** The place in the file, for messages (e.g. `data.pkl`). */
  part: string;
  /** Maps a persistent id to a value (torch: storages). Without it a persistent id is an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

/** A summary of what a pickle held besides data: the globals kept as inert records. */
export interface PickleResult {
  value: PyValue;
  /** Qualified names of globals that were referenced but not allow-listed (e.g. `os.system`), once each. */
  inertGlobals: string[];
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

function depthOf(v: PyValue): number {
  return v instanceof PyContainer ? v.depth : 0;
}

/** True for `torch.FloatStorage`-like globals. */
export function storageDtypeOf(g: PyValue): TensorDtype | undefined {
  if (!(g instanceof PyGlobal)) return undefined;
  if (g.module !== 'torch') return undefined;
  return TORCH_STORAGE_DTYPES[g.name];
}

/** Reads a little-endian two's complement integer of arbitrary length (LONG1 / LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  if (bytes.length <= 6) {
    let v = 0;
    for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i];
    if (bytes[bytes.length - 1] & 0x80) v -= 2 ** (8 * bytes.length);
    return v;
  }
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Longest LONG1/LONG4 accepted (bytes); real pickles' integers are far shorter. */
const MAX_LONG_BYTES = 256;

/** A Python int as a JS number when it is a safe integer. */
export function asInt(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return undefined;
  return undefined;
}

/** The items of a tuple or list. */
export function asSequence(v: PyValue | undefined): PyValue[] | undefined {
  if (v instanceof PyTuple || v instanceof PyList) return v.items;
  return undefined;
}

/**
 * Applies an allow-listed global to its arguments, or returns `undefined` when the global is not
 * allow-listed. `fail` throws a CheckpointError naming the place.
 */
function applyAllowed(fn: PyGlobal, args: PyValue[], fail: (detail: string) => never): PyValue | undefined {
  const intsOf = (v: PyValue, what: string): number[] => {
    const items = asSequence(v);
    if (!items) return fail(`${fn.qualified}: ${what} is not a tuple of integers`);
    return items.map((x) => {
      const n = asInt(x);
      if (n === undefined || n < 0)
        return fail(`${fn.qualified}: ${what} holds ${describe(x)}, not a non-negative integer`);
      return n;
    });
  };
  const tensorFrom = (a: PyValue[]): PyTensor => {
    const [storage, offset, size, stride] = a;
    if (!(storage instanceof PyStorage))
      return fail(`${fn.qualified}: first argument is ${describe(storage)}, not a storage`);
    const off = asInt(offset);
    if (off === undefined || off < 0)
      return fail(`${fn.qualified}: storage offset ${describe(offset)} is not a non-negative integer`);
    const sizes = intsOf(size, 'size');
    const strides = intsOf(stride, 'stride');
    if (sizes.length !== strides.length) {
      return fail(`${fn.qualified}: size has ${sizes.length} dimensions, stride ${strides.length}`);
    }
    return new PyTensor(storage, off, sizes, strides);
  };
  switch (fn.qualified) {
    case 'collections.OrderedDict': {
      const d = new PyDict(true);
      if (args.length > 0) {
        const pairs = asSequence(args[0]);
        if (!pairs) return fail('collections.OrderedDict: argument is not a sequence of pairs');
        for (const p of pairs) {
          const kv = asSequence(p);
          if (!kv || kv.length !== 2) return fail('collections.OrderedDict: an item is not a pair');
          d.set(kv[0], kv[1]);
          d.depth = Math.max(d.depth, depthOf(kv[1]) + 1);
        }
      }
      return d;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      if (args.length < 4) return fail(`${fn.qualified}: ${args.length} arguments, at least 4 expected`);
      return tensorFrom(args);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const t = args[0];
      if (!(t instanceof PyTensor)) return fail(`${fn.qualified}: first argument is ${describe(t)}, not a tensor`);
      t.isParameter = true;
      return t;
    }
    case 'torch._tensor._rebuild_from_type_v2':
    case 'torch._tensor._rebuild_from_type': {
      // (func, new_type, args, state): a Tensor subclass; only the inner allow-listed rebuild is applied.
      const [inner, , innerArgs] = args;
      const innerList = asSequence(innerArgs);
      if (inner instanceof PyGlobal && innerList) {
        const t = applyAllowed(inner, innerList, fail);
        if (t instanceof PyTensor) return t;
      }
      return undefined;
    }
    case 'torch.Size': {
      const items = args.length > 0 ? asSequence(args[0]) : [];
      if (!items) return fail('torch.Size: argument is not a sequence');
      return new PyTuple([...items]);
    }
    case 'builtins.set':
    case '__builtin__.set':
    case 'builtins.frozenset':
    case '__builtin__.frozenset': {
      const items = args.length > 0 ? asSequence(args[0]) : [];
      if (!items) return undefined;
      return new PySet([...items], fn.name === 'frozenset');
    }
    case '_codecs.encode': {
      // Protocol 2 pickles Python 3 bytes as _codecs.encode(text, 'latin1').
      const [text, encoding] = args;
      if (typeof text === 'string' && (encoding === 'latin1' || encoding === 'latin-1')) {
        const out = new Uint8Array(text.length);
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c > 255) return fail('_codecs.encode: a character is outside latin-1');
          out[i] = c;
        }
        return out;
      }
      return undefined;
    }
    case 'numpy.dtype': {
      const [descr] = args;
      return typeof descr === 'string' ? new PyNumpyDtype(descr) : undefined;
    }
    case 'numpy.core.multiarray.scalar':
    case 'numpy._core.multiarray.scalar': {
      const [dtype, data] = args;
      if (dtype instanceof PyNumpyDtype && data instanceof Uint8Array) return numpyScalar(dtype, data);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A numpy scalar's value (ints and floats; anything else stays a record). */
function numpyScalar(dtype: PyNumpyDtype, data: Uint8Array): PyValue | undefined {
  const le = dtype.byteorder !== '>';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const code = dtype.descr.replace(/^[<>=|]/, '');
  const sizes: Record<string, number> = { i8: 8, i4: 4, i2: 2, i1: 1, u8: 8, u4: 4, u2: 2, u1: 1, f8: 8, f4: 4, b1: 1 };
  const n = sizes[code];
  if (n === undefined || data.length !== n) return undefined;
  switch (code) {
    case 'i8': {
      const v = view.getBigInt64(0, le);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'u8': {
      const v = view.getBigUint64(0, le);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'i4':
      return view.getInt32(0, le);
    case 'u4':
      return view.getUint32(0, le);
    case 'i2':
      return view.getInt16(0, le);
    case 'u2':
      return view.getUint16(0, le);
    case 'i1':
      return view.getInt8(0);
    case 'u1':
      return view.getUint8(0);
    case 'b1':
      return view.getUint8(0) !== 0;
    case 'f8':
      return view.getFloat64(0, le);
    case 'f4':
      return view.getFloat32(0, le);
  }
  return undefined;
}

/** A short description of a value for messages. */
export function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyList) return `a list of ${v.items.length}`;
  if (v instanceof PyDict) return `a dict of ${v.size}`;
  if (v instanceof PySet) return `a set of ${v.items.length}`;
  if (v instanceof PyGlobal) return `the global ${v.qualified}`;
  if (v instanceof PyRecord) return `an inert ${v.qualified} record`;
  if (v instanceof PyStorage) return `a storage`;
  if (v instanceof PyTensor) return `a tensor of shape [${v.size.join(', ')}]`;
  return 'a numpy dtype';
}

/** Parses the text of protocol 0's STRING opcode: a Python bytes literal in quotes. */
function parseQuotedString(text: string, fail: (d: string) => never): Uint8Array {
  const q = text[0];
  if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q)
    return fail('STRING argument is not quoted');
  const body = text.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body.charCodeAt(i);
    if (body[i] !== '\\') {
      out.push(ch & 0xff);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = {
      n: 10,
      r: 13,
      t: 9,
      '\\': 92,
      "'": 39,
      '"': 34,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
      '0': 0,
    };
    if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return fail('STRING has a bad \\x escape');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (e !== undefined && e in simple) {
      out.push(simple[e]);
    } else {
      return fail('STRING has an escape this reader does not know');
    }
  }
  return Uint8Array.from(out);
}

/** Decodes raw-unicode-escape (protocol 0's UNICODE opcode). */
function rawUnicodeEscape(bytes: Uint8Array): string {
  const s = latin1(bytes);
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(parseInt(a ?? b ?? '0', 16)),
  );
}

const UTF8_LENIENT = new TextDecoder('utf-8');

/**
 * Interprets a pickle. Throws `CheckpointError` for malformed pickles, memo references to missing
 * entries, nesting deeper than MAX_NESTING and out-of-band buffers; never calls anything.
 */
export function interpretPickle(bytes: Uint8Array, options: PickleOptions): PickleResult {
  return new PickleMachine(bytes, options).run();
}

/**
 * The pickle virtual machine: a value stack, a stack of MARK frames and a memo, driven by one loop
 * over opcodes. The opcodes are split by kind into methods that each return whether they handled it.
 */
class PickleMachine {
  private readonly c: ByteCursor;
  private stack: StackItem[] = [];
  private readonly marks: StackItem[][] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly inert = new Set<string>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: PickleOptions,
  ) {
    this.c = new ByteCursor(bytes, options.file, options.part);
  }

  run(): PickleResult {
    for (;;) {
      const op = this.c.u8();
      if (op === 0x2e) {
        // STOP
        const value = this.pop();
        return { value, inertGlobals: [...this.inert] };
      }
      const handled =
        this.frameOp(op) ||
        this.scalarOp(op) ||
        this.textOp(op) ||
        this.bytesOp(op) ||
        this.containerOp(op) ||
        this.memoOp(op) ||
        this.callOp(op);
      if (!handled) this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private fail(detail: string, kind: 'corrupt' | 'limit' | 'unsupported' = 'corrupt'): never {
    throw new CheckpointError(kind, this.options.file, this.options.part, `${detail} (pickle offset ${this.c.pos})`);
  }

  private pop(): PyValue {
    if (this.stack.length === 0) return this.fail('pickle stack underflow');
    const v = this.stack.pop() as StackItem;
    if (v === MARK) return this.fail('unexpected MARK on the stack');
    return v;
  }

  private top(): PyValue {
    if (this.stack.length === 0) return this.fail('pickle stack underflow');
    const v = this.stack[this.stack.length - 1];
    if (v === MARK) return this.fail('unexpected MARK on the stack');
    return v;
  }

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private popMark(): PyValue[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) return this.fail('no MARK to pop to');
    this.stack = outer;
    for (const it of items) if (it === MARK) return this.fail('unexpected MARK on the stack');
    return items as PyValue[];
  }

  private nest(container: PyContainer, child: PyValue): void {
    const d = depthOf(child) + 1;
    if (d > container.depth) {
      container.depth = d;
      if (d > MAX_NESTING) this.fail(`containers nest more than ${MAX_NESTING} levels deep`, 'limit');
    }
  }

  private tupleOf(items: PyValue[]): PyTuple {
    const t = new PyTuple(items);
    for (const it of items) this.nest(t, it);
    return t;
  }

  /** The text argument of a protocol-0 opcode, up to its newline. */
  private line(): string {
    const { c, bytes } = this;
    const start = c.pos;
    while (c.pos < bytes.length && bytes[c.pos] !== 0x0a) c.pos++;
    if (c.pos >= bytes.length) return this.fail('text argument has no end of line');
    const text = latin1(bytes.subarray(start, c.pos));
    c.pos++;
    return text;
  }

  private memoGet(i: number): PyValue {
    const v = this.memo.get(i);
    if (v === undefined) return this.fail(`memo reference ${i} to a missing entry`);
    return v;
  }

  /** "Calls" a callable: an allow-listed global's inert meaning, or an inert record. */
  private call(fn: PyValue, args: PyValue[], via: 'reduce' | 'newobj' | 'inst'): PyValue {
    if (fn instanceof PyGlobal) {
      const allowed = applyAllowed(fn, args, (d) => this.fail(d));
      if (allowed !== undefined) return allowed;
      this.inert.add(fn.qualified);
    } else {
      this.inert.add('<computed callable>');
    }
    const r = new PyRecord(fn, this.tupleOf(args), via);
    this.nest(r, r.args);
    return r;
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    if (target instanceof PyDict) {
      for (let i = 0; i < items.length; i += 2) {
        target.set(items[i], items[i + 1]);
        this.nest(target, items[i + 1]);
      }
    } else if (target instanceof PyRecord) {
      for (let i = 0; i < items.length; i += 2) {
        target.dictItems.push([items[i], items[i + 1]]);
        this.nest(target, items[i + 1]);
      }
    } else {
      this.fail(`SETITEM on ${describe(target)}`);
    }
  }

  private appendItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof PyList) && !(target instanceof PyRecord)) this.fail(`APPEND on ${describe(target)}`);
    const list = target instanceof PyList ? target.items : target.listItems;
    for (const it of items) {
      list.push(it);
      this.nest(target, it);
    }
  }

  private sequence(v: PyValue, what: string): PyValue[] {
    const list = asSequence(v);
    if (!list) return this.fail(`${what} with ${describe(v)} as arguments`);
    return list;
  }

  /** PROTO, FRAME, MARK, POP, POP_MARK, DUP. */
  private frameOp(op: number): boolean {
    switch (op) {
      case 0x80: // PROTO
        if (this.c.u8() > 5) this.fail('pickle protocol above 5', 'unsupported');
        return true;
      case 0x95: // FRAME
        this.c.skip(8);
        return true;
      case 0x28: // MARK
        this.marks.push(this.stack);
        this.stack = [];
        return true;
      case 0x30: // POP (of an empty frame: the MARK itself, as Python does)
        if (this.stack.length === 0) {
          const outer = this.marks.pop();
          if (!outer) this.fail('pickle stack underflow');
          this.stack = outer;
        } else this.stack.pop();
        return true;
      case 0x31: // POP_MARK
        this.popMark();
        return true;
      case 0x32: // DUP
        this.push(this.top());
        return true;
      default:
        return false;
    }
  }

  /** None, booleans, binary integers and floats. */
  private scalarOp(op: number): boolean {
    const c = this.c;
    switch (op) {
      case 0x4e: // NONE
        this.push(null);
        return true;
      case 0x88: // NEWTRUE
        this.push(true);
        return true;
      case 0x89: // NEWFALSE
        this.push(false);
        return true;
      case 0x4b: // BININT1
        this.push(c.u8());
        return true;
      case 0x4d: // BININT2
        this.push(c.u16());
        return true;
      case 0x4a: // BININT
        this.push(c.i32());
        return true;
      case 0x8a: // LONG1
        this.push(decodeLong(c.take(c.u8(), 'LONG1')));
        return true;
      case 0x8b: {
        // LONG4
        const n = c.i32();
        if (n < 0) this.fail('LONG4 with a negative length');
        if (n > MAX_LONG_BYTES) this.fail(`LONG4 of ${n} bytes`, 'limit');
        this.push(decodeLong(c.take(n, 'LONG4')));
        return true;
      }
      case 0x47: // BINFLOAT
        this.push(c.f64(false));
        return true;
      default:
        return false;
    }
  }

  /** Protocol 0's text opcodes: INT, LONG, FLOAT, STRING, UNICODE. */
  private textOp(op: number): boolean {
    switch (op) {
      case 0x49: {
        // INT
        const t = this.line().trim();
        if (t === '00') this.push(false);
        else if (t === '01') this.push(true);
        else if (/^[+-]?\d{1,15}$/.test(t)) this.push(parseInt(t, 10));
        else if (/^[+-]?\d+$/.test(t) && t.length <= 400) this.push(BigInt(t));
        else this.fail('INT argument is not an integer');
        return true;
      }
      case 0x4c: {
        // LONG
        const t = this.line().trim().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(t) || t.length > 400) this.fail('LONG argument is not an integer');
        const b = BigInt(t);
        this.push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);
        return true;
      }
      case 0x46: {
        // FLOAT
        const t = this.line().trim();
        const v = Number(t);
        if (t === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(t))) this.fail('FLOAT argument is not a number');
        this.push(v);
        return true;
      }
      case 0x56: // UNICODE (raw-unicode-escape)
        this.push(rawUnicodeEscape(latin1ToBytes(this.line())));
        return true;
      case 0x53: // STRING
        this.push(latin1(parseQuotedString(this.line(), (d) => this.fail(d))));
        return true;
      default:
        return false;
    }
  }

  /** Binary strings and bytes. */
  private bytesOp(op: number): boolean {
    const c = this.c;
    switch (op) {
      case 0x58: // BINUNICODE
        this.push(UTF8_LENIENT.decode(c.take(c.u32(), 'BINUNICODE')));
        return true;
      case 0x8c: // SHORT_BINUNICODE
        this.push(UTF8_LENIENT.decode(c.take(c.u8(), 'SHORT_BINUNICODE')));
        return true;
      case 0x8d: // BINUNICODE8
        this.push(UTF8_LENIENT.decode(c.take(c.u64(), 'BINUNICODE8')));
        return true;
      case 0x54: {
        // BINSTRING
        const n = c.i32();
        if (n < 0) this.fail('BINSTRING with a negative length');
        this.push(latin1(c.take(n, 'BINSTRING')));
        return true;
      }
      case 0x55: // SHORT_BINSTRING
        this.push(latin1(c.take(c.u8(), 'SHORT_BINSTRING')));
        return true;
      case 0x42: // BINBYTES
        this.push(c.take(c.u32(), 'BINBYTES').slice());
        return true;
      case 0x43: // SHORT_BINBYTES
        this.push(c.take(c.u8(), 'SHORT_BINBYTES').slice());
        return true;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        this.push(c.take(c.u64(), 'BINBYTES8').slice());
        return true;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        return this.fail('out-of-band buffers (pickle protocol 5) are not read', 'unsupported');
      default:
        return false;
    }
  }

  /** Tuples, lists, dicts, sets and their filling opcodes. */
  private containerOp(op: number): boolean {
    switch (op) {
      case 0x29: // EMPTY_TUPLE
        this.push(new PyTuple([]));
        return true;
      case 0x85: // TUPLE1
        this.push(this.tupleOf([this.pop()]));
        return true;
      case 0x86: {
        // TUPLE2
        const b = this.pop();
        this.push(this.tupleOf([this.pop(), b]));
        return true;
      }
      case 0x87: {
        // TUPLE3
        const z = this.pop();
        const b = this.pop();
        this.push(this.tupleOf([this.pop(), b, z]));
        return true;
      }
      case 0x74: // TUPLE
        this.push(this.tupleOf(this.popMark()));
        return true;
      case 0x5d: // EMPTY_LIST
        this.push(new PyList());
        return true;
      case 0x6c: {
        // LIST
        const l = new PyList();
        this.appendItems(l, this.popMark());
        this.push(l);
        return true;
      }
      case 0x7d: // EMPTY_DICT
        this.push(new PyDict());
        return true;
      case 0x64: {
        // DICT
        const d = new PyDict();
        this.setItems(d, this.popMark());
        this.push(d);
        return true;
      }
      case 0x8f: // EMPTY_SET
        this.push(new PySet());
        return true;
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof PySet) || s.frozen) return this.fail(`ADDITEMS on ${describe(s)}`);
        for (const it of items) {
          s.items.push(it);
          this.nest(s, it);
        }
        return true;
      }
      case 0x91: {
        // FROZENSET
        const s = new PySet([], true);
        for (const it of this.popMark()) {
          s.items.push(it);
          this.nest(s, it);
        }
        this.push(s);
        return true;
      }
      case 0x61: {
        // APPEND
        const v = this.pop();
        this.appendItems(this.top(), [v]);
        return true;
      }
      case 0x65: {
        // APPENDS: the MARK frame first, then its target below it
        const items = this.popMark();
        this.appendItems(this.top(), items);
        return true;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.top(), [k, v]);
        return true;
      }
      case 0x75: {
        // SETITEMS: the MARK frame first, then its target below it
        const items = this.popMark();
        this.setItems(this.top(), items);
        return true;
      }
      default:
        return false;
    }
  }

  /** GET / PUT in their text, binary and MEMOIZE forms. */
  private memoOp(op: number): boolean {
    const c = this.c;
    switch (op) {
      case 0x67: // GET
        this.push(this.memoGet(parseIntLine(this.line(), (d) => this.fail(d))));
        return true;
      case 0x68: // BINGET
        this.push(this.memoGet(c.u8()));
        return true;
      case 0x6a: // LONG_BINGET
        this.push(this.memoGet(c.u32()));
        return true;
      case 0x70: // PUT
        this.memo.set(
          parseIntLine(this.line(), (d) => this.fail(d)),
          this.top(),
        );
        return true;
      case 0x71: // BINPUT
        this.memo.set(c.u8(), this.top());
        return true;
      case 0x72: // LONG_BINPUT
        this.memo.set(c.u32(), this.top());
        return true;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        return true;
      default:
        return false;
    }
  }

  /** Globals, the calling opcodes, BUILD and persistent ids: nothing here runs anything. */
  private callOp(op: number): boolean {
    switch (op) {
      case 0x63: {
        // GLOBAL (module\nname\n)
        const module = this.line();
        this.push(new PyGlobal(module, this.line()));
        return true;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') return this.fail('STACK_GLOBAL of non-strings');
        this.push(new PyGlobal(module, name));
        return true;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4: the extension registry is never consulted
        const code = op === 0x82 ? this.c.u8() : op === 0x83 ? this.c.u16() : this.c.i32();
        this.inert.add(`<extension ${code}>`);
        this.push(new PyGlobal('<extension>', String(code)));
        return true;
      }
      case 0x52: {
        // REDUCE
        const args = this.sequence(this.pop(), 'REDUCE');
        this.push(this.call(this.pop(), args, 'reduce'));
        return true;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.sequence(this.pop(), 'NEWOBJ');
        this.push(this.call(this.pop(), args, 'newobj'));
        return true;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        const kwargs = this.pop();
        const args = this.sequence(this.pop(), 'NEWOBJ_EX');
        const r = this.call(this.pop(), args, 'newobj');
        if (r instanceof PyRecord && kwargs instanceof PyDict && kwargs.size > 0)
          r.dictItems.push(['**kwargs', kwargs]);
        this.push(r);
        return true;
      }
      case 0x69: {
        // INST (module\nname\n, arguments since MARK)
        const module = this.line();
        const name = this.line();
        this.push(this.call(new PyGlobal(module, name), this.popMark(), 'inst'));
        return true;
      }
      case 0x6f: {
        // OBJ (class and arguments since MARK)
        const items = this.popMark();
        if (items.length === 0) return this.fail('OBJ without a class');
        this.push(this.call(items[0], items.slice(1), 'inst'));
        return true;
      }
      case 0x62: // BUILD
        this.build(this.pop(), this.top());
        return true;
      case 0x51: // BINPERSID
        this.push(this.persistent(this.pop()));
        return true;
      case 0x50: // PERSID
        this.push(this.persistent(this.line()));
        return true;
      default:
        return false;
    }
  }

  /** BUILD: state goes into a record; a dict keeps it as attributes; a numpy dtype takes its byte order. */
  private build(state: PyValue, target: PyValue): void {
    if (target instanceof PyRecord) {
      target.state = state;
      this.nest(target, state);
    } else if (target instanceof PyDict) {
      target.attributes = state;
    } else if (target instanceof PyNumpyDtype) {
      const items = asSequence(state);
      if (items && typeof items[1] === 'string') target.byteorder = items[1];
    } else if (!(target instanceof PyTensor)) {
      // (A Tensor subclass' __dict__ is not needed.)
      this.fail(`BUILD on ${describe(target)}`);
    }
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.options.persistentLoad) return this.fail('persistent id in a pickle that allows none');
    return this.options.persistentLoad(pid);
  }
}

function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function parseIntLine(text: string, fail: (d: string) => never): number {
  const t = text.trim();
  if (!/^\d{1,15}$/.test(t)) return fail('memo index is not an integer');
  return parseInt(t, 10);
}
