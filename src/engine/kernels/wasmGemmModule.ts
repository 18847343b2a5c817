// Generates the GEMM WebAssembly module (bytes) for one configuration. Pure function of the config; the
// result is cached per config by the caller. See wasmGemm.ts for the memory layout and packing formats.
//
// Exports (all pointers are byte offsets into the imported memory `env.mem`):
//   gemm(ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldcBytes, accumulate)
//       C[panel rows ipStart..ipEnd) (+)= Apacked · Bpacked. C is float64, row-major, ldc bytes per row.
//   packA(src, dst, m, k, kPad, ipStart, ipEnd)
//       row-major float64 A (m×k) → MR-row panels (element type of the kernel), zero-padded.
//
// Packed formats: A panel ip holds rows ip*MR..ip*MR+MR-1 as kPad groups of MR values (p-major);
// B panel jp holds columns jp*NR..jp*NR+NR-1 as kPad groups of NR values. Panels are contiguous.

import { wasmApi } from './wasmApi';
import { FnBuilder, ModuleBuilder, Simd } from './wasmAsm';

/**
 * Arithmetic of the lag recursion's matrix products: 'f64' (the default, exact to 1e-9) or 'f32' (opt-in
 * "fast": float32 products with float64 accumulation). The one name for it from the CLI flag to the kernel.
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
function whileLoop(f: FnBuilder, cond: () => void, body: () => void): void {
  f.block().loop();
  cond();
  f.i32eqz().brIf(1);
  body();
  f.br(0).end().end();
}

/** `local += delta` */
function addTo(f: FnBuilder, local: number, delta: number): void {
  f.get(local).i32(delta).i32add().set(local);
}

function buildMicro(cfg: GemmModuleConfig): FnBuilder {
  const { mr: MR, nr: NR, unroll: U } = cfg;
  const isF64 = cfg.precision === 'f64';
  const esz = isF64 ? 8 : 4;
  const lanes = isF64 ? 2 : 4;
  const NV = NR / lanes;
  const mul = isF64 ? Simd.f64x2_mul : Simd.f32x4_mul;
  const add = isF64 ? Simd.f64x2_add : Simd.f32x4_add;
  const madd = isF64 ? Simd.f64x2_relaxed_madd : Simd.f32x4_relaxed_madd;
  // params: a, b, c, kIters, ldc, acc
  const f = new FnBuilder(['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [a, b, c, kIters, ldc, accFlag] = [0, 1, 2, 3, 4, 5];
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
    // f32 accumulators → two f64x2 each; C stays float64 (accumulate in f64 across calls)
    const hiToLo = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
    const emit = (withAdd: boolean): void => {
      f.get(c).set(cr);
      for (let r = 0; r < MR; r++) {
        for (let v = 0; v < NV; v++) {
          for (let half = 0; half < 2; half++) {
            const off = v * 32 + half * 16;
            f.get(cr);
            if (withAdd) f.get(cr).v128load(off);
            f.get(acc[r][v]);
            if (half === 1) f.get(acc[r][v]).shuffle(hiToLo);
            f.simd(Simd.f64x2_promote_low_f32x4);
            if (withAdd) f.simd(Simd.f64x2_add);
            f.v128store(off);
          }
        }
        if (r < MR - 1) f.get(cr).get(ldc).i32add().set(cr);
      }
    };
    f.get(accFlag).if_();
    emit(true);
    f.else_();
    emit(false);
    f.end();
  }
  return f;
}

function buildDriver(cfg: GemmModuleConfig, microIdx: number): FnBuilder {
  const { mr: MR, nr: NR, kc: KC, mcPanels: MCP } = cfg;
  const esz = cfg.precision === 'f64' ? 8 : 4;
  // params: ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldc, acc
  const f = new FnBuilder(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [ipStart, ipEnd, nPanels, kPad, ap, bp, cp, ldc, accIn] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
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
          f.get(aPtr).get(bPtr).get(cPtr).get(kc).get(ldc).get(accf).call(microIdx);
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

function buildPackA(cfg: GemmModuleConfig): FnBuilder {
  const MR = cfg.mr;
  const isF64 = cfg.precision === 'f64';
  const esz = isF64 ? 8 : 4;
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
  const store = (): void => {
    if (isF64) f.f64store();
    else f.f32store();
  };

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
                f.get(d).get(s).f64load();
                if (!isF64) f.f32demoteF64();
                store();
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
              f.get(d).f64const0();
              if (!isF64) f.f32demoteF64();
              store();
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
