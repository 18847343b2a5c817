// A minimal, bounds-checked HDF5 reader: what h5py 3.x writes with its default settings (the
// layout Keras' saving code produces), plus the version-2 object headers and compact link storage of
// files written with libver='latest'.
//
// Read: superblocks 0-3; object headers v1 and v2 (with continuation blocks); groups stored as
// symbol tables (v1 B-tree + local heap) or as link messages; attributes (v1-v3) of fixed-point,
// floating-point, enum (h5py's bool), fixed-length and variable-length string types (the global
// heap); datasets with compact, contiguous and chunked layouts (v1 B-tree index; deflate, shuffle
// and fletcher32 filters). Refused with a clear error: dense link/attribute storage (fractal heaps),
// layout-v4 chunk indexes other than single-chunk and implicit, shared messages, other filters and
// datatypes (compound, reference, array, opaque).
//
// Every address and size is checked against the file before it is followed or allocated; B-tree
// walks keep a visited set and bounds on depth and node count; object headers bound the messages
// they hold; there is no recursion.
import { unzlibSync } from 'fflate';
import { ByteCursor, checkedProduct, decodeElements, formatShape, quote } from './bytes';
import { CheckpointError, DEFAULT_MAX_BYTES, type CheckpointTensor, type ReadOptions, type TensorDtype } from './types';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes start with the HDF5 signature (at offset 0; userblocks are searched too by `openHdf5`). */
export function looksLikeHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** A datatype, as much of it as the reader uses. */
export type Hdf5Type =
  | { class: 'int'; size: number; signed: boolean; littleEndian: boolean; bool?: boolean }
  | { class: 'float'; size: number; littleEndian: boolean }
  | { class: 'string'; size: number; padding: number; utf8: boolean }
  | { class: 'vlen-string'; size: number; utf8: boolean }
  | { class: 'other'; size: number; name: string };

/** An attribute's value: numbers, strings, or arrays of either (flattened, with the shape). */
export interface Hdf5Value {
  shape: number[];
  /** Numbers for numeric types (bools as 0/1), strings for string types. */
  values: number[] | string[];
}

export interface Hdf5Group {
  readonly kind: 'group';
  readonly path: string;
  /** Member names in the file's order (symbol tables: name order; link messages: creation order). */
  names(): string[];
  get(name: string): Hdf5Group | Hdf5Dataset | undefined;
  attribute(name: string): Hdf5Value | undefined;
  attributeNames(): string[];
}

export interface Hdf5Dataset {
  readonly kind: 'dataset';
  readonly path: string;
  readonly shape: number[];
  readonly type: Hdf5Type;
  attribute(name: string): Hdf5Value | undefined;
  attributeNames(): string[];
  /** The data of a numeric dataset as float64, C order. */
  read(): CheckpointTensor;
  /** The data of a string dataset. */
  readStrings(): string[];
}

export interface Hdf5File {
  readonly root: Hdf5Group;
  /** Resolves `a/b/c` from the root (no `..`, soft links followed at most 16 times). */
  get(path: string): Hdf5Group | Hdf5Dataset | undefined;
}

const MSG_DATASPACE = 0x0001;
const MSG_LINK_INFO = 0x0002;
const MSG_DATATYPE = 0x0003;
const MSG_FILL_OLD = 0x0004;
const MSG_FILL = 0x0005;
const MSG_LINK = 0x0006;
const MSG_LAYOUT = 0x0008;
const MSG_FILTERS = 0x000b;
const MSG_ATTRIBUTE = 0x000c;
const MSG_CONTINUATION = 0x0010;
const MSG_SYMBOL_TABLE = 0x0011;
const MSG_ATTRIBUTE_INFO = 0x0015;

/** Most messages in one object header, B-tree nodes in one walk, heap objects in one collection. */
const MAX_MESSAGES = 100_000;
const MAX_NODES = 1_000_000;
const MAX_BTREE_DEPTH = 64;

interface Message {
  type: number;
  flags: number;
  /** Absolute offset and length of the message data. */
  start: number;
  size: number;
}

interface Layout {
  kind: 'compact' | 'contiguous' | 'chunked' | 'single-chunk' | 'implicit';
  /** compact: the data; contiguous: its address and size; chunked: B-tree address and chunk dims. */
  data?: Uint8Array;
  address: number;
  size: number;
  chunk?: number[];
  /** single-chunk with filters: the filtered size. */
  filteredSize?: number;
}

interface Filter {
  id: number;
  name: string;
  values: number[];
  optional: boolean;
}

/** Opens an HDF5 file. Throws `CheckpointError` on anything it cannot read. */
export function openHdf5(bytes: Uint8Array, options: ReadOptions = {}): Hdf5File {
  return new Reader(bytes, options.fileName ?? 'file.h5', options.maxBytes ?? DEFAULT_MAX_BYTES).open();
}

class Reader {
  private offsetSize = 8;
  private lengthSize = 8;
  private base = 0;
  private readonly headerCache = new Map<number, Message[]>();
  private readonly heapCache = new Map<number, Map<number, Uint8Array>>();

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly maxBytes: number,
  ) {}

  fail(part: string, detail: string, kind: 'corrupt' | 'truncated' | 'unsupported' | 'limit' = 'corrupt'): never {
    throw new CheckpointError(kind, this.file, part, detail);
  }

  cursor(address: number, part: string): ByteCursor {
    const abs = this.base + address;
    if (!(address >= 0) || !(abs < this.bytes.length))
      this.fail(part, `address ${address} is outside the file (${this.bytes.length} bytes)`, 'truncated');
    return new ByteCursor(this.bytes, this.file, part, abs);
  }

  offset(c: ByteCursor): number {
    const v = c.uintN(this.offsetSize);
    // The undefined address is all ones.
    return v === 2 ** (8 * this.offsetSize) - 1 || v === Infinity ? -1 : v;
  }

  length(c: ByteCursor): number {
    return c.uintN(this.lengthSize);
  }

  open(): Hdf5File {
    let at = -1;
    for (let p = 0; p + 8 <= this.bytes.length; p = p === 0 ? 512 : p * 2) {
      if (SIGNATURE.every((b, i) => this.bytes[p + i] === b)) {
        at = p;
        break;
      }
    }
    if (at < 0) this.fail('superblock', 'no HDF5 signature (not an HDF5 file)');
    const c = new ByteCursor(this.bytes, this.file, 'superblock', at + 8);
    const version = c.u8();
    let rootAddress: number;
    if (version === 0 || version === 1) {
      c.skip(3);
      c.u8();
      this.offsetSize = c.u8();
      this.lengthSize = c.u8();
      this.checkSizes();
      c.skip(1 + 2 + 2 + 4);
      if (version === 1) c.skip(4);
      this.base = this.offset(c);
      if (this.base < 0) this.base = at;
      this.offset(c);
      this.offset(c);
      this.offset(c);
      // Root group symbol table entry.
      this.offset(c);
      rootAddress = this.offset(c);
    } else if (version === 2 || version === 3) {
      this.offsetSize = c.u8();
      this.lengthSize = c.u8();
      this.checkSizes();
      c.u8();
      this.base = this.offset(c);
      if (this.base < 0) this.base = at;
      this.offset(c);
      this.offset(c);
      rootAddress = this.offset(c);
    } else {
      return this.fail('superblock', `superblock version ${version} is not read`, 'unsupported');
    }
    if (rootAddress < 0) this.fail('superblock', 'no root group');
    const root = this.group(rootAddress, '/');
    const get = (path: string): Hdf5Group | Hdf5Dataset | undefined => {
      let node: Hdf5Group | Hdf5Dataset | undefined = root;
      for (const part of path.split('/').filter((p) => p !== '')) {
        if (!node || node.kind !== 'group') return undefined;
        node = node.get(part);
      }
      return node;
    };
    return { root, get };
  }

  private checkSizes(): void {
    if (![2, 4, 8].includes(this.offsetSize) || ![2, 4, 8].includes(this.lengthSize)) {
      this.fail(
        'superblock',
        `sizes of offsets ${this.offsetSize} and lengths ${this.lengthSize} are not read`,
        'unsupported',
      );
    }
  }

  /** The messages of the object header at `address` (continuation blocks followed). */
  messages(address: number, part: string): Message[] {
    const cached = this.headerCache.get(address);
    if (cached) return cached;
    const out: Message[] = [];
    const c = this.cursor(address, `${part} object header`);
    const blocks: { start: number; end: number }[] = [];
    let v2 = false;
    let v2Flags = 0;
    if (
      c.bytes[c.pos] === 0x4f &&
      c.bytes[c.pos + 1] === 0x48 &&
      c.bytes[c.pos + 2] === 0x44 &&
      c.bytes[c.pos + 3] === 0x52
    ) {
      // "OHDR": version 2.
      c.skip(4);
      if (c.u8() !== 2) this.fail(`${part} object header`, 'OHDR version is not 2');
      v2 = true;
      v2Flags = c.u8();
      if (v2Flags & 0x20) c.skip(16);
      if (v2Flags & 0x10) c.skip(4);
      const sizeBytes = 1 << (v2Flags & 3);
      const size = c.uintN(sizeBytes);
      c.need(size + 4, 'object header chunk');
      blocks.push({ start: c.pos, end: c.pos + size });
    } else {
      const version = c.u8();
      if (version !== 1)
        this.fail(
          `${part} object header`,
          `object header version ${version} at address ${address} is not read (or not an object header)`,
        );
      c.skip(1);
      c.u16();
      c.u32();
      const size = c.u32();
      c.skip(4);
      c.need(size, 'object header messages');
      blocks.push({ start: c.pos, end: c.pos + size });
    }
    const seenBlocks = new Set<number>();
    for (let b = 0; b < blocks.length; b++) {
      const { start, end } = blocks[b];
      const m = new ByteCursor(this.bytes, this.file, `${part} object header`, start, end);
      const headerSize = v2 ? 4 + (v2Flags & 0x04 ? 2 : 0) : 8;
      while (m.remaining >= headerSize) {
        let type: number;
        let size: number;
        let flags: number;
        if (v2) {
          type = m.u8();
          size = m.u16();
          flags = m.u8();
          if (v2Flags & 0x04) m.skip(2);
        } else {
          type = m.u16();
          size = m.u16();
          flags = m.u8();
          m.skip(3);
        }
        m.need(size, `message of type ${type}`);
        const msg: Message = { type, flags, start: m.pos, size };
        m.pos += size;
        if (out.length >= MAX_MESSAGES)
          this.fail(`${part} object header`, `more than ${MAX_MESSAGES} messages`, 'limit');
        if (type === MSG_CONTINUATION) {
          const cc = new ByteCursor(this.bytes, this.file, `${part} continuation`, msg.start, msg.start + size);
          const at = this.offset(cc);
          const length = this.length(cc);
          if (at < 0 || seenBlocks.has(at))
            this.fail(`${part} continuation`, `continuation block at ${at} is invalid or repeated`);
          seenBlocks.add(at);
          const k = this.cursor(at, `${part} continuation block`);
          k.need(length, 'continuation block');
          if (v2) {
            if (!(k.u8() === 0x4f && k.u8() === 0x43 && k.u8() === 0x48 && k.u8() === 0x4b))
              this.fail(`${part} continuation block`, 'no OCHK signature');
            blocks.push({ start: k.pos, end: k.pos + length - 8 });
          } else {
            blocks.push({ start: k.pos, end: k.pos + length });
          }
          continue;
        }
        if (type !== 0) out.push(msg);
      }
    }
    this.headerCache.set(address, out);
    return out;
  }

  private msgCursor(msg: Message, part: string): ByteCursor {
    return new ByteCursor(this.bytes, this.file, part, msg.start, msg.start + msg.size);
  }

  private checkNotShared(msg: Message, part: string): void {
    if (msg.flags & 0x02) this.fail(part, 'shared object header messages are not read', 'unsupported');
  }

  // ----- datatypes, dataspaces, attributes ---------------------------------------------------

  datatype(c: ByteCursor, part: string): Hdf5Type {
    const classVersion = c.u8();
    const cls = classVersion & 0x0f;
    const b0 = c.u8();
    const b1 = c.u8();
    const b2 = c.u8();
    const size = c.u32();
    switch (cls) {
      case 0: {
        c.skip(4);
        if (![1, 2, 4, 8].includes(size)) this.fail(part, `integer type of ${size} bytes is not read`, 'unsupported');
        return { class: 'int', size, signed: (b0 & 0x08) !== 0, littleEndian: (b0 & 0x01) === 0 };
      }
      case 1: {
        c.skip(12);
        if (![2, 4, 8].includes(size)) this.fail(part, `float type of ${size} bytes is not read`, 'unsupported');
        if (b0 & 0x40) this.fail(part, 'VAX float byte order is not read', 'unsupported');
        return { class: 'float', size, littleEndian: (b0 & 0x01) === 0 };
      }
      case 3:
        return { class: 'string', size, padding: b0 & 0x0f, utf8: b0 >> 4 === 1 };
      case 8: {
        // Enum: h5py writes numpy bools as an enum of int8 with members FALSE = 0 and TRUE = 1.
        const version = classVersion >> 4;
        const members = b0 | (b1 << 8);
        void b2;
        const base = this.datatype(c, part);
        if (base.class !== 'int') return { class: 'other', size, name: 'enum' };
        const names: string[] = [];
        for (let i = 0; i < members && i < 1024; i++) {
          const start = c.pos;
          while (c.u8() !== 0);
          names.push(new TextDecoder('latin1').decode(c.bytes.subarray(start, c.pos - 1)));
          if (version < 3) c.pos = start + Math.ceil((c.pos - start) / 8) * 8;
        }
        const isBool = base.size === 1 && names.length === 2 && names[0] === 'FALSE' && names[1] === 'TRUE';
        return isBool ? { ...base, bool: true } : base;
      }
      case 9: {
        if ((b0 & 0x0f) === 1) return { class: 'vlen-string', size, utf8: (b1 & 0x0f) === 1 };
        return { class: 'other', size, name: 'variable-length sequence' };
      }
      default: {
        const names = [
          'integer',
          'float',
          'time',
          'string',
          'bitfield',
          'opaque',
          'compound',
          'reference',
          'enum',
          'variable-length',
          'array',
        ];
        return { class: 'other', size, name: names[cls] ?? `class ${cls}` };
      }
    }
  }

  /** A dataspace's dimensions (`[]` for a scalar, `undefined` for a null dataspace). */
  dataspace(c: ByteCursor, part: string): number[] | undefined {
    const version = c.u8();
    const rank = c.u8();
    const flags = c.u8();
    let isNull = false;
    if (version === 1) {
      c.skip(5);
    } else if (version === 2) {
      const type = c.u8();
      isNull = type === 2;
    } else {
      this.fail(part, `dataspace version ${version} is not read`, 'unsupported');
    }
    if (rank > 32) this.fail(part, `dataspace of rank ${rank}`);
    const dims: number[] = [];
    for (let i = 0; i < rank; i++) dims.push(this.length(c));
    if (flags & 0x01) for (let i = 0; i < rank; i++) this.length(c);
    if (isNull) return undefined;
    if (!dims.every((d) => Number.isSafeInteger(d)))
      this.fail(part, `dataspace dims ${formatShape(dims)} are out of range`);
    return dims;
  }

  /** Reads one global heap object (a vlen string's bytes). */
  heapObject(collection: number, index: number, part: string): Uint8Array {
    let objects = this.heapCache.get(collection);
    if (!objects) {
      objects = new Map();
      const c = this.cursor(collection, `${part} global heap`);
      if (!(c.u8() === 0x47 && c.u8() === 0x43 && c.u8() === 0x4f && c.u8() === 0x4c))
        this.fail(`${part} global heap`, `no GCOL signature at ${collection}`);
      c.skip(4);
      const size = this.length(c);
      const end = this.base + collection + size;
      if (!(end <= this.bytes.length))
        this.fail(`${part} global heap`, `collection of ${size} bytes runs past the end of the file`, 'truncated');
      const h = new ByteCursor(this.bytes, this.file, `${part} global heap`, c.pos, end);
      while (h.remaining >= 8 + this.lengthSize) {
        const id = h.u16();
        h.skip(6);
        const n = this.length(h);
        if (id === 0) break;
        const data = h.take(n, 'global heap object');
        h.skip(Math.min(h.remaining, (8 - (n % 8)) % 8));
        objects.set(id, data);
        if (objects.size > MAX_MESSAGES) this.fail(`${part} global heap`, 'too many objects', 'limit');
      }
      this.heapCache.set(collection, objects);
    }
    const obj = objects.get(index);
    if (!obj) this.fail(`${part} global heap`, `object ${index} is not in the collection at ${collection}`);
    return obj;
  }

  /** Decodes `count` elements of a type from `data` into numbers or strings. */
  decodeValues(type: Hdf5Type, data: Uint8Array, count: number, part: string): number[] | string[] {
    if (count * type.size > data.length)
      this.fail(
        part,
        `holds ${data.length} bytes, ${count} elements of ${type.size} bytes need ${count * type.size}`,
        'truncated',
      );
    if (type.class === 'int' || type.class === 'float')
      return Array.from(decodeElements(data, 0, count, numericDtype(type), type.littleEndian));
    if (type.class === 'string') {
      const out: string[] = [];
      const decoder = new TextDecoder(type.utf8 ? 'utf-8' : 'latin1');
      for (let i = 0; i < count; i++) {
        let s = data.subarray(i * type.size, (i + 1) * type.size);
        const nul = s.indexOf(0);
        if (nul >= 0) s = s.subarray(0, nul);
        let text = decoder.decode(s);
        if (type.padding === 2) text = text.replace(/ +$/, '');
        out.push(text);
      }
      return out;
    }
    if (type.class === 'vlen-string') {
      const out: string[] = [];
      const decoder = new TextDecoder(type.utf8 ? 'utf-8' : 'latin1');
      const c = new ByteCursor(data, this.file, part);
      for (let i = 0; i < count; i++) {
        c.pos = i * type.size;
        const length = c.u32();
        const collection = this.offset(c);
        const index = c.u32();
        if (length === 0 || collection < 0) {
          out.push('');
          continue;
        }
        const obj = this.heapObject(collection, index, part);
        if (length > obj.length) this.fail(part, `string of ${length} bytes in a heap object of ${obj.length}`);
        out.push(decoder.decode(obj.subarray(0, length)));
      }
      return out;
    }
    return this.fail(part, `${type.name} data is not read`, 'unsupported');
  }

  attributes(address: number, part: string): Map<string, () => Hdf5Value> {
    const out = new Map<string, () => Hdf5Value>();
    for (const msg of this.messages(address, part)) {
      if (msg.type === MSG_ATTRIBUTE_INFO) {
        const c = this.msgCursor(msg, `${part} attribute info`);
        c.u8();
        const flags = c.u8();
        if (flags & 1) c.skip(2);
        const heap = this.offset(c);
        if (heap >= 0)
          this.fail(
            part,
            'dense attribute storage (many or large attributes, libver="latest") is not read',
            'unsupported',
          );
        continue;
      }
      if (msg.type !== MSG_ATTRIBUTE) continue;
      this.checkNotShared(msg, `${part} attribute`);
      const c = this.msgCursor(msg, `${part} attribute`);
      const version = c.u8();
      if (version < 1 || version > 3)
        this.fail(`${part} attribute`, `attribute message version ${version} is not read`, 'unsupported');
      const flags = c.u8();
      if (flags & 0x03)
        this.fail(`${part} attribute`, 'attributes with shared datatypes or dataspaces are not read', 'unsupported');
      const nameSize = c.u16();
      const typeSize = c.u16();
      const spaceSize = c.u16();
      if (version === 3) c.u8();
      const pad = (n: number): number => (version === 1 ? Math.ceil(n / 8) * 8 : n);
      const nameBytes = c.take(pad(nameSize), 'attribute name');
      const nul = nameBytes.indexOf(0);
      const name = new TextDecoder('utf-8').decode(
        nameBytes.subarray(0, nul >= 0 ? Math.min(nul, nameSize) : nameSize),
      );
      const typeStart = c.pos;
      c.skip(pad(typeSize), 'attribute datatype');
      const spaceStart = c.pos;
      c.skip(pad(spaceSize), 'attribute dataspace');
      const dataStart = c.pos;
      const attrPart = `${part} attribute ${quote(name)}`;
      out.set(name, () => {
        const tc = new ByteCursor(this.bytes, this.file, attrPart, typeStart, typeStart + typeSize);
        const type = this.datatype(tc, attrPart);
        const sc = new ByteCursor(this.bytes, this.file, attrPart, spaceStart, spaceStart + spaceSize);
        const shape = this.dataspace(sc, attrPart);
        if (!shape) return { shape: [0], values: [] };
        const count = checkedProduct(shape);
        if (count === undefined || count * type.size > msg.start + msg.size - dataStart) {
          this.fail(attrPart, `shape ${formatShape(shape)} does not fit in the message`, 'truncated');
        }
        const data = this.bytes.subarray(dataStart, msg.start + msg.size);
        return { shape, values: this.decodeValues(type, data, count, attrPart) };
      });
    }
    return out;
  }

  // ----- groups ------------------------------------------------------------------------------

  group(address: number, path: string): Hdf5Group {
    let members: Map<string, number> | undefined;
    let attrs: Map<string, () => Hdf5Value> | undefined;
    const load = (): Map<string, number> => {
      if (!members) members = this.groupMembers(address, path);
      return members;
    };
    const loadAttrs = (): Map<string, () => Hdf5Value> => {
      if (!attrs) attrs = this.attributes(address, path);
      return attrs;
    };
    const child = (name: string): Hdf5Group | Hdf5Dataset | undefined => {
      const at = load().get(name);
      if (at === undefined) return undefined;
      const childPath = path === '/' ? `/${name}` : `${path}/${name}`;
      return this.object(at, childPath);
    };
    return {
      kind: 'group',
      path,
      names: () => [...load().keys()],
      get: child,
      attribute: (name) => loadAttrs().get(name)?.(),
      attributeNames: () => [...loadAttrs().keys()],
    };
  }

  object(address: number, path: string): Hdf5Group | Hdf5Dataset {
    const msgs = this.messages(address, path);
    const isDataset = msgs.some((m) => m.type === MSG_LAYOUT);
    return isDataset ? this.dataset(address, path, msgs) : this.group(address, path);
  }

  groupMembers(address: number, path: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const msg of this.messages(address, path)) {
      if (msg.type === MSG_SYMBOL_TABLE) {
        const c = this.msgCursor(msg, `${path} symbol table`);
        const btree = this.offset(c);
        const heap = this.offset(c);
        this.symbolTable(btree, heap, path, out);
      } else if (msg.type === MSG_LINK) {
        const [name, target] = this.link(msg, path);
        if (target !== undefined) out.set(name, target);
      } else if (msg.type === MSG_LINK_INFO) {
        const c = this.msgCursor(msg, `${path} link info`);
        c.u8();
        const flags = c.u8();
        if (flags & 1) c.skip(8);
        const heap = this.offset(c);
        if (heap >= 0)
          this.fail(
            path,
            'dense link storage (a group with many members written with libver="latest") is not read',
            'unsupported',
          );
      }
    }
    return out;
  }

  private link(msg: Message, path: string): [string, number | undefined] {
    const c = this.msgCursor(msg, `${path} link`);
    if (c.u8() !== 1) this.fail(`${path} link`, 'link message version is not 1', 'unsupported');
    const flags = c.u8();
    const type = flags & 0x08 ? c.u8() : 0;
    if (flags & 0x04) c.skip(8);
    if (flags & 0x10) c.u8();
    const nameLength = c.uintN(1 << (flags & 3));
    const name = new TextDecoder('utf-8').decode(c.take(nameLength, 'link name'));
    if (type === 0) return [name, this.offset(c)];
    return [name, undefined]; // soft and external links are not followed
  }

  private symbolTable(btree: number, heap: number, path: string, out: Map<string, number>): void {
    const part = `${path} symbol table`;
    const h = this.cursor(heap, `${part} local heap`);
    if (!(h.u8() === 0x48 && h.u8() === 0x45 && h.u8() === 0x41 && h.u8() === 0x50))
      this.fail(part, `no HEAP signature at ${heap}`);
    h.skip(4);
    const heapSize = this.length(h);
    this.length(h);
    const heapData = this.offset(h);
    const hd = this.cursor(heapData, `${part} local heap data`);
    hd.need(heapSize, 'local heap data');
    const names = this.bytes.subarray(hd.pos, hd.pos + heapSize);
    const nameAt = (offset: number): string => {
      if (!(offset >= 0 && offset < names.length)) this.fail(part, `link name offset ${offset} is outside the heap`);
      const end = names.indexOf(0, offset);
      return new TextDecoder('utf-8').decode(names.subarray(offset, end < 0 ? names.length : end));
    };
    const nodes = this.btreeV1(btree, 0, part);
    for (const snod of nodes.children) {
      const s = this.cursor(snod, `${part} symbol node`);
      if (!(s.u8() === 0x53 && s.u8() === 0x4e && s.u8() === 0x4f && s.u8() === 0x44))
        this.fail(part, `no SNOD signature at ${snod}`);
      s.skip(2);
      const count = s.u16();
      for (let i = 0; i < count; i++) {
        const nameOffset = this.offset(s);
        const objectAddress = this.offset(s);
        s.skip(24);
        out.set(nameAt(nameOffset), objectAddress);
      }
    }
  }

  /**
   * Walks a v1 B-tree (type 0: groups, type 1: chunks); returns its level-0 children and, for
   * chunk trees, their keys. Iterative, with a visited set.
   */
  btreeV1(
    address: number,
    type: number,
    part: string,
    rank = 0,
  ): { children: number[]; keys: { size: number; mask: number; offsets: number[] }[] } {
    const children: number[] = [];
    const keys: { size: number; mask: number; offsets: number[] }[] = [];
    const stack: { at: number; depth: number }[] = [{ at: address, depth: 0 }];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const { at, depth } = stack.pop()!;
      if (seen.has(at)) this.fail(part, `B-tree node at ${at} is reached twice (a cycle)`);
      seen.add(at);
      if (seen.size > MAX_NODES || depth > MAX_BTREE_DEPTH) this.fail(part, 'B-tree is too large or too deep', 'limit');
      const c = this.cursor(at, `${part} B-tree`);
      if (!(c.u8() === 0x54 && c.u8() === 0x52 && c.u8() === 0x45 && c.u8() === 0x45))
        this.fail(part, `no TREE signature at ${at}`);
      const nodeType = c.u8();
      if (nodeType !== type) this.fail(part, `B-tree node type ${nodeType}, expected ${type}`);
      const level = c.u8();
      const entries = c.u16();
      this.offset(c);
      this.offset(c);
      const kids: number[] = [];
      const readKey = (): { size: number; mask: number; offsets: number[] } | undefined => {
        if (type === 0) {
          this.length(c);
          return undefined;
        }
        const size = c.u32();
        const mask = c.u32();
        const offsets: number[] = [];
        for (let d = 0; d < rank; d++) offsets.push(c.u64());
        return { size, mask, offsets };
      };
      for (let i = 0; i < entries; i++) {
        const key = readKey();
        const child = this.offset(c);
        if (level === 0) {
          children.push(child);
          if (key) keys.push(key);
        } else kids.push(child);
      }
      readKey();
      if (level > 0) {
        for (let i = kids.length - 1; i >= 0; i--) stack.push({ at: kids[i], depth: depth + 1 });
      }
    }
    return { children, keys };
  }

  // ----- datasets ----------------------------------------------------------------------------

  dataset(address: number, path: string, msgs: Message[]): Hdf5Dataset {
    let type: Hdf5Type | undefined;
    let shape: number[] | undefined;
    let layout: Layout | undefined;
    let filters: Filter[] = [];
    let fill: Uint8Array | undefined;
    for (const msg of msgs) {
      const part = path;
      if (msg.type === MSG_DATATYPE) {
        this.checkNotShared(msg, `${path} datatype`);
        type = this.datatype(this.msgCursor(msg, `${path} datatype`), `${path} datatype`);
      } else if (msg.type === MSG_DATASPACE) {
        this.checkNotShared(msg, `${path} dataspace`);
        shape = this.dataspace(this.msgCursor(msg, `${path} dataspace`), `${path} dataspace`) ?? [0];
      } else if (msg.type === MSG_LAYOUT) layout = this.layout(msg, part);
      else if (msg.type === MSG_FILTERS) filters = this.filters(msg, part);
      else if (msg.type === MSG_FILL) fill = this.fillValue(msg, part);
      else if (msg.type === MSG_FILL_OLD && !fill) {
        const c = this.msgCursor(msg, `${path} fill value`);
        const n = c.u32();
        if (n > 0) fill = c.take(n, 'fill value');
      }
    }
    if (!type || !shape || !layout) this.fail(path, 'dataset without a datatype, dataspace or layout');
    const t = type;
    const s = shape;
    const l = layout;
    let attrs: Map<string, () => Hdf5Value> | undefined;
    const loadAttrs = (): Map<string, () => Hdf5Value> => {
      if (!attrs) attrs = this.attributes(address, path);
      return attrs;
    };
    const raw = (): Uint8Array => this.datasetBytes(t, s, l, filters, fill, path);
    return {
      kind: 'dataset',
      path,
      shape: s,
      type: t,
      attribute: (name) => loadAttrs().get(name)?.(),
      attributeNames: () => [...loadAttrs().keys()],
      read: () => {
        if (t.class !== 'int' && t.class !== 'float')
          this.fail(path, `${t.class === 'other' ? t.name : t.class} data is not numeric`, 'unsupported');
        const count = checkedProduct(s)!;
        const dtype = numericDtype(t);
        return {
          shape: s.slice(),
          dtype,
          data: decodeElements(raw(), 0, count, dtype, (t as { littleEndian: boolean }).littleEndian),
        };
      },
      readStrings: () => {
        const count = checkedProduct(s)!;
        const values = this.decodeValues(t, raw(), count, path);
        if (values.some((v) => typeof v !== 'string')) this.fail(path, 'data is not strings', 'unsupported');
        return values as string[];
      },
    };
  }

  private layout(msg: Message, part: string): Layout {
    const c = this.msgCursor(msg, `${part} layout`);
    const version = c.u8();
    if (version === 1 || version === 2) {
      const rank = c.u8();
      const cls = c.u8();
      c.skip(5);
      const address = cls === 0 ? 0 : this.offset(c);
      const dims: number[] = [];
      for (let i = 0; i < rank; i++) dims.push(c.u32());
      if (cls === 2) {
        c.u32();
        return { kind: 'chunked', address, size: 0, chunk: dims };
      }
      if (cls === 0) {
        const n = c.u32();
        return { kind: 'compact', address: 0, size: n, data: c.take(n, 'compact data') };
      }
      return { kind: 'contiguous', address, size: -1 };
    }
    if (version === 3 || version === 4) {
      const cls = c.u8();
      if (cls === 0) {
        const n = c.u16();
        return { kind: 'compact', address: 0, size: n, data: c.take(n, 'compact data') };
      }
      if (cls === 1) {
        const address = this.offset(c);
        const size = this.length(c);
        return { kind: 'contiguous', address, size };
      }
      if (cls === 2 && version === 3) {
        const rank = c.u8();
        const address = this.offset(c);
        const dims: number[] = [];
        for (let i = 0; i < rank; i++) dims.push(c.u32());
        return { kind: 'chunked', address, size: 0, chunk: dims };
      }
      if (cls === 2) {
        const flags = c.u8();
        const rank = c.u8();
        const width = c.u8();
        if (width < 1 || width > 8) this.fail(`${part} layout`, `chunk dimension width ${width}`);
        const dims: number[] = [];
        for (let i = 0; i < rank; i++) dims.push(c.uintN(width));
        const index = c.u8();
        if (index === 1) {
          let filteredSize: number | undefined;
          if (flags & 0x02) {
            filteredSize = this.length(c);
            c.u32();
          }
          return { kind: 'single-chunk', address: this.offset(c), size: 0, chunk: dims, filteredSize };
        }
        if (index === 2) return { kind: 'implicit', address: this.offset(c), size: 0, chunk: dims };
        const names: Record<number, string> = { 3: 'fixed array', 4: 'extensible array', 5: 'version 2 B-tree' };
        return this.fail(
          `${part} layout`,
          `chunk index "${names[index] ?? index}" (libver="latest") is not read; rewrite the file with h5py's default libver`,
          'unsupported',
        );
      }
      return this.fail(`${part} layout`, `layout class ${cls} is not read`, 'unsupported');
    }
    return this.fail(`${part} layout`, `layout message version ${version} is not read`, 'unsupported');
  }

  private filters(msg: Message, part: string): Filter[] {
    const c = this.msgCursor(msg, `${part} filter pipeline`);
    const version = c.u8();
    const count = c.u8();
    if (version === 1) c.skip(6);
    else if (version !== 2) this.fail(`${part} filter pipeline`, `version ${version} is not read`, 'unsupported');
    const out: Filter[] = [];
    for (let i = 0; i < count; i++) {
      const id = c.u16();
      const nameLength = version === 1 || id >= 256 ? c.u16() : 0;
      const flags = c.u16();
      const n = c.u16();
      const nameBytes = c.take(version === 1 ? Math.ceil(nameLength / 8) * 8 : nameLength, 'filter name');
      const nul = nameBytes.indexOf(0);
      const name = new TextDecoder('latin1').decode(nameBytes.subarray(0, nul >= 0 ? nul : nameBytes.length));
      const values: number[] = [];
      for (let k = 0; k < n; k++) values.push(c.u32());
      if (version === 1 && n % 2 === 1) c.skip(4);
      out.push({ id, name, values, optional: (flags & 1) !== 0 });
    }
    for (const f of out) {
      if (![1, 2, 3].includes(f.id)) {
        this.fail(
          part,
          `filter ${f.id}${f.name ? ` (${f.name})` : ''} is not read (deflate, shuffle and fletcher32 are)`,
          'unsupported',
        );
      }
    }
    return out;
  }

  private fillValue(msg: Message, part: string): Uint8Array | undefined {
    const c = this.msgCursor(msg, `${part} fill value`);
    const version = c.u8();
    if (version === 1 || version === 2) {
      c.skip(2);
      const defined = c.u8();
      if (version === 1 || defined) {
        const n = c.u32();
        return n > 0 ? c.take(n, 'fill value') : undefined;
      }
      return undefined;
    }
    if (version === 3) {
      const flags = c.u8();
      if (flags & 0x20) {
        const n = c.u32();
        return n > 0 ? c.take(n, 'fill value') : undefined;
      }
      return undefined;
    }
    return this.fail(`${part} fill value`, `version ${version} is not read`, 'unsupported');
  }

  private datasetBytes(
    type: Hdf5Type,
    shape: number[],
    layout: Layout,
    filters: Filter[],
    fill: Uint8Array | undefined,
    path: string,
  ): Uint8Array {
    const count = checkedProduct(shape);
    const size = type.size;
    if (count === undefined || count * size > this.maxBytes || count * 8 > this.maxBytes) {
      this.fail(path, `shape ${formatShape(shape)} is over the limit of ${this.maxBytes} bytes`, 'limit');
    }
    const total = count * size;
    if (layout.kind === 'compact') {
      if (layout.data!.length < total)
        this.fail(
          path,
          `compact data holds ${layout.data!.length} bytes, shape ${formatShape(shape)} needs ${total}`,
          'truncated',
        );
      return layout.data!.subarray(0, total);
    }
    if (layout.kind === 'contiguous') {
      if (layout.address < 0) return this.filled(total, size, fill);
      if (layout.size >= 0 && layout.size < total)
        this.fail(
          path,
          `contiguous data holds ${layout.size} bytes, shape ${formatShape(shape)} needs ${total}`,
          'truncated',
        );
      const c = this.cursor(layout.address, `${path} data`);
      return c.take(total, 'dataset data');
    }
    // Chunked: assemble chunk by chunk into a buffer of the whole dataset.
    const chunk = layout.chunk!;
    const rank = shape.length;
    const chunkDims = layout.kind === 'chunked' ? chunk.slice(0, rank) : chunk.slice(0, rank);
    if (chunkDims.length !== rank || chunkDims.some((d) => !(d > 0)))
      this.fail(path, `chunk dims ${formatShape(chunk)} do not match rank ${rank}`);
    const chunkCount = checkedProduct(chunkDims)!;
    const chunkBytes = chunkCount * size;
    if (chunkBytes > this.maxBytes) this.fail(path, `chunks of ${chunkBytes} bytes are over the limit`, 'limit');
    const out = this.filled(total, size, fill);
    const place = (data: Uint8Array, offsets: number[]): void =>
      this.placeChunk(out, data, offsets, shape, chunkDims, size, path);
    if (layout.kind === 'single-chunk') {
      if (layout.address < 0) return out;
      const stored = layout.filteredSize ?? chunkBytes;
      const raw = this.cursor(layout.address, `${path} chunk`).take(stored, 'chunk');
      place(this.unfilter(raw, filters, 0, chunkBytes, size, path), new Array<number>(rank).fill(0));
      return out;
    }
    if (layout.kind === 'implicit') {
      if (layout.address < 0) return out;
      const perDim = shape.map((d, i) => Math.ceil(d / chunkDims[i]));
      const n = checkedProduct(perDim)!;
      const c = this.cursor(layout.address, `${path} chunks`);
      c.need(n * chunkBytes, 'implicit chunks');
      const index = new Array<number>(rank).fill(0);
      for (let k = 0; k < n; k++) {
        place(
          c.take(chunkBytes),
          index.map((v, i) => v * chunkDims[i]),
        );
        for (let d = rank - 1; d >= 0; d--) {
          if (++index[d] < perDim[d]) break;
          index[d] = 0;
        }
      }
      return out;
    }
    if (layout.address < 0) return out;
    const { children, keys } = this.btreeV1(layout.address, 1, `${path} chunk index`, rank + 1);
    const maxChunks = checkedProduct(shape.map((d, i) => Math.ceil(d / chunkDims[i])))!;
    if (children.length > maxChunks)
      this.fail(path, `${children.length} chunks, at most ${maxChunks} fit shape ${formatShape(shape)}`);
    children.forEach((at, i) => {
      const key = keys[i];
      const offsets = key.offsets.slice(0, rank);
      offsets.forEach((o, d) => {
        if (!(o < shape[d] || shape[d] === 0) || o % chunkDims[d] !== 0)
          this.fail(path, `chunk offset ${formatShape(offsets)} is outside shape ${formatShape(shape)}`);
      });
      const raw = this.cursor(at, `${path} chunk`).take(key.size, 'chunk');
      place(this.unfilter(raw, filters, key.mask, chunkBytes, size, path), offsets);
    });
    return out;
  }

  private filled(total: number, size: number, fill: Uint8Array | undefined): Uint8Array {
    const out = new Uint8Array(total);
    if (fill && fill.length === size && fill.some((b) => b !== 0))
      for (let i = 0; i < total; i += size) out.set(fill, i);
    return out;
  }

  private unfilter(
    raw: Uint8Array,
    filters: Filter[],
    mask: number,
    expected: number,
    size: number,
    path: string,
  ): Uint8Array {
    let data = raw;
    for (let i = filters.length - 1; i >= 0; i--) {
      if (mask & (1 << i)) continue;
      const f = filters[i];
      if (f.id === 1) {
        const buffer = new Uint8Array(expected + 1);
        let produced: Uint8Array;
        try {
          produced = unzlibSync(data, { out: buffer });
        } catch (err) {
          return this.fail(path, `deflate data is invalid (${err instanceof Error ? err.message : String(err)})`);
        }
        if (produced.length > expected) this.fail(path, `a chunk inflates to more than ${expected} bytes`);
        data = produced;
      } else if (f.id === 2) {
        const n = Math.floor(data.length / size);
        const out = new Uint8Array(data.length);
        for (let b = 0; b < size; b++) for (let k = 0; k < n; k++) out[k * size + b] = data[b * n + k];
        out.set(data.subarray(n * size), n * size);
        data = out;
      } else if (f.id === 3) {
        if (data.length < 4) this.fail(path, 'fletcher32 chunk shorter than its checksum');
        data = data.subarray(0, data.length - 4);
      }
    }
    if (data.length < expected)
      this.fail(path, `a chunk holds ${data.length} bytes, ${expected} expected`, 'truncated');
    return data;
  }

  private placeChunk(
    out: Uint8Array,
    data: Uint8Array,
    offsets: number[],
    shape: number[],
    chunk: number[],
    size: number,
    path: string,
  ): void {
    const rank = shape.length;
    if (rank === 0) {
      out.set(data.subarray(0, size));
      return;
    }
    void path;
    // Copy row by row along the last dimension.
    const rowLength = Math.min(chunk[rank - 1], shape[rank - 1] - offsets[rank - 1]);
    if (rowLength <= 0) return;
    const index = new Array<number>(rank - 1).fill(0);
    const extent = chunk.slice(0, rank - 1).map((c, d) => Math.min(c, shape[d] - offsets[d]));
    if (extent.some((e) => e <= 0)) return;
    for (;;) {
      let src = 0;
      let dst = 0;
      for (let d = 0; d < rank - 1; d++) {
        src = src * chunk[d] + index[d];
        dst = dst * shape[d] + offsets[d] + index[d];
      }
      src = src * chunk[rank - 1];
      dst = dst * shape[rank - 1] + offsets[rank - 1];
      out.set(data.subarray(src * size, (src + rowLength) * size), dst * size);
      let d = rank - 2;
      for (; d >= 0; d--) {
        if (++index[d] < extent[d]) break;
        index[d] = 0;
      }
      if (d < 0) break;
    }
  }
}

function numericDtype(type: Hdf5Type): TensorDtype {
  if (type.class === 'int' && type.bool) return 'bool';
  if (type.class === 'float') return type.size === 8 ? 'float64' : type.size === 4 ? 'float32' : 'float16';
  if (type.class === 'int') {
    const map: Record<number, [TensorDtype, TensorDtype]> = {
      1: ['int8', 'uint8'],
      2: ['int16', 'uint16'],
      4: ['int32', 'uint32'],
      8: ['int64', 'uint64'],
    };
    return map[type.size][type.signed ? 0 : 1];
  }
  return 'float64';
}
