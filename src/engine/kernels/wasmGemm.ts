// WebAssembly SIMD GEMM kernels (f64x2, and an opt-in f32x4 "fast precision" variant), generated at runtime
// by wasmGemmModule.ts. Loads anywhere WebAssembly SIMD is available (Node 20 main thread and workers):
// synchronous `new (wasmApi().Module)(bytes)`, no fetch, no eval.
//
// Linear memory layout (byte offsets, 64-byte aligned regions), re-laid out by addB / when m grows:
//   [bp]  resident B slots, one after the other: packed B, nPanels panels of kPad×NR elements (kernel element
//         type); f32 also its column scales (nPad float64) and norms (2 float64)
//   [ar]  raw A: m×k float64 row-major (what the caller copies in)
//   [ap]  packed A: mPanels panels of kPad×MR elements      (kernel element type)
//   [cp]  C: mPad×nPad float64 row-major (ldc = nPad; nPad = n when n is a multiple of NR)
//   [rs]  f32: row infos u_r, δ_r (see wasmGemmModule.ts, "f32 scaling")
//   [side] past them: the row kernels' region between an inputView and its compute (sideRegion, rowKernels.ts)
// The A and C regions fit the largest k and n of the slots, so switching slots (useB) moves nothing.
// The memory only grows and is reused across calls.

import type { GemmKernel } from './gemm';
import { rowKernelsOf, type RowKernels } from './rowKernels';
import { wasmApi, type WasmMemory, type WasmModule } from './wasmApi';
import {
  buildGemmModule,
  configKey,
  F32_FLUSH_BELOW,
  relaxedSimdSupported,
  ROW_INFO_BYTES,
  RowInfo,
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
    rs?: number,
    cs?: number,
  ): void;
  packA(
    src: number,
    dst: number,
    m: number,
    k: number,
    kPad: number,
    ipStart: number,
    ipEnd: number,
    rs?: number,
    norms?: number,
  ): void;
}

/** Byte offsets and sizes of the current layout (shared with helper threads for the parallel kernel). */
export interface GemmLayout {
  /** The current B's shape. */
  k: number;
  n: number;
  kPad: number;
  nPad: number;
  nPanels: number;
  /** row capacity (multiple of MR) */
  mCap: number;
  /** the current B, packed */
  bp: number;
  /** f32: the current B's column scales (nPad float64), followed by its norms ‖b‖, ‖φ‖; f64: 0 */
  cs: number;
  /** raw A (mCap × k float64), packed A, C (mCap × nPad float64) */
  ar: number;
  ap: number;
  cp: number;
  /** f32: row infos u_r, δ_r (mCap × 16 bytes); f64: 0 */
  rs: number;
  end: number;
}

/** One resident B: its packed panels (and f32 column scales) in the kernel's memory. */
interface BSlot {
  k: number;
  n: number;
  kPad: number;
  nPad: number;
  nPanels: number;
  bp: number;
  cs: number;
  end: number;
  /** f32: B itself (float64, row-major k×n), for the rows recomputed in float64 */
  source: Float64Array | null;
  /** f32: this slot in the float64 kernel that recomputes rows, once it is needed */
  fallbackSlot: number;
}

const PAGE = 65536;
const align64 = (x: number): number => (x + 63) & ~63;
const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/** A row whose flushed part may add up to δ_r is recomputed in float64 unless δ_r ≤ this × the row's norm. */
export const F32_NEGLIGIBLE = 2 ** -30;

/**
 * A row is recomputed in float64 when its estimated float32 rounding error, 2^−24·‖A_r‖·‖B‖_F/‖C_r‖, is above
 * this. On products without cancellation the estimate is about 1e-6 (the error itself is 2 to 7 times
 * smaller), so only rows whose product cancels by 15× or more are recomputed.
 */
export const F32_ROUNDING_LIMIT = 2 ** -16;

const exponentScratch = new Float64Array(1);
const exponentBits = new Uint32Array(exponentScratch.buffer);

/** e with x·2^−e in [1, 2), for finite x > 0 (clamped to [−1022, 1022], as the f32 packA does). */
function binaryExponent(x: number): number {
  exponentScratch[0] = x;
  const biased = (exponentBits[1] >>> 20) & 0x7ff;
  return Math.min(2045, Math.max(1, biased)) - 1023;
}

export class WasmGemmKernel implements GemmKernel {
  readonly name: string;
  readonly precision: Precision;
  readonly config: GemmModuleConfig;
  readonly memory: WasmMemory;
  private readonly exports: GemmExports;
  private readonly esz: number;
  private f64: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private slots: BSlot[] = [];
  private current = -1;
  /** Largest k, kPad and nPad over the slots: the A and C regions fit every slot. */
  private maxK = 0;
  private maxKPad = 0;
  private maxNPad = 0;
  private scratch = { mCap: 0, ar: 64, ap: 64, cp: 64, rs: 0, end: 64 };
  private layoutCache: GemmLayout | null = null;
  /** f32: the float64 kernel that recomputes the rows float32 cannot represent (made when first needed). */
  private fallback: WasmGemmKernel | null = null;
  /** f32: rows recomputed in float64 so far (a diagnostic for tests and benchmarks). */
  fallbackRows = 0;
  /** The row kernels on this memory (made at the first rowKernels). */
  private rowKernelsCache: RowKernels | null = null;

  constructor(opts: WasmGemmOptions = {}) {
    const shared = opts.shared ?? opts.memory !== undefined;
    this.config = resolveConfig({ ...opts, shared });
    const c = this.config;
    this.precision = c.precision;
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

  /** The current B's shape and every region's offset. */
  get currentLayout(): Readonly<GemmLayout> {
    if (!this.layoutCache) {
      const b = this.slots[this.current] as BSlot | undefined;
      const sc = this.scratch;
      this.layoutCache = {
        k: b?.k ?? 0,
        n: b?.n ?? 0,
        kPad: b?.kPad ?? 0,
        nPad: b?.nPad ?? 0,
        nPanels: b?.nPanels ?? 0,
        mCap: sc.mCap,
        bp: b?.bp ?? 64,
        cs: b?.cs ?? 0,
        ar: sc.ar,
        ap: sc.ap,
        cp: sc.cp,
        rs: sc.rs,
        end: sc.end,
      };
    }
    return this.layoutCache;
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

  /** Lays out the A, C (and row info) regions after the last slot, for mCap rows. */
  private relayoutScratch(mCap: number): void {
    const mPad = roundUp(Math.max(mCap, 1), this.config.mr);
    const slotsEnd = this.slots.length > 0 ? this.slots[this.slots.length - 1].end : 64;
    const ar = align64(slotsEnd);
    const ap = align64(ar + mPad * this.maxK * 8);
    const cp = align64(ap + mPad * this.maxKPad * this.esz);
    const rs = this.precision === 'f32' ? align64(cp + mPad * this.maxNPad * 8) : 0;
    const end = align64(rs > 0 ? rs + mPad * ROW_INFO_BYTES : cp + mPad * this.maxNPad * 8);
    this.ensureBytes(end);
    this.scratch = { mCap: mPad, ar, ap, cp, rs, end };
    this.layoutCache = null;
  }

  /** Grows the A/C regions to hold at least mMax rows (B stays in place). Invalidates views. */
  reserve(mMax: number): void {
    if (mMax <= this.scratch.mCap) return;
    this.relayoutScratch(Math.max(mMax, 2 * this.scratch.mCap));
  }

  /** Makes B (k×n, row-major from bOff) the only resident matrix. Invalidates views. */
  setB(k: number, n: number, B: Float64Array, bOff = 0): void {
    this.clearB();
    this.addB(k, n, B, bOff);
  }

  /**
   * Packs one more resident matrix B (k×n, row-major from bOff) and makes it current; returns its slot for
   * useB. The other slots stay. Invalidates views.
   */
  addB(k: number, n: number, B: Float64Array, bOff = 0): number {
    if (B.length < bOff + k * n) throw new RangeError('gemm.setB: B too short');
    const { nr: NR, unroll } = this.config;
    const kPad = roundUp(k, unroll);
    const nPad = roundUp(n, NR);
    const nPanels = nPad / NR;
    const start = this.slots.length > 0 ? this.slots[this.slots.length - 1].end : 64;
    const bp = align64(start);
    const f32 = this.precision === 'f32';
    const cs = f32 ? align64(bp + nPanels * kPad * NR * this.esz) : 0;
    const end = align64(f32 ? cs + (nPad + 3) * 8 : bp + nPanels * kPad * NR * this.esz);
    const slot: BSlot = {
      k,
      n,
      kPad,
      nPad,
      nPanels,
      bp,
      cs,
      end,
      source: f32 ? B.slice(bOff, bOff + k * n) : null,
      fallbackSlot: -1,
    };
    this.slots.push(slot);
    this.maxK = Math.max(this.maxK, k);
    this.maxKPad = Math.max(this.maxKPad, kPad);
    this.maxNPad = Math.max(this.maxNPad, nPad);
    this.relayoutScratch(Math.max(this.scratch.mCap, this.config.mr));
    if (f32) this.packScaledB(slot, B, bOff);
    else this.packB(slot, B, bOff);
    this.current = this.slots.length - 1;
    this.layoutCache = null;
    return this.current;
  }

  /** Makes a slot of addB current. */
  useB(slot: number): void {
    if (!(slot >= 0 && slot < this.slots.length)) throw new RangeError(`gemm.useB: no slot ${slot}`);
    if (slot !== this.current) {
      this.current = slot;
      this.layoutCache = null;
    }
  }

  /** Forgets every resident matrix. */
  clearB(): void {
    this.slots = [];
    this.current = -1;
    this.maxK = this.maxKPad = this.maxNPad = 0;
    this.layoutCache = null;
    this.fallback?.clearB();
  }

  /** Number of resident matrices. */
  get residentCount(): number {
    return this.slots.length;
  }

  private packB(slot: BSlot, B: Float64Array, bOff: number): void {
    const { k, n, kPad, nPanels, bp } = slot;
    const NR = this.config.nr;
    const dst = new Float64Array(this.memory.buffer, bp, nPanels * kPad * NR);
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
  }

  /**
   * f32: each column scaled so that its largest |entry| is in [1, 2), entries below 2^−60 after scaling
   * flushed; the scales 2^f_j and the norms ‖b‖ (column maxima), ‖φ‖ (flushed mass per column) and ‖B‖_F
   * follow.
   * A column with a non-finite entry is kept as it is and makes ‖φ‖ infinite (every row then goes to float64).
   */
  private packScaledB(slot: BSlot, B: Float64Array, bOff: number): void {
    const { k, n, kPad, nPad, nPanels, bp, cs } = slot;
    const NR = this.config.nr;
    const dst = new Float32Array(this.memory.buffer, bp, nPanels * kPad * NR);
    dst.fill(0);
    const scales = new Float64Array(this.memory.buffer, cs, nPad + 3);
    scales.fill(0);
    let bNorm2 = 0;
    let phiNorm2 = 0;
    let frobenius2 = 0;
    for (let j = 0; j < n; j++) {
      let mx = 0;
      for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(B[bOff + p * n + j]));
      // ‖B‖_F, in units of the largest entry of each column (no overflow)
      if (mx > 0 && Number.isFinite(mx)) {
        let ss = 0;
        for (let p = 0; p < k; p++) ss += (B[bOff + p * n + j] / mx) ** 2;
        frobenius2 += ss * mx * mx;
      }
      const base = Math.floor(j / NR) * kPad * NR + (j % NR);
      if (!Number.isFinite(mx)) {
        for (let p = 0; p < k; p++) dst[base + p * NR] = B[bOff + p * n + j];
        scales[j] = 1;
        phiNorm2 = Infinity;
        continue;
      }
      const e = mx > 0 ? binaryExponent(mx) : 0;
      const down = 2 ** -e;
      let flushed = 0;
      for (let p = 0; p < k; p++) {
        const x = B[bOff + p * n + j] * down;
        if (Math.abs(x) < F32_FLUSH_BELOW) flushed += Math.abs(x);
        else dst[base + p * NR] = x;
      }
      scales[j] = 2 ** e;
      bNorm2 += mx * mx;
      phiNorm2 += (flushed * 2 ** e) ** 2;
    }
    scales[nPad] = Math.sqrt(bNorm2);
    scales[nPad + 1] = Math.sqrt(phiNorm2);
    scales[nPad + 2] = Math.sqrt(frobenius2);
  }

  /** Row-major m×k float64 view where the caller may write A directly (zero-copy path with `compute`). */
  inputView(m: number): Float64Array {
    this.reserve(m);
    return new Float64Array(this.memory.buffer, this.scratch.ar, m * this.currentLayout.k);
  }

  /**
   * Byte offset of a region of `bytes` bytes past the A and C regions, for the row kernels (rowKernels.ts) between
   * an inputView and its compute. Valid until the A and C regions next grow (reserve for more rows, addB). May grow
   * the memory: a view taken before (inputView) is then stale where the memory is not shared; take it again.
   */
  sideRegion(bytes: number): number {
    const at = this.scratch.end;
    this.ensureBytes(at + bytes);
    return at;
  }

  /** The whole memory as float64 (current after sideRegion). */
  memoryView(): Float64Array {
    this.refreshViews();
    return this.f64;
  }

  /** The row kernels on this kernel's memory. */
  rowKernels(): RowKernels {
    this.rowKernelsCache ??= rowKernelsOf({
      memory: this.memory,
      shared: this.config.shared,
      maxPages: this.config.maxPages,
    });
    return this.rowKernelsCache;
  }

  /** m×nPad float64 view of C (row stride `layout.nPad`, equal to n when n is a multiple of NR). */
  outputView(m: number): Float64Array {
    this.reserve(m);
    return new Float64Array(this.memory.buffer, this.scratch.cp, m * this.currentLayout.nPad);
  }

  /** Packs A rows of MR-panels [ipStart, ipEnd) from the raw A region. */
  packPanels(m: number, ipStart: number, ipEnd: number): void {
    const L = this.currentLayout;
    this.exports.packA(L.ar, L.ap, m, L.k, L.kPad, ipStart, ipEnd, L.rs, L.cs + L.nPad * 8);
  }

  /** Computes C panels [ipStart, ipEnd) (each MR rows) from packed A. */
  gemmPanels(ipStart: number, ipEnd: number, accumulate: boolean): void {
    const L = this.currentLayout;
    this.exports.gemm(ipStart, ipEnd, L.nPanels, L.kPad, L.ap, L.bp, L.cp, L.nPad * 8, accumulate ? 1 : 0, L.rs, L.cs);
  }

  /**
   * Before a product of m rows: f32 products never accumulate in the kernel (rows recomputed in float64
   * must not include a float32 partial result), so the old C rows are kept here and added after `finish`.
   * Returns what `finish` needs, and whether the kernel should accumulate.
   */
  begin(m: number, accumulate: boolean): { kernelAccumulates: boolean; saved: Float64Array | null } {
    if (!this.bReady()) throw new Error('gemm: setB first');
    this.reserve(m);
    if (this.precision === 'f64' || !accumulate) return { kernelAccumulates: accumulate, saved: null };
    const L = this.currentLayout;
    return { kernelAccumulates: false, saved: this.f64.slice(L.cp / 8, L.cp / 8 + m * L.nPad) };
  }

  /** After a product of m rows: f32 rows that need float64 are recomputed, then kept C rows added. */
  finish(m: number, saved: Float64Array | null): void {
    if (this.precision === 'f64') return;
    this.recomputeRows(m);
    if (saved) {
      const c0 = this.currentLayout.cp / 8;
      const f = this.f64;
      for (let i = 0; i < saved.length; i++) f[c0 + i] += saved[i];
    }
  }

  /**
   * f32: the rows float32 could get wrong, recomputed in float64 from the raw A region and B's float64 source:
   * those with a non-finite entry, those whose flushed entries may matter (δ_r > F32_NEGLIGIBLE·‖C_r‖), and
   * those whose rounding error may be large because their product cancels (2^−24·‖A_r‖·‖B‖_F > F32_ROUNDING_LIMIT·‖C_r‖).
   */
  private recomputeRows(m: number): void {
    const L = this.currentLayout;
    const f = this.f64;
    const stride = ROW_INFO_BYTES / 8;
    const frobenius = f[L.cs / 8 + L.nPad + 2];
    const roundingFactor = 2 ** -24 / F32_ROUNDING_LIMIT;
    let rows: number[] | null = null;
    for (let r = 0, info = L.rs / 8; r < m; r++, info += stride) {
      const flushed = f[info + RowInfo.flushed / 8];
      const aNorm = f[info + RowInfo.aNorm / 8];
      const cNorm = Math.sqrt(f[info + RowInfo.cSquares / 8]); // both over u_r
      const flushOk = flushed === 0 || flushed <= F32_NEGLIGIBLE * cNorm * f[info + RowInfo.scale / 8];
      if (flushOk && !(roundingFactor * aNorm * frobenius > cNorm)) continue;
      (rows ??= []).push(r);
    }
    if (!rows) return;
    const n = L.n;
    const c0 = L.cp / 8;
    const slot = this.slots[this.current];
    if (!this.fallback) this.fallback = new WasmGemmKernel({ precision: 'f64', fma: this.config.fma });
    const fb = this.fallback;
    if (slot.fallbackSlot < 0 || slot.fallbackSlot >= fb.residentCount) {
      slot.fallbackSlot = fb.addB(L.k, n, slot.source as Float64Array);
    }
    fb.useB(slot.fallbackSlot);
    const A = fb.inputView(rows.length);
    const a0 = L.ar / 8;
    const k = L.k;
    rows.forEach((r, i) => A.set(this.f64.subarray(a0 + r * k, a0 + (r + 1) * k), i * k));
    fb.compute(rows.length, false);
    const out = fb.outputView(rows.length);
    const fbStride = fb.currentLayout.nPad;
    this.refreshViews();
    rows.forEach((r, i) => this.f64.set(out.subarray(i * fbStride, i * fbStride + n), c0 + r * L.nPad));
    this.fallbackRows += rows.length;
  }

  private bReady(): boolean {
    return this.current >= 0;
  }

  /** C (in the output region) (+)= A (already in the input region) · B, for m rows. */
  compute(m: number, accumulate: boolean): void {
    const L0 = this.currentLayout;
    if (m <= 0 || L0.n === 0) {
      if (!this.bReady()) throw new Error('gemm: setB first');
      return;
    }
    const job = this.begin(m, accumulate);
    const panels = Math.ceil(m / this.config.mr);
    this.packPanels(m, 0, panels);
    this.gemmPanels(0, panels, job.kernelAccumulates);
    this.finish(m, job.saved);
  }

  copyIn(m: number, A: Float64Array, aOff: number, C: Float64Array | undefined, cOff: number): void {
    this.reserve(m);
    const L = this.currentLayout;
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
    const L = this.currentLayout;
    const n = L.n;
    const c0 = L.cp / 8;
    if (L.nPad === n) C.set(this.f64.subarray(c0, c0 + m * n), cOff);
    else for (let i = 0; i < m; i++) C.set(this.f64.subarray(c0 + i * L.nPad, c0 + i * L.nPad + n), cOff + i * n);
  }

  multiplyResident(m: number, A: Float64Array, C: Float64Array, accumulate: boolean, aOff = 0, cOff = 0): void {
    if (!this.bReady()) throw new Error('gemm: setB first');
    const L = this.currentLayout;
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
    this.clearB();
    this.fallback?.dispose();
    this.fallback = null;
    this.f64 = new Float64Array(0);
  }
}

/** Convenience factory: the float64 kernel by default, float32 ("fast precision") when asked. */
export function createWasmGemm(opts: WasmGemmOptions = {}): WasmGemmKernel {
  return new WasmGemmKernel(opts);
}
