// A tiny WebAssembly binary assembler: just enough to emit the GEMM kernels from TypeScript at runtime,
// so the repository needs no wasm toolchain and commits no binary blobs. Covers the MVP core used by the
// kernels plus the fixed-width SIMD (0xfd-prefixed) opcodes listed in `Simd` below.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

export function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

export function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function utf8(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** SIMD opcodes (after the 0xfd prefix). */
export const Simd = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_load64_splat: 0x0a,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  f32x4_add: 0xe4,
  f32x4_mul: 0xe6,
  f64x2_add: 0xf0,
  f64x2_sub: 0xf1,
  f64x2_mul: 0xf2,
  f64x2_promote_low_f32x4: 0x5f,
  f64x2_extract_lane: 0x21,
  f64x2_abs: 0xec,
  f64x2_pmax: 0xf7,
  f64x2_max: 0xf5,
  f64x2_lt: 0x49,
  v128_and: 0x4e,
  v128_andnot: 0x4f,
  f32x4_demote_f64x2_zero: 0x5e,
  v128_store32_lane: 0x5a,
  v128_store64_lane: 0x5b,
  v128_load64_lane: 0x57,
  f64x2_replace_lane: 0x22,
  i64x2_splat: 0x12,
  i64x2_replace_lane: 0x1e,
  f32x4_relaxed_madd: 0x105,
  f64x2_relaxed_madd: 0x107,
} as const;

/** Builds one function body. Locals are addressed by index; params come first. */
export class FnBuilder {
  readonly code: number[] = [];
  private readonly extraLocals: ValType[] = [];

  constructor(
    readonly params: ValType[],
    readonly results: ValType[] = [],
  ) {}

  local(type: ValType): number {
    this.extraLocals.push(type);
    return this.params.length + this.extraLocals.length - 1;
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private memarg(alignLog2: number, offset: number): void {
    uleb(this.code, alignLog2);
    uleb(this.code, offset);
  }

  // control
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if_(): this {
    return this.op(0x04, 0x40);
  }
  else_(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    this.op(0x0c);
    uleb(this.code, depth);
    return this;
  }
  brIf(depth: number): this {
    this.op(0x0d);
    uleb(this.code, depth);
    return this;
  }
  return_(): this {
    return this.op(0x0f);
  }
  drop(): this {
    return this.op(0x1a);
  }
  call(fn: number): this {
    this.op(0x10);
    uleb(this.code, fn);
    return this;
  }

  // locals
  get(i: number): this {
    this.op(0x20);
    uleb(this.code, i);
    return this;
  }
  set(i: number): this {
    this.op(0x21);
    uleb(this.code, i);
    return this;
  }
  tee(i: number): this {
    this.op(0x22);
    uleb(this.code, i);
    return this;
  }

  // i32
  i32(v: number): this {
    this.op(0x41);
    sleb(this.code, v);
    return this;
  }
  i32eqz(): this {
    return this.op(0x45);
  }
  i32ltU(): this {
    return this.op(0x49);
  }
  i32ltS(): this {
    return this.op(0x48);
  }
  i32gtS(): this {
    return this.op(0x4a);
  }
  i32geS(): this {
    return this.op(0x4e);
  }
  i32geU(): this {
    return this.op(0x4f);
  }
  i32add(): this {
    return this.op(0x6a);
  }
  i32sub(): this {
    return this.op(0x6b);
  }
  i32mul(): this {
    return this.op(0x6c);
  }
  i32shl(): this {
    return this.op(0x74);
  }
  i32shrU(): this {
    return this.op(0x76);
  }
  select(): this {
    return this.op(0x1b);
  }
  i32wrapI64(): this {
    return this.op(0xa7);
  }

  // i64 (bit manipulation of float64)
  i64(v: number): this {
    this.op(0x42);
    sleb(this.code, v);
    return this;
  }
  i64ne(): this {
    return this.op(0x52);
  }
  i64shl(): this {
    return this.op(0x86);
  }
  i64shrU(): this {
    return this.op(0x88);
  }
  i64extendI32U(): this {
    return this.op(0xad);
  }
  i64reinterpretF64(): this {
    return this.op(0xbd);
  }
  f64reinterpretI64(): this {
    return this.op(0xbf);
  }

  // scalar memory / float
  f32load(offset = 0): this {
    this.op(0x2a);
    this.memarg(2, offset);
    return this;
  }
  f64load(offset = 0): this {
    this.op(0x2b);
    this.memarg(3, offset);
    return this;
  }
  f32store(offset = 0): this {
    this.op(0x38);
    this.memarg(2, offset);
    return this;
  }
  f64store(offset = 0): this {
    this.op(0x39);
    this.memarg(3, offset);
    return this;
  }
  f64const0(): this {
    return this.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0);
  }
  f64const(v: number): this {
    const bytes = new Uint8Array(new Float64Array([v]).buffer);
    return this.op(0x44, ...bytes);
  }
  f64abs(): this {
    return this.op(0x99);
  }
  f64add(): this {
    return this.op(0xa0);
  }
  f64sub(): this {
    return this.op(0xa1);
  }
  f64mul(): this {
    return this.op(0xa2);
  }
  f64div(): this {
    return this.op(0xa3);
  }
  f64max(): this {
    return this.op(0xa5);
  }
  f64sqrt(): this {
    return this.op(0x9f);
  }
  f64eq(): this {
    return this.op(0x61);
  }
  f64lt(): this {
    return this.op(0x63);
  }
  f64gt(): this {
    return this.op(0x64);
  }
  f32demoteF64(): this {
    return this.op(0xb6);
  }

  // simd
  simd(opcode: number): this {
    this.op(0xfd);
    uleb(this.code, opcode);
    return this;
  }
  v128load(offset = 0): this {
    this.simd(Simd.v128_load);
    this.memarg(4, offset);
    return this;
  }
  v128store(offset = 0): this {
    this.simd(Simd.v128_store);
    this.memarg(4, offset);
    return this;
  }
  load64Splat(offset = 0): this {
    this.simd(Simd.v128_load64_splat);
    this.memarg(3, offset);
    return this;
  }
  load32Splat(offset = 0): this {
    this.simd(Simd.v128_load32_splat);
    this.memarg(2, offset);
    return this;
  }
  v128zero(): this {
    this.simd(Simd.v128_const);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }
  /** A lane access to memory: the opcode, its memarg (alignment 2^alignLog2, offset) and the lane index. */
  private laneMemory(opcode: number, alignLog2: number, offset: number, lane: number): this {
    this.simd(opcode);
    this.memarg(alignLog2, offset);
    this.code.push(lane);
    return this;
  }
  /** Stores lane `lane` (a float32) of the v128 on the stack at address + offset. */
  store32Lane(offset: number, lane: number): this {
    return this.laneMemory(Simd.v128_store32_lane, 2, offset, lane);
  }
  /** Stores 64-bit lane `lane` (e.g. two float32s) of the v128 on the stack at address + offset. */
  store64Lane(offset: number, lane: number): this {
    return this.laneMemory(Simd.v128_store64_lane, 3, offset, lane);
  }
  /** Replaces 64-bit lane `lane` of the v128 on the stack (above the address) with the 8 bytes at address + offset. */
  load64Lane(offset: number, lane: number): this {
    return this.laneMemory(Simd.v128_load64_lane, 3, offset, lane);
  }
  /** f64x2 and f64 on the stack → the f64x2 with lane `lane` replaced. */
  f64x2ReplaceLane(lane: number): this {
    return this.simd(Simd.f64x2_replace_lane).lane(lane);
  }
  /** i64x2 and i64 on the stack → the i64x2 with lane `lane` replaced. */
  i64x2ReplaceLane(lane: number): this {
    return this.simd(Simd.i64x2_replace_lane).lane(lane);
  }
  private lane(index: number): this {
    this.code.push(index);
    return this;
  }
  f64x2ExtractLane(lane: number): this {
    return this.simd(Simd.f64x2_extract_lane).lane(lane);
  }
  shuffle(lanes: number[]): this {
    if (lanes.length !== 16) throw new Error('shuffle needs 16 lane indices');
    this.simd(Simd.i8x16_shuffle);
    for (const l of lanes) this.code.push(l);
    return this;
  }

  encode(): number[] {
    const body: number[] = [];
    // run-length encode local declarations
    const groups: Array<[number, ValType]> = [];
    for (const t of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [count, t] of groups) {
      uleb(body, count);
      body.push(VALTYPE[t]);
    }
    for (const b of this.code) body.push(b);
    body.push(0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    return out.concat(body);
  }
}

export interface MemoryImport {
  module: string;
  name: string;
  minPages: number;
  maxPages?: number;
  shared?: boolean;
}

/** Assembles a module: one imported memory, functions (each with its own type), named exports. */
export class ModuleBuilder {
  private readonly fns: FnBuilder[] = [];
  private readonly exports: Array<[string, number]> = [];

  constructor(private readonly memory: MemoryImport) {}

  /** Registers a function and returns its index (no imported functions, so indices start at 0). */
  add(fn: FnBuilder, exportName?: string): number {
    this.fns.push(fn);
    const idx = this.fns.length - 1;
    if (exportName) this.exports.push([exportName, idx]);
    return idx;
  }

  /** Reserves an index for a function whose body is built later with `define`. */
  reserve(): number {
    this.fns.push(new FnBuilder([]));
    return this.fns.length - 1;
  }

  define(idx: number, fn: FnBuilder, exportName?: string): void {
    this.fns[idx] = fn;
    if (exportName) this.exports.push([exportName, idx]);
  }

  encode(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]): void => {
      out.push(id);
      uleb(out, content.length);
      for (const b of content) out.push(b);
    };
    // types: one per function (simple; duplicates are legal)
    const types: number[] = [];
    uleb(types, this.fns.length);
    for (const f of this.fns) {
      types.push(0x60);
      uleb(types, f.params.length);
      for (const p of f.params) types.push(VALTYPE[p]);
      uleb(types, f.results.length);
      for (const r of f.results) types.push(VALTYPE[r]);
    }
    section(1, types);
    // import: memory
    const imports: number[] = [];
    uleb(imports, 1);
    utf8(imports, this.memory.module);
    utf8(imports, this.memory.name);
    imports.push(0x02);
    const m = this.memory;
    if (m.shared) {
      if (m.maxPages === undefined) throw new Error('shared memory needs maxPages');
      imports.push(0x03);
      uleb(imports, m.minPages);
      uleb(imports, m.maxPages);
    } else if (m.maxPages !== undefined) {
      imports.push(0x01);
      uleb(imports, m.minPages);
      uleb(imports, m.maxPages);
    } else {
      imports.push(0x00);
      uleb(imports, m.minPages);
    }
    section(2, imports);
    const funcs: number[] = [];
    uleb(funcs, this.fns.length);
    for (let i = 0; i < this.fns.length; i++) uleb(funcs, i);
    section(3, funcs);
    const exps: number[] = [];
    uleb(exps, this.exports.length);
    for (const [name, idx] of this.exports) {
      utf8(exps, name);
      exps.push(0x00);
      uleb(exps, idx);
    }
    section(7, exps);
    const code: number[] = [];
    uleb(code, this.fns.length);
    for (const f of this.fns) for (const b of f.encode()) code.push(b);
    section(10, code);
    return Uint8Array.from(out);
  }
}
