// Generates the GEMM WebAssembly module (bytes) for one configuration. Pure function of the config; the
// result is cached per config by the caller. See wasmGemm.ts for the memory layout and packing formats.
//
// Exports (all pointers are byte offsets into the imported memory `env.mem`):
//   gemm(ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldcBytes, accumulate[, rs, cs])
//       C[panel rows ipStart..ipEnd) (+)= Apacked · Bpacked. C is float64, row-major, ldc bytes per row.
//   packA(src, dst, m, k, kPad, ipStart, ipEnd[, rs, norms])
//       row-major float64 A (m×k) → MR-row panels (element type of the kernel), zero-padded.
// The bracketed parameters exist in the f32 module only; see "f32 scaling" below.
//
// f32 scaling. float32 has 8 exponent bits, so the float64 rows of A and columns of B are brought into its
// range before they are rounded, and the float64 result is scaled back:
//   - packA scales row r by 2^−e_r (e_r: the exponent of its largest |entry|, so the row's largest entry is
//     in [1, 2)) and writes the row's info to rs (ROW_INFO_BYTES per row, float64s at the RowInfo offsets):
//     u_r = 2^e_r, 1/u_r, δ_r, ‖A_r‖/u_r, and 0 for the micro-kernel's ‖C_r‖²/u_r²;
//   - B is scaled per column by the caller (wasmGemm.ts): column j by 2^−f_j; cs[j] = 2^f_j (float64);
//   - the micro-kernel writes C_rj (+)= u_r · cs[j] · (its float32 sum), and in the last k block adds the
//     squares of the row's finished entries, over u_r, to its info: ‖C_r‖²/u_r².
// Scaled entries below 2^−60 are flushed to 0 (on both sides), so every kept product is at least 2^−120,
// a normal float32: no product underflows, and none overflows. What was flushed is bounded per row:
//   δ_r = (Σ_p |flushed A_rp|) · ‖b‖ + max_p |A_rp| · ‖φ‖,   b_j = max_p |B_pj|,  φ_j = Σ_p |flushed B_pj|
// (norms = [‖b‖, ‖φ‖, ‖B‖_F], float64), an upper bound of the norm of what the flushed entries would have
// added to row r of C. With ‖A_r‖ and ‖C_r‖ the caller also estimates the row's float32 rounding error,
// 2^−24·‖A_r‖·‖B‖_F/‖C_r‖ (large when the row's product cancels), and recomputes in float64 the rows where
// either is not negligible. A row with a non-finite entry gets u_r = 0 (its C row is 0) and δ_r = +∞.

import { wasmApi } from './wasmApi';
import { FnBuilder, ModuleBuilder, Simd, type ValType } from './wasmAsm';

/**
 * Arithmetic of the lag recursion's matrix products: 'f64' (the default, exact to 1e-9) or 'f32' (opt-in
 * "fast": float32 products on rows and columns scaled into float32's range, float32 sums within k blocks,
 * float64 across them; see "f32 scaling" above). The one name for it from the CLI flag to the kernel.
 */
export type Precision = 'f64' | 'f32';

export interface GemmModuleConfig {
  precision: Precision;
  /** Micro-tile rows (C rows held in registers). */
  mr: number;
  /** Micro-tile columns in elements; multiple of the lane count (2 for f64, 4 for f32). */
  nr: number;
  /** k unroll inside the micro-kernel; kPad is a multiple of it. */
  unroll: number;
  /** k cache block (multiple of unroll). */
  kc: number;
  /** row-panel cache block (number of MR panels per block). */
  mcPanels: number;
  /** use relaxed-simd fused multiply-add */
  fma: boolean;
  /** import a shared memory (threads) */
  shared: boolean;
  maxPages: number;
}

export function configKey(c: GemmModuleConfig): string {
  return [c.precision, c.mr, c.nr, c.unroll, c.kc, c.mcPanels, c.fma ? 1 : 0, c.shared ? 1 : 0, c.maxPages].join(':');
}

/** Loop helper: `while (cond) body` where cond leaves an i32 on the stack. */
export function whileLoop(f: FnBuilder, cond: () => void, body: () => void): void {
  f.block().loop();
  cond();
  f.i32eqz().brIf(1);
  body();
  f.br(0).end().end();
}

/** `local += delta` */
export function addTo(f: FnBuilder, local: number, delta: number): void {
  f.get(local).i32(delta).i32add().set(local);
}

/** Bytes per row of the f32 row-info region (float64s at the RowInfo byte offsets). */
export const ROW_INFO_BYTES = 48;

/** Byte offsets of a row's float64 infos in the f32 row-info region. */
export const RowInfo = { scale: 0, inverse: 8, flushed: 16, aNorm: 24, cSquares: 32 } as const;

/** Scaled entries below this are flushed to 0 (see "f32 scaling"). */
export const F32_FLUSH_BELOW = 2 ** -60;

function buildMicro(cfg: GemmModuleConfig): FnBuilder {
  const { mr: MR, nr: NR, unroll: U } = cfg;
  const isF64 = cfg.precision === 'f64';
  const esz = isF64 ? 8 : 4;
  const lanes = isF64 ? 2 : 4;
  const NV = NR / lanes;
  const mul = isF64 ? Simd.f64x2_mul : Simd.f32x4_mul;
  const add = isF64 ? Simd.f64x2_add : Simd.f32x4_add;
  const madd = isF64 ? Simd.f64x2_relaxed_madd : Simd.f32x4_relaxed_madd;
  // params: a, b, c, kIters, ldc, acc (f32 also: rs, cs — this tile's row infos and column scales — and
  // last: 1 in the last k block)
  const params: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'];
  const f = new FnBuilder(isF64 ? params : [...params, 'i32', 'i32', 'i32']);
  const [a, b, c, kIters, ldc, accFlag, rs, cs, last] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const acc: number[][] = [];
  for (let r = 0; r < MR; r++) {
    acc.push([]);
    for (let v = 0; v < NV; v++) acc[r].push(f.local('v128'));
  }
  const bv: number[] = [];
  for (let v = 0; v < NV; v++) bv.push(f.local('v128'));
  const as = f.local('v128');
  const aEnd = f.local('i32');
  const cr = f.local('i32');

  const zeroAll = (): void => {
    for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.v128zero().set(acc[r][v]);
  };
  if (isF64) {
    f.get(accFlag).if_();
    f.get(c).set(cr);
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v++)
        f.get(cr)
          .v128load(v * 16)
          .set(acc[r][v]);
      if (r < MR - 1) f.get(cr).get(ldc).i32add().set(cr);
    }
    f.else_();
    zeroAll();
    f.end();
  } else {
    zeroAll();
  }

  // main loop over k, unrolled by U; kIters is a multiple of U
  f.get(kIters).if_();
  f.get(a)
    .get(kIters)
    .i32(MR * esz)
    .i32mul()
    .i32add()
    .set(aEnd);
  f.loop();
  for (let u = 0; u < U; u++) {
    for (let v = 0; v < NV; v++)
      f.get(b)
        .v128load((u * NR + v * lanes) * esz)
        .set(bv[v]);
    for (let r = 0; r < MR; r++) {
      f.get(a);
      if (isF64) f.load64Splat((u * MR + r) * esz);
      else f.load32Splat((u * MR + r) * esz);
      f.set(as);
      for (let v = 0; v < NV; v++) {
        if (cfg.fma) f.get(as).get(bv[v]).get(acc[r][v]).simd(madd).set(acc[r][v]);
        else f.get(acc[r][v]).get(as).get(bv[v]).simd(mul).simd(add).set(acc[r][v]);
      }
    }
  }
  addTo(f, a, U * MR * esz);
  addTo(f, b, U * NR * esz);
  f.get(a).get(aEnd).i32ltU().brIf(0);
  f.end(); // loop
  f.end(); // if kIters

  // store
  f.get(c).set(cr);
  if (isF64) {
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v++)
        f.get(cr)
          .get(acc[r][v])
          .v128store(v * 16);
      if (r < MR - 1) f.get(cr).get(ldc).i32add().set(cr);
    }
  } else {
    // f32 accumulators → two f64x2 each: t = promote(acc)·cs[j] (+ C/u_r in later k blocks), C = t·u_r; in the
    // last k block the row's Σ t² goes to its info (C stays float64: blocks add in float64)
    const hiToLo = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
    const colScale: number[] = [];
    for (let h = 0; h < 2 * NV; h++) colScale.push(f.local('v128'));
    const rowScale = f.local('v128');
    const rowInverse = f.local('v128');
    const t = f.local('v128');
    const squares = f.local('v128');
    const info = f.local('i32');
    for (let h = 0; h < 2 * NV; h++)
      f.get(cs)
        .v128load(h * 16)
        .set(colScale[h]);
    const emit = (withAdd: boolean, withSquares: boolean): void => {
      f.get(c).set(cr);
      f.get(rs).set(info);
      for (let r = 0; r < MR; r++) {
        f.get(info).load64Splat(RowInfo.scale).set(rowScale);
        if (withAdd) f.get(info).load64Splat(RowInfo.inverse).set(rowInverse);
        if (withSquares) f.v128zero().set(squares);
        for (let v = 0; v < NV; v++) {
          for (let half = 0; half < 2; half++) {
            const off = v * 32 + half * 16;
            f.get(acc[r][v]);
            if (half === 1) f.get(acc[r][v]).shuffle(hiToLo);
            f.simd(Simd.f64x2_promote_low_f32x4);
            f.get(colScale[2 * v + half]).simd(Simd.f64x2_mul);
            if (withAdd) f.get(cr).v128load(off).get(rowInverse).simd(Simd.f64x2_mul).simd(Simd.f64x2_add);
            f.set(t);
            if (withSquares) f.get(t).get(t).simd(Simd.f64x2_mul).get(squares).simd(Simd.f64x2_add).set(squares);
            f.get(cr).get(t).get(rowScale).simd(Simd.f64x2_mul).v128store(off);
          }
        }
        if (withSquares) {
          f.get(info);
          f.get(info).f64load(RowInfo.cSquares);
          f.get(squares).f64x2ExtractLane(0).get(squares).f64x2ExtractLane(1).f64add();
          f.f64add().f64store(RowInfo.cSquares);
        }
        if (r < MR - 1) {
          f.get(cr).get(ldc).i32add().set(cr);
          addTo(f, info, ROW_INFO_BYTES);
        }
      }
    };
    f.get(accFlag).if_();
    {
      f.get(last).if_();
      emit(true, true);
      f.else_();
      emit(true, false);
      f.end();
    }
    f.else_();
    {
      f.get(last).if_();
      emit(false, true);
      f.else_();
      emit(false, false);
      f.end();
    }
    f.end();
  }
  return f;
}

function buildDriver(cfg: GemmModuleConfig, microIdx: number): FnBuilder {
  const { mr: MR, nr: NR, kc: KC, mcPanels: MCP } = cfg;
  const isF64 = cfg.precision === 'f64';
  const esz = isF64 ? 8 : 4;
  // params: ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldc, acc (f32 also: rs, cs)
  const params: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'];
  const f = new FnBuilder(isF64 ? params : [...params, 'i32', 'i32']);
  const [ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldc, accIn, rs, cs] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const pc = f.local('i32');
  const kc = f.local('i32');
  const accf = f.local('i32');
  const ic = f.local('i32');
  const icEnd = f.local('i32');
  const jp = f.local('i32');
  const ip = f.local('i32');
  const bPtr = f.local('i32');
  const aPtr = f.local('i32');
  const cPtr = f.local('i32');
  const aPanelBytes = f.local('i32');
  const cPanelBytes = f.local('i32');

  f.get(ipStart).get(ipEnd).i32ltS().i32eqz().if_().return_().end();
  f.get(nPanels).i32eqz().if_().return_().end();
  f.get(kPad)
    .i32(MR * esz)
    .i32mul()
    .set(aPanelBytes);
  f.get(ldc).i32(MR).i32mul().set(cPanelBytes);
  f.i32(0).set(pc);
  f.loop(); // K blocks (runs once when kPad == 0: zero / keep C)
  {
    // kc = min(KC, kPad - pc)
    f.get(kPad).get(pc).i32sub().set(kc);
    f.i32(KC).get(kc).get(kc).i32(KC).i32gtS().select().set(kc);
    // accf = acc | (pc != 0)
    f.get(accIn).get(pc).i32(0).i32gtS().i32add().set(accf);
    f.get(ipStart).set(ic);
    f.loop(); // IC
    {
      // icEnd = min(ic + MCP, ipEnd)
      f.get(ic).i32(MCP).i32add().set(icEnd);
      f.get(ipEnd).get(icEnd).get(icEnd).get(ipEnd).i32gtS().select().set(icEnd);
      f.i32(0).set(jp);
      f.loop(); // JP
      {
        // bPtr = bp + (jp*kPad + pc) * NR * esz
        f.get(bp)
          .get(jp)
          .get(kPad)
          .i32mul()
          .get(pc)
          .i32add()
          .i32(NR * esz)
          .i32mul()
          .i32add()
          .set(bPtr);
        f.get(ic).set(ip);
        // aPtr = ap + ip*aPanelBytes + pc*MR*esz
        f.get(ap)
          .get(ip)
          .get(aPanelBytes)
          .i32mul()
          .i32add()
          .get(pc)
          .i32(MR * esz)
          .i32mul()
          .i32add()
          .set(aPtr);
        // cPtr = cp + ip*cPanelBytes + jp*NR*8
        f.get(cp)
          .get(ip)
          .get(cPanelBytes)
          .i32mul()
          .i32add()
          .get(jp)
          .i32(NR * 8)
          .i32mul()
          .i32add()
          .set(cPtr);
        f.loop(); // IP
        {
          f.get(aPtr).get(bPtr).get(cPtr).get(kc).get(ldc).get(accf);
          if (!isF64) {
            // rs + ip·MR·ROW_INFO_BYTES, cs + jp·NR·8
            f.get(rs)
              .get(ip)
              .i32(MR * ROW_INFO_BYTES)
              .i32mul()
              .i32add();
            f.get(cs)
              .get(jp)
              .i32(NR * 8)
              .i32mul()
              .i32add();
            // last = pc + KC >= kPad
            f.get(pc).i32(KC).i32add().get(kPad).i32geS();
          }
          f.call(microIdx);
          f.get(aPtr).get(aPanelBytes).i32add().set(aPtr);
          f.get(cPtr).get(cPanelBytes).i32add().set(cPtr);
          f.get(ip).i32(1).i32add().tee(ip).get(icEnd).i32ltS().brIf(0);
        }
        f.end();
        f.get(jp).i32(1).i32add().tee(jp).get(nPanels).i32ltS().brIf(0);
      }
      f.end();
      f.get(icEnd).tee(ic).get(ipEnd).i32ltS().brIf(0);
    }
    f.end();
    f.get(pc).i32(KC).i32add().tee(pc).get(kPad).i32ltS().brIf(0);
  }
  f.end();
  return f;
}

/** packA: the float64 rows copied into MR-row panels (f32: see buildPackAScaled). */
function buildPackA(cfg: GemmModuleConfig): FnBuilder {
  if (cfg.precision === 'f32') return buildPackAScaled(cfg);
  const MR = cfg.mr;
  const esz = 8;
  // params: src, dst, m, k, kPad, ipStart, ipEnd
  const f = new FnBuilder(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, dst, m, k, kPad, ipStart, ipEnd] = [0, 1, 2, 3, 4, 5, 6];
  const ip = f.local('i32');
  const r = f.local('i32');
  const row = f.local('i32');
  const d = f.local('i32');
  const dEnd = f.local('i32');
  const s = f.local('i32');
  const sEnd = f.local('i32');
  const step = MR * esz;

  f.get(ipStart).set(ip);
  whileLoop(
    f,
    () => f.get(ip).get(ipEnd).i32ltS(),
    () => {
      f.i32(0).set(r);
      whileLoop(
        f,
        () => f.get(r).i32(MR).i32ltS(),
        () => {
          f.get(ip).i32(MR).i32mul().get(r).i32add().set(row);
          // d = dst + (ip*kPad*MR + r)*esz ; dEnd = d + kPad*MR*esz
          f.get(dst).get(ip).get(kPad).i32mul().i32(MR).i32mul().get(r).i32add().i32(esz).i32mul().i32add().set(d);
          f.get(d).get(kPad).i32(step).i32mul().i32add().set(dEnd);
          f.get(row).get(m).i32ltS().if_();
          {
            f.get(src).get(row).get(k).i32mul().i32(8).i32mul().i32add().set(s);
            f.get(s).get(k).i32(8).i32mul().i32add().set(sEnd);
            whileLoop(
              f,
              () => f.get(s).get(sEnd).i32ltU(),
              () => {
                f.get(d).get(s).f64load().f64store();
                addTo(f, s, 8);
                addTo(f, d, step);
              },
            );
          }
          f.end();
          whileLoop(
            f,
            () => f.get(d).get(dEnd).i32ltU(),
            () => {
              f.get(d).f64const0().f64store();
              addTo(f, d, step);
            },
          );
          addTo(f, r, 1);
        },
      );
      addTo(f, ip, 1);
    },
  );
  return f;
}

/** The locals (and parameters) of the f32 packA; the per-row and per-pair ones are arrays over a panel. */
interface PackLocals {
  MR: number;
  /** Bytes of one k of a panel: MR float32s. */
  panelRowBytes: number;
  pairs: number;
  src: number;
  dst: number;
  m: number;
  k: number;
  kPad: number;
  rs: number;
  norms: number;
  ip: number;
  row0: number;
  d: number;
  dEnd: number;
  kk: number;
  s: number;
  sEnd: number;
  s2End: number;
  ex: number;
  vm: number;
  vlim: number;
  vx: number;
  va: number;
  vmask: number;
  squares: number;
  /** Per row of a panel: source pointer, info address, largest |entry|, 1/u, all ones if packed (0: a zero row). */
  sp: number[];
  info: number[];
  mx: number[];
  sc: number[];
  keep: number[];
  /** Per pair of rows (lanes 0 and 1): scales, keep masks, flushed and squares sums. */
  vsc: number[];
  vkeep: number[];
  vfl: number[];
  vsq: number[];
}

function packLocals(f: FnBuilder, MR: number): PackLocals {
  const pairs = Math.ceil(MR / 2);
  const each = (n: number, type: ValType): number[] => Array.from({ length: n }, () => f.local(type));
  // params: src, dst, m, k, kPad, ipStart, ipEnd, rs, norms
  return {
    MR,
    panelRowBytes: MR * 4,
    pairs,
    src: 0,
    dst: 1,
    m: 2,
    k: 3,
    kPad: 4,
    rs: 7,
    norms: 8,
    ip: f.local('i32'),
    row0: f.local('i32'),
    d: f.local('i32'),
    dEnd: f.local('i32'),
    kk: f.local('i32'),
    s: f.local('i32'),
    sEnd: f.local('i32'),
    s2End: f.local('i32'),
    ex: f.local('i32'),
    vm: f.local('v128'),
    vlim: f.local('v128'),
    vx: f.local('v128'),
    va: f.local('v128'),
    vmask: f.local('v128'),
    squares: f.local('f64'),
    sp: each(MR, 'i32'),
    info: each(MR, 'i32'),
    mx: each(MR, 'f64'),
    sc: each(MR, 'f64'),
    keep: each(MR, 'i64'),
    vsc: each(pairs, 'v128'),
    vkeep: each(pairs, 'v128'),
    vfl: each(pairs, 'v128'),
    vsq: each(pairs, 'v128'),
  };
}

/** Row r of the panel: its infos, source pointer, largest |entry| and scale (a padding or non-finite row: zero). */
function scanPanelRow(f: FnBuilder, L: PackLocals, r: number): void {
  f.get(L.rs).get(L.row0).i32(r).i32add().i32(ROW_INFO_BYTES).i32mul().i32add().set(L.info[r]);
  // a padding row: every info 0, and it reads (and masks to 0) the panel's first row, which exists
  for (const off of Object.values(RowInfo)) f.get(L.info[r]).f64const0().f64store(off);
  f.get(L.src).get(L.row0).get(L.k).i32mul().i32(8).i32mul().i32add().set(L.sp[r]);
  f.f64const0().set(L.sc[r]);
  f.f64const0().set(L.mx[r]);
  f.i64(0).set(L.keep[r]);
  f.get(L.row0).i32(r).i32add().get(L.m).i32ltS().if_();
  {
    f.get(L.sp[r])
      .get(L.k)
      .i32(r * 8)
      .i32mul()
      .i32add()
      .set(L.sp[r]);
    // mx = max |a|, by f64x2.pmax (one instruction; f64x2.max, which propagates NaN, costs about twice the
    // whole packing): a NaN entry is skipped here and found by its row's sum of squares below; ±∞ makes mx ∞
    f.get(L.sp[r]).set(L.s);
    f.get(L.s).get(L.k).i32(8).i32mul().i32add().set(L.sEnd);
    f.get(L.s).get(L.k).i32(1).i32shrU().i32(16).i32mul().i32add().set(L.s2End);
    f.v128zero().set(L.vm);
    whileLoop(
      f,
      () => f.get(L.s).get(L.s2End).i32ltU(),
      () => {
        f.get(L.vm).get(L.s).v128load().simd(Simd.f64x2_abs).simd(Simd.f64x2_pmax).set(L.vm);
        addTo(f, L.s, 16);
      },
    );
    f.get(L.vm).f64x2ExtractLane(0).get(L.vm).f64x2ExtractLane(1).f64max().set(L.mx[r]);
    f.get(L.s).get(L.sEnd).i32ltU().if_(); // odd k: the last entry
    f.get(L.mx[r]).get(L.s).f64load().f64abs().f64max().set(L.mx[r]);
    f.end();
    // finite (mx − mx == 0): packed scaled; else u = 0, δ = +∞ and the row stays zero
    f.get(L.mx[r]).get(L.mx[r]).f64sub().f64const0().f64eq().if_();
    {
      // ex = biased exponent of mx, clamped to [1, 2045]; sc = 2^(1023 − ex) = 1/u, u = 2^(ex − 1023)
      f.get(L.mx[r]).i64reinterpretF64().i64(52).i64shrU().i32wrapI64().set(L.ex);
      f.i32(1).get(L.ex).get(L.ex).i32(1).i32ltS().select().set(L.ex);
      f.i32(2045).get(L.ex).get(L.ex).i32(2045).i32gtS().select().set(L.ex);
      f.i32(2046).get(L.ex).i32sub().i64extendI32U().i64(52).i64shl().f64reinterpretI64().set(L.sc[r]);
      f.get(L.info[r]).get(L.ex).i64extendI32U().i64(52).i64shl().f64reinterpretI64().f64store(RowInfo.scale);
      f.get(L.info[r]).get(L.sc[r]).f64store(RowInfo.inverse);
      f.i64(-1).set(L.keep[r]);
    }
    f.else_();
    f.get(L.info[r]).f64const(Infinity).f64store(RowInfo.flushed);
    f.end();
  }
  f.end();
}

/** L.d = the first byte of panel L.ip in the packed A region. */
function panelStart(f: FnBuilder, L: PackLocals): void {
  f.get(L.dst).get(L.ip).get(L.kPad).i32mul().i32(L.panelRowBytes).i32mul().i32add().set(L.d);
}

/** Zeros the given rows of the panel from L.d up to L.dEnd, one k at a time. */
function zeroPanelRows(f: FnBuilder, L: PackLocals, rows: number[]): void {
  whileLoop(
    f,
    () => f.get(L.d).get(L.dEnd).i32ltU(),
    () => {
      for (const r of rows)
        f.get(L.d)
          .f64const0()
          .f32demoteF64()
          .f32store(4 * r);
      addTo(f, L.d, L.panelRowBytes);
    },
  );
}

/** The panel's pairs of rows: scale and keep vectors, then every k packed, then the padding up to kPad. */
function packPanelPairs(f: FnBuilder, L: PackLocals): void {
  for (let p = 0; p < L.pairs; p++) {
    const [r0, r1] = [2 * p, 2 * p + 1];
    f.get(L.sc[r0]).simd(Simd.f64x2_splat);
    if (r1 < L.MR) f.get(L.sc[r1]).f64x2ReplaceLane(1);
    f.set(L.vsc[p]);
    f.get(L.keep[r0]).simd(Simd.i64x2_splat);
    if (r1 < L.MR) f.get(L.keep[r1]);
    else f.i64(0);
    f.i64x2ReplaceLane(1).set(L.vkeep[p]);
    f.v128zero().set(L.vfl[p]);
    f.v128zero().set(L.vsq[p]);
  }
  // Each k: x = a·sc for the panel's rows, two rows a vector; |x| < F32_FLUSH_BELOW goes to the row's flushed
  // sum and becomes 0; the kept x² add up (in k order, as a scalar loop would); x rounded to float32 is stored.
  panelStart(f, L);
  f.get(L.d).get(L.kPad).i32(L.panelRowBytes).i32mul().i32add().set(L.dEnd);
  f.i32(0).set(L.kk);
  whileLoop(
    f,
    () => f.get(L.kk).get(L.k).i32ltS(),
    () => {
      for (let p = 0; p < L.pairs; p++) {
        const [r0, r1] = [2 * p, 2 * p + 1];
        f.get(L.sp[r0]).load64Splat();
        if (r1 < L.MR) {
          f.set(L.vx);
          f.get(L.sp[r1]).get(L.vx).load64Lane(0, 1);
        }
        f.get(L.vsc[p]).simd(Simd.f64x2_mul).get(L.vkeep[p]).simd(Simd.v128_and).set(L.vx);
        f.get(L.vx).simd(Simd.f64x2_abs).set(L.va);
        f.get(L.va).get(L.vlim).simd(Simd.f64x2_lt).set(L.vmask);
        f.get(L.vfl[p]).get(L.va).get(L.vmask).simd(Simd.v128_and).simd(Simd.f64x2_add).set(L.vfl[p]);
        f.get(L.vx).get(L.vmask).simd(Simd.v128_andnot).set(L.vx);
        f.get(L.vsq[p]).get(L.vx).get(L.vx).simd(Simd.f64x2_mul).simd(Simd.f64x2_add).set(L.vsq[p]);
        f.get(L.d).get(L.vx).simd(Simd.f32x4_demote_f64x2_zero);
        if (r1 < L.MR) f.store64Lane(8 * p, 0);
        else f.store32Lane(8 * p, 0);
      }
      for (let r = 0; r < L.MR; r++) addTo(f, L.sp[r], 8);
      addTo(f, L.d, L.panelRowBytes);
      addTo(f, L.kk, 1);
    },
  );
  zeroPanelRows(
    f,
    L,
    Array.from({ length: L.MR }, (_, r) => r),
  );
}

/** Row r's ‖A_r‖ and δ_r once packed; a row with a NaN entry becomes a zero row with δ_r = ∞. */
function finishPanelRow(f: FnBuilder, L: PackLocals, r: number): void {
  const [p, lane] = [r >> 1, r & 1];
  f.get(L.keep[r]).i64(0).i64ne().if_();
  {
    f.get(L.vsq[p]).f64x2ExtractLane(lane).set(L.squares);
    f.get(L.squares).get(L.squares).f64eq().if_();
    {
      f.get(L.info[r]).get(L.squares).f64sqrt().f64store(RowInfo.aNorm);
      // δ = flushed·u·‖b‖ + mx·‖φ‖
      f.get(L.info[r]);
      f.get(L.vfl[p]).f64x2ExtractLane(lane).get(L.info[r]).f64load(RowInfo.scale).f64mul();
      f.get(L.norms).f64load(0).f64mul();
      f.get(L.mx[r]).get(L.norms).f64load(8).f64mul().f64add();
      f.f64store(RowInfo.flushed);
    }
    f.else_();
    {
      // a NaN entry (its square made the sum NaN): as a row with ∞ in it, u = 0, δ = +∞ and the row zero
      for (const off of [RowInfo.scale, RowInfo.inverse]) f.get(L.info[r]).f64const0().f64store(off);
      f.get(L.info[r]).f64const(Infinity).f64store(RowInfo.flushed);
      panelStart(f, L);
      zeroPanelRows(f, L, [r]);
    }
    f.end();
  }
  f.end();
}

/**
 * packA of the f32 module: each row scaled into float32's range, tiny entries flushed, its u_r and δ_r written
 * to rs (see "f32 scaling" at the top).
 */
function buildPackAScaled(cfg: GemmModuleConfig): FnBuilder {
  const f = new FnBuilder(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [ipStart, ipEnd] = [5, 6];
  const L = packLocals(f, cfg.mr);
  f.f64const(F32_FLUSH_BELOW).simd(Simd.f64x2_splat).set(L.vlim);
  f.get(ipStart).set(L.ip);
  whileLoop(
    f,
    () => f.get(L.ip).get(ipEnd).i32ltS(),
    () => {
      f.get(L.ip).i32(L.MR).i32mul().set(L.row0);
      for (let r = 0; r < L.MR; r++) scanPanelRow(f, L, r);
      packPanelPairs(f, L);
      for (let r = 0; r < L.MR; r++) finishPanelRow(f, L, r);
      addTo(f, L.ip, 1);
    },
  );
  return f;
}

export function buildGemmModule(cfg: GemmModuleConfig): Uint8Array {
  const lanes = cfg.precision === 'f64' ? 2 : 4;
  if (cfg.nr % lanes !== 0) throw new Error(`nr=${cfg.nr} must be a multiple of ${lanes}`);
  if (cfg.kc % cfg.unroll !== 0) throw new Error('kc must be a multiple of unroll');
  const mb = new ModuleBuilder({
    module: 'env',
    name: 'mem',
    minPages: 1,
    maxPages: cfg.shared ? cfg.maxPages : undefined,
    shared: cfg.shared,
  });
  const micro = mb.add(buildMicro(cfg));
  mb.add(buildDriver(cfg, micro), 'gemm');
  mb.add(buildPackA(cfg), 'packA');
  return mb.encode();
}

/** Whether this V8 accepts relaxed-simd without flags (Node 20: no; newer Node: yes). */
export function relaxedSimdSupported(): boolean {
  const mb = new ModuleBuilder({ module: 'env', name: 'mem', minPages: 1 });
  const f = new FnBuilder(['i32']);
  f.get(0).v128load(0).get(0).v128load(16).get(0).v128load(32).simd(Simd.f64x2_relaxed_madd);
  f.get(0).v128load(48).get(0).v128load(64).simd(Simd.f32x4_relaxed_madd).drop();
  mb.add(f, 't');
  try {
    return wasmApi().validate(mb.encode());
  } catch {
    return false;
  }
}
