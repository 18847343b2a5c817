// WebAssembly SIMD GEMM kernels (f64x2, and an opt-in f32x4 "fast precision" variant), generated at runtime
// by wasmGemmModule.ts. Loads anywhere WebAssembly SIMD is available (Node 20 main thread and workers):
// synchronous `new (wasmApi().Module)(bytes)`, no fetch, no eval.
//
// Linear memory layout (byte offsets, 64-byte aligned regions), re-laid out by setB / when m grows:
//   [bp]  packed B: nPanels panels of kPad×NR elements      (kernel element type)
//   [ar]  raw A: m×k float64 row-major (what the caller copies in)
//   [ap]  packed A: mPanels panels of kPad×MR elements      (kernel element type)
//   [cp]  C: mPad×nPad float64 row-major (ldc = nPad; nPad = n when n is a multiple of NR)
// The memory only grows and is reused across calls.

import type { GemmKernel } from './gemm';
import { wasmApi, type WasmMemory, type WasmModule } from './wasmApi';
import {
  buildGemmModule,
  configKey,
  relaxedSimdSupported,
  type GemmModuleConfig,
  type Precision,
} from './wasmGemmModule';

export interface WasmGemmOptions {
  precision?: Precision;
  /** fused multiply-add via relaxed-simd: 'auto' uses it only when this V8 supports it without flags. */
  fma?: boolean | 'auto';
  mr?: number;
  nr?: number;
  unroll?: number;
  kc?: number;
  mcPanels?: number;
  /** Use this (shared) memory instead of a private one; requires `shared: true` and matching maxPages. */
  memory?: WasmMemory;
  shared?: boolean;
  maxPages?: number;
}

export const DEFAULT_MAX_PAGES = 32768; // 2 GiB: keeps every byte offset a non-negative i32

const DEFAULTS: Record<Precision, Omit<GemmModuleConfig, 'precision' | 'fma' | 'shared' | 'maxPages'>> = {
  f64: { mr: 4, nr: 4, unroll: 1, kc: 256, mcPanels: 32 },
  f32: { mr: 4, nr: 8, unroll: 1, kc: 256, mcPanels: 32 },
};

let relaxedCache: boolean | undefined;
export function hasRelaxedSimd(): boolean {
  if (relaxedCache === undefined) relaxedCache = relaxedSimdSupported();
  return relaxedCache;
}

const moduleCache = new Map<string, WasmModule>();

export function resolveConfig(opts: WasmGemmOptions = {}): GemmModuleConfig {
  const precision = opts.precision ?? 'f64';
  const d = DEFAULTS[precision];
  const fma = opts.fma === undefined || opts.fma === 'auto' ? hasRelaxedSimd() : opts.fma;
  return {
    precision,
    // with fused multiply-add no temporary register is needed: a 5×4 f64 tile fits (measured +15%)
    mr: opts.mr ?? (fma && precision === 'f64' ? 5 : d.mr),
    nr: opts.nr ?? d.nr,
    unroll: opts.unroll ?? d.unroll,
    kc: opts.kc ?? d.kc,
    mcPanels: opts.mcPanels ?? d.mcPanels,
    fma,
    shared: opts.shared ?? false,
    maxPages: opts.maxPages ?? DEFAULT_MAX_PAGES,
  };
}

export function getGemmModule(cfg: GemmModuleConfig): WasmModule {
  const key = configKey(cfg);
  let mod = moduleCache.get(key);
  if (!mod) {
    mod = new (wasmApi().Module)(buildGemmModule(cfg));
    moduleCache.set(key, mod);
  }
  return mod;
}

interface GemmExports {
  gemm(
    ipStart: number,
    ipEnd: number,
    nPanels: number,
    kPad: number,
    ap: number,
    bp: number,
    cp: number,
    ldc: number,
    acc: number,
  ): void;
  packA(src: number, dst: number, m: number, k: number, kPad: number, ipStart: number, ipEnd: number): void;
}

/** Byte offsets and sizes of the current layout (shared with helper threads for the parallel kernel). */
export interface GemmLayout {
  k: number;
  n: number;
  kPad: number;
  nPad: number;
  nPanels: number;
  /** row capacity (multiple of MR) */
  mCap: number;
  bp: number;
  ar: number;
  ap: number;
  cp: number;
  end: number;
}

const PAGE = 65536;
const align64 = (x: number): number => (x + 63) & ~63;
const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

export class WasmGemmKernel implements GemmKernel {
  readonly name: string;
  readonly config: GemmModuleConfig;
  readonly memory: WasmMemory;
  private readonly exports: GemmExports;
  private readonly esz: number;
  private f64: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private layout: GemmLayout = {
    k: 0,
    n: 0,
    kPad: 0,
    nPad: 0,
    nPanels: 0,
    mCap: 0,
    bp: 64,
    ar: 64,
    ap: 64,
    cp: 64,
    end: 64,
  };
  private bReady = false;

  constructor(opts: WasmGemmOptions = {}) {
    const shared = opts.shared ?? opts.memory !== undefined;
    this.config = resolveConfig({ ...opts, shared });
    const c = this.config;
    this.esz = c.precision === 'f64' ? 8 : 4;
    this.name = `wasm-${c.precision}${c.fma ? '-fma' : ''}-${c.mr}x${c.nr}`;
    this.memory =
      opts.memory ??
      (shared
        ? new (wasmApi().Memory)({ initial: 1, maximum: c.maxPages, shared: true })
        : new (wasmApi().Memory)({ initial: 1 }));
    const instance = new (wasmApi().Instance)(getGemmModule(c), { env: { mem: this.memory } });
    this.exports = instance.exports as unknown as GemmExports;
    this.refreshViews();
  }

  get currentLayout(): Readonly<GemmLayout> {
    return this.layout;
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    if (this.f64.buffer !== buf || this.f64.length * 8 !== buf.byteLength) this.f64 = new Float64Array(buf);
  }

  private ensureBytes(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > this.config.maxPages) throw new RangeError(`gemm: needs ${end} bytes of wasm memory`);
      this.memory.grow(pages);
    }
    this.refreshViews();
  }

  private relayout(k: number, n: number, mCap: number): void {
    const { mr, nr, unroll } = this.config;
    const kPad = roundUp(k, unroll);
    const nPad = roundUp(n, nr);
    const mPad = roundUp(mCap, mr);
    const bp = 64;
    const ar = align64(bp + nPad * kPad * this.esz);
    const ap = align64(ar + mPad * k * 8);
    const cp = align64(ap + mPad * kPad * this.esz);
    const end = align64(cp + mPad * nPad * 8);
    this.ensureBytes(end);
    this.layout = { k, n, kPad, nPad, nPanels: nPad / nr, mCap: mPad, bp, ar, ap, cp, end };
  }

  /** Grows the A/C regions to hold at least mMax rows (B stays in place). Invalidates views. */
  reserve(mMax: number): void {
    if (mMax <= this.layout.mCap) return;
    const L = this.layout;
    this.relayout(L.k, L.n, Math.max(mMax, 2 * L.mCap));
  }

  setB(k: number, n: number, B: Float64Array, bOff = 0): void {
    if (B.length < bOff + k * n) throw new RangeError('gemm.setB: B too short');
    this.relayout(k, n, Math.max(this.layout.mCap, this.config.mr));
    const { kPad, nPanels, bp } = this.layout;
    const NR = this.config.nr;
    const dst =
      this.esz === 8
        ? new Float64Array(this.memory.buffer, bp, nPanels * kPad * NR)
        : new Float32Array(this.memory.buffer, bp, nPanels * kPad * NR);
    for (let jp = 0; jp < nPanels; jp++) {
      const base = jp * kPad * NR;
      const j0 = jp * NR;
      const w = Math.min(NR, n - j0);
      for (let p = 0; p < kPad; p++) {
        const d = base + p * NR;
        if (p < k) {
          const s = bOff + p * n + j0;
          for (let j = 0; j < w; j++) dst[d + j] = B[s + j];
          for (let j = w; j < NR; j++) dst[d + j] = 0;
        } else {
          for (let j = 0; j < NR; j++) dst[d + j] = 0;
        }
      }
    }
    this.bReady = true;
  }

  /** Row-major m×k float64 view where the caller may write A directly (zero-copy path with `compute`). */
  inputView(m: number): Float64Array {
    this.reserve(m);
    return new Float64Array(this.memory.buffer, this.layout.ar, m * this.layout.k);
  }

  /** m×nPad float64 view of C (row stride `layout.nPad`, equal to n when n is a multiple of NR). */
  outputView(m: number): Float64Array {
    this.reserve(m);
    return new Float64Array(this.memory.buffer, this.layout.cp, m * this.layout.nPad);
  }

  /** Packs A rows of MR-panels [ipStart, ipEnd) from the raw A region. */
  packPanels(m: number, ipStart: number, ipEnd: number): void {
    const L = this.layout;
    this.exports.packA(L.ar, L.ap, m, L.k, L.kPad, ipStart, ipEnd);
  }

  /** Computes C panels [ipStart, ipEnd) (each MR rows) from packed A. */
  gemmPanels(ipStart: number, ipEnd: number, accumulate: boolean): void {
    const L = this.layout;
    this.exports.gemm(ipStart, ipEnd, L.nPanels, L.kPad, L.ap, L.bp, L.cp, L.nPad * 8, accumulate ? 1 : 0);
  }

  /** C (in the output region) (+)= A (already in the input region) · B, for m rows. */
  compute(m: number, accumulate: boolean): void {
    if (!this.bReady) throw new Error('gemm: setB first');
    if (m <= 0 || this.layout.n === 0) return;
    this.reserve(m);
    const panels = Math.ceil(m / this.config.mr);
    this.packPanels(m, 0, panels);
    this.gemmPanels(0, panels, accumulate);
  }

  copyIn(m: number, A: Float64Array, aOff: number, C: Float64Array | undefined, cOff: number): void {
    this.reserve(m);
    const L = this.layout;
    const f64 = this.f64;
    if (L.k > 0) f64.set(A.subarray(aOff, aOff + m * L.k), L.ar / 8);
    if (C) {
      const n = L.n;
      const c0 = L.cp / 8;
      if (L.nPad === n) f64.set(C.subarray(cOff, cOff + m * n), c0);
      else for (let i = 0; i < m; i++) f64.set(C.subarray(cOff + i * n, cOff + (i + 1) * n), c0 + i * L.nPad);
    }
  }

  copyOut(m: number, C: Float64Array, cOff: number): void {
    const L = this.layout;
    const n = L.n;
    const c0 = L.cp / 8;
    if (L.nPad === n) C.set(this.f64.subarray(c0, c0 + m * n), cOff);
    else for (let i = 0; i < m; i++) C.set(this.f64.subarray(c0 + i * L.nPad, c0 + i * L.nPad + n), cOff + i * n);
  }

  multiplyResident(m: number, A: Float64Array, C: Float64Array, accumulate: boolean, aOff = 0, cOff = 0): void {
    if (!this.bReady) throw new Error('gemm: setB first');
    const L = this.layout;
    if (m <= 0 || L.n === 0) return;
    if (A.length < aOff + m * L.k || C.length < cOff + m * L.n) throw new RangeError('gemm: A or C too short');
    this.copyIn(m, A, aOff, accumulate ? C : undefined, cOff);
    this.compute(m, accumulate);
    this.copyOut(m, C, cOff);
  }

  multiply(
    m: number,
    n: number,
    k: number,
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    this.setB(k, n, B);
    this.multiplyResident(m, A, C, accumulate);
  }

  dispose(): void {
    this.bReady = false;
    this.f64 = new Float64Array(0);
  }
}

/** Convenience factory: the float64 kernel by default, float32 ("fast precision") when asked. */
export function createWasmGemm(opts: WasmGemmOptions = {}): WasmGemmKernel {
  return new WasmGemmKernel(opts);
}
