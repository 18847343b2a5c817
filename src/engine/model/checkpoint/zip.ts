// A zip reader for checkpoints (torch.save archives, np.savez files, .keras files): the central
// directory (zip64 included), stored and deflate members, every size and offset checked against the
// bytes present and against limits before anything is allocated or inflated (zip bombs), and the
// CRC-32 of every member checked. Inflate is fflate's (small, dependency-free, widely used).
import { inflateSync } from 'fflate';
import { ByteCursor, latin1, quote, utf8 } from './bytes';
import { CheckpointError, DEFAULT_MAX_BYTES } from './types';

/** One member of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; anything else is refused when read. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** An opened archive: its members by name, and a checked `read`. */
export interface ZipArchive {
  readonly file: string;
  readonly entries: readonly ZipEntry[];
  has(name: string): boolean;
  /** The member's bytes (stored members are views of the archive, not copies). */
  read(name: string): Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
/** Deflate cannot expand by more than about 1032:1; a larger declared ratio is a lie. */
const MAX_DEFLATE_RATIO = 1032;

/** True when the bytes start like a zip archive (a local header or an empty archive). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Finds the end-of-central-directory record: the last signature whose comment reaches the end. */
function findEocd(bytes: Uint8Array): number {
  const last = bytes.length - 22;
  const first = Math.max(0, last - 0xffff);
  let fallback = -1;
  for (let p = last; p >= first; p--) {
    if (bytes[p] === 0x50 && bytes[p + 1] === 0x4b && bytes[p + 2] === 5 && bytes[p + 3] === 6) {
      const commentLength = bytes[p + 20] | (bytes[p + 21] << 8);
      if (p + 22 + commentLength === bytes.length) return p;
      if (fallback < 0) fallback = p;
    }
  }
  return fallback;
}

/** Options of `openZip`. */
export interface ZipOptions {
  fileName?: string;
  /** Largest uncompressed member, and largest total inflated by one archive. Default 1 GiB. */
  maxBytes?: number;
  /** Check CRC-32 of members when read. Default true. */
  verifyCrc?: boolean;
}

/** Parses the central directory. Throws `CheckpointError` on anything inconsistent. */
export function openZip(bytes: Uint8Array, options: ZipOptions = {}): ZipArchive {
  const file = options.fileName ?? 'zip';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const verifyCrc = options.verifyCrc ?? true;
  const fail = (kind: 'truncated' | 'corrupt' | 'unsupported' | 'limit', part: string, detail: string): never => {
    throw new CheckpointError(kind, file, part, detail);
  };
  if (bytes.length < 22) fail('truncated', 'zip', `${bytes.length} bytes is too short for a zip archive`);
  const eocd = findEocd(bytes);
  if (eocd < 0) fail('corrupt', 'zip', 'no end-of-central-directory record (truncated or not a zip archive)');
  const c = new ByteCursor(bytes, file, 'zip end of central directory', eocd + 4);
  const disk = c.u16();
  const cdDisk = c.u16();
  c.u16();
  let count = c.u16();
  let cdSize = c.u32();
  let cdOffset = c.u32();
  if (disk !== 0 && disk !== 0xffff) fail('unsupported', 'zip', 'multi-disk archives are not read');
  if (cdDisk !== 0 && cdDisk !== 0xffff) fail('unsupported', 'zip', 'multi-disk archives are not read');
  const locator = eocd - 20;
  if (
    locator >= 0 &&
    new DataView(bytes.buffer, bytes.byteOffset + locator, 4).getUint32(0, true) === SIG_EOCD64_LOCATOR
  ) {
    const l = new ByteCursor(bytes, file, 'zip64 end of central directory locator', locator + 8);
    const recordOffset = l.u64();
    if (recordOffset > locator - 56)
      fail('corrupt', 'zip64 end of central directory', `offset ${recordOffset} is out of range`);
    const r = new ByteCursor(bytes, file, 'zip64 end of central directory', recordOffset);
    if (r.u32() !== SIG_EOCD64) fail('corrupt', 'zip64 end of central directory', 'bad signature');
    r.skip(8 + 2 + 2 + 4 + 4 + 8);
    const total = r.u64();
    const size = r.u64();
    const offset = r.u64();
    if (count === 0xffff || total !== count) count = total;
    if (cdSize === 0xffffffff || size !== cdSize) cdSize = size;
    if (cdOffset === 0xffffffff || offset !== cdOffset) cdOffset = offset;
  }
  if (!(cdOffset + cdSize <= eocd)) {
    fail(
      'corrupt',
      'zip central directory',
      `offset ${cdOffset} + size ${cdSize} runs past the directory's end (${eocd})`,
    );
  }
  if (count > cdSize / 46) fail('corrupt', 'zip central directory', `${count} entries cannot fit in ${cdSize} bytes`);
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  const d = new ByteCursor(bytes, file, 'zip central directory', cdOffset, cdOffset + cdSize);
  for (let i = 0; i < count; i++) {
    d.part = `zip central directory entry ${i}`;
    if (d.u32() !== SIG_CENTRAL) fail('corrupt', d.part, 'bad signature');
    d.skip(4);
    const flags = d.u16();
    const method = d.u16();
    d.skip(4);
    const crc = d.u32();
    let compressedSize = d.u32();
    let uncompressedSize = d.u32();
    const nameLength = d.u16();
    const extraLength = d.u16();
    const commentLength = d.u16();
    const diskStart = d.u16();
    d.skip(6);
    let localHeaderOffset = d.u32();
    const rawName = d.take(nameLength, 'name');
    const name = flags & 0x800 ? utf8(rawName, file, d.part) : latin1(rawName);
    d.part = `zip member ${quote(name)}`;
    const extraEnd = d.pos + extraLength;
    d.need(extraLength, 'extra field');
    while (d.pos + 4 <= extraEnd) {
      const id = d.u16();
      const size = d.u16();
      if (d.pos + size > extraEnd) fail('corrupt', d.part, 'extra field runs past its end');
      if (id === 0x0001) {
        const z = new ByteCursor(bytes, file, `${d.part} zip64 extra field`, d.pos, d.pos + size);
        if (uncompressedSize === 0xffffffff) uncompressedSize = z.u64();
        if (compressedSize === 0xffffffff) compressedSize = z.u64();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = z.u64();
      }
      d.pos += size;
    }
    d.pos = extraEnd;
    d.skip(commentLength, 'comment');
    if (diskStart !== 0 && diskStart !== 0xffff) fail('unsupported', d.part, 'multi-disk archives are not read');
    if (byName.has(name)) fail('corrupt', d.part, 'the name occurs twice in the central directory');
    const entry: ZipEntry = { name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset };
    entries.push(entry);
    byName.set(name, entry);
  }
  const read = memberReader(bytes, byName, file, maxBytes, verifyCrc);
  return { file, entries, has: (name) => byName.has(name), read };
}

/** Reads members of an archive: checked headers and sizes, limits before inflating, CRC-32. */
function memberReader(
  bytes: Uint8Array,
  byName: Map<string, ZipEntry>,
  file: string,
  maxBytes: number,
  verifyCrc: boolean,
): (name: string) => Uint8Array {
  const fail = (kind: 'truncated' | 'corrupt' | 'unsupported' | 'limit', part: string, detail: string): never => {
    throw new CheckpointError(kind, file, part, detail);
  };
  const cache = new Map<string, Uint8Array>();
  let inflated = 0;

  return (name: string): Uint8Array => {
    const cached = cache.get(name);
    if (cached) return cached;
    const entry = byName.get(name);
    const part = `zip member ${quote(name)}`;
    if (!entry) return fail('corrupt', part, 'not in the archive');
    if (entry.flags & 1) fail('unsupported', part, 'encrypted members are not read');
    if (entry.method !== 0 && entry.method !== 8) {
      fail('unsupported', part, `compression method ${entry.method} is not read (only stored and deflate)`);
    }
    const h = new ByteCursor(bytes, file, `${part} local header`, entry.localHeaderOffset);
    if (h.u32() !== SIG_LOCAL)
      fail('corrupt', `${part} local header`, `no local header at offset ${entry.localHeaderOffset}`);
    h.skip(22);
    const localNameLength = h.u16();
    const localExtraLength = h.u16();
    h.skip(localNameLength + localExtraLength, 'local name and extra field');
    const start = h.pos;
    if (!(entry.compressedSize <= bytes.length - start)) {
      fail(
        'truncated',
        part,
        `${entry.compressedSize} compressed bytes declared, ${Math.max(0, bytes.length - start)} present`,
      );
    }
    const raw = bytes.subarray(start, start + entry.compressedSize);
    let out: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        fail(
          'corrupt',
          part,
          `stored member declares ${entry.compressedSize} bytes stored but ${entry.uncompressedSize} uncompressed`,
        );
      }
      out = raw;
    } else {
      const size = entry.uncompressedSize;
      if (size > maxBytes) fail('limit', part, `declares ${size} uncompressed bytes, over the limit of ${maxBytes}`);
      if (size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
        fail(
          'corrupt',
          part,
          `declares ${size} bytes from ${entry.compressedSize} compressed: more than deflate can produce`,
        );
      }
      if (inflated + size > maxBytes) {
        fail('limit', part, `inflating it would take the archive past ${maxBytes} bytes in total`);
      }
      // One byte of headroom: output that fills it means the stream inflates to more than declared.
      const buffer = new Uint8Array(size + 1);
      let produced: Uint8Array;
      try {
        produced = inflateSync(raw, { out: buffer });
      } catch (err) {
        return fail('corrupt', part, `deflate data is invalid (${err instanceof Error ? err.message : String(err)})`);
      }
      if (produced.length !== size) {
        fail(
          'corrupt',
          part,
          `inflates to ${produced.length > size ? 'more than' : produced.length} bytes, ${size} declared`,
        );
      }
      out = produced.subarray(0, size);
      inflated += size;
      cache.set(name, out);
    }
    if (verifyCrc && crc32(out) !== entry.crc32)
      fail('corrupt', part, 'CRC-32 does not match (the member is corrupted)');
    return out;
  };
}
