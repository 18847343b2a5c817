// WebAssembly kernels for the lag recursion's per-row arithmetic (the elementwise work between two matrix
// products), generated at runtime like the GEMM kernels and run on the GEMM kernel's own memory: they write the
// next product's input straight into its input region (WasmGemmKernel.inputView). Each one computes exactly what
// the cell's TypeScript step computes, in the same order, with separate multiplies and adds (no fused
// multiply-add), so its results are the same to the bit; only the elementwise products run two lanes at a time.
import { wasmApi, type WasmMemory, type WasmModule } from './wasmApi';
import { FnBuilder, ModuleBuilder, Simd } from './wasmAsm';
import { addTo, whileLoop } from './wasmGemmModule';

/**
 * Rows a cell's lag step hands to a row kernel at a time: their copies beside the product's regions stay in cache
 * (copying all of a step's rows at once evicted the packed weights and slowed the products by as much as the
 * kernels saved).
 */
export const ROW_CHUNK = 8;

/** The memory a row kernel runs on: the GEMM kernel's (shared for the parallel kernel). */
export interface RowKernelMemory {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  readonly maxPages: number;
}

/**
 * The lstm's gate-gradient rows (LstmCell.lagStep, rows that go on to the product), for n rows; every address is a
 * byte offset in the memory. R is the output width (H, or P with projections) and S = R + H the state's.
 * - m: the rows' ∂ε/∂m_j: the state rows' h-parts without projections (m = g), or rows of H with them;
 * - g: the rows' state gradients (n × S: h-part then c-part; the c-part not yet completed);
 * - f: the step's gate factors (lstmGateFactors: 5 blocks of H);
 * - fg: the step's forget gate (H);
 * - ss: each row's running sum of squares (n): read, the c-part's squares added in order k = 0 … H−1, written back;
 * - a: the product's input, rows of 4H: ∂ε/∂z (gate blocks i, f, g, o);
 * - p: rows of S whose c-part receives ∂ε/∂c_{j−1} (the h-part is not written).
 */
export type LstmGateRows = (
  m: number,
  g: number,
  f: number,
  fg: number,
  ss: number,
  a: number,
  p: number,
  n: number,
) => void;

/**
 * The gru's gate-gradient rows (GruCell.lagStep, rows that go on to the product), for n rows; every address is a byte
 * offset in the memory.
 * - g: the rows' state gradients ∂ε/∂h_j (n × H);
 * - gates: the step's r, z, n and W_hn h_{j−1} + b_hn (4 blocks of H);
 * - h: h_{j−1} (H);
 * - a: the product's input, rows of 3H: ∂ε/∂(W_hh h_{j−1} + b_hh) (blocks r, z, n).
 */
export type GruGateRows = (g: number, gates: number, h: number, a: number, n: number) => void;

/**
 * The rnn's rows (RnnCell.lagStep), for n rows of H; every address is a byte offset in the memory.
 * - g: the rows' state gradients (n × H);
 * - d: the factor of each entry (σ′(a_j) for the elman form, ones for the pascanu form);
 * - a: the product's input, rows of H: g ⊙ d;
 * - out: per row its largest |g| (NaN entries left out), Σ g² and Σ (g ⊙ d)², each sum in order (n × 3).
 */
export type RnnRows = (g: number, d: number, a: number, out: number, n: number) => void;

/**
 * Each row's sum of squares, summed in order (as scratch.ts sumSquares4 sums), eight rows side by side (two per
 * vector, one per lane): rows of `width` float64 at a, a + stride, … (n rows; byte offsets and byte stride) into
 * out (n float64, with room for n rounded up to 8).
 */
export type SumSquaresRows = (a: number, stride: number, width: number, n: number, out: number) => void;

/** The row kernels of one memory. */
export interface RowKernels {
  /** The lstm rows for hidden size H (even) and projections of size P (0: none). */
  lstmGateRows(H: number, P?: number): LstmGateRows;
  /** The gru rows for hidden size H (even). */
  gruGateRows(H: number): GruGateRows;
  /** The rnn rows for hidden size H (even). */
  rnnRows(H: number): RnnRows;
  readonly sumSquaresRows: SumSquaresRows;
}

const moduleCache = new Map<string, WasmModule>();
const exportsByMemory = new WeakMap<WasmMemory, Map<string, unknown>>();

/** The row kernels of a GEMM kernel's memory (each compiled once per shape and instantiated once per memory). */
export function rowKernelsOf(mem: RowKernelMemory): RowKernels {
  const memoryKey = `${mem.shared ? 1 : 0}:${mem.maxPages}`;
  const kernel = <T>(name: string, shape: string, build: () => Uint8Array): T => {
    let known = exportsByMemory.get(mem.memory);
    if (!known) exportsByMemory.set(mem.memory, (known = new Map<string, unknown>()));
    const key = `${name}:${shape}:${memoryKey}`;
    let fn = known.get(key);
    if (!fn) {
      let mod = moduleCache.get(key);
      if (!mod) moduleCache.set(key, (mod = new (wasmApi().Module)(build())));
      fn = new (wasmApi().Instance)(mod, { env: { mem: mem.memory } }).exports[name];
      known.set(key, fn);
    }
    return fn as T;
  };
  return {
    lstmGateRows(H: number, P = 0): LstmGateRows {
      return kernel('lstmGateRows', `${evenSize(H)}:${P}`, () => buildLstmGateRows(H, P, mem));
    },
    gruGateRows(H: number): GruGateRows {
      return kernel('gruGateRows', String(evenSize(H)), () => buildGruGateRows(H, mem));
    },
    rnnRows(H: number): RnnRows {
      return kernel('rnnRows', String(evenSize(H)), () => buildRnnRows(H, mem));
    },
    sumSquaresRows: kernel('sumSquaresRows', '', () => buildSumSquaresRows(mem)),
  };
}

/** H, when it is even and positive (the kernels take two entries at a time). */
function evenSize(H: number): number {
  if (!(H > 0 && H % 2 === 0)) throw new RangeError(`row kernels: the hidden size must be even and positive, not ${H}`);
  return H;
}

/** The memory import of a row kernel's module. */
function rowModule(mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>): ModuleBuilder {
  return new ModuleBuilder({
    module: 'env',
    name: 'mem',
    minPages: 1,
    maxPages: mem.shared ? mem.maxPages : undefined,
    shared: mem.shared,
  });
}

/** The module of SumSquaresRows. */
export function buildSumSquaresRows(mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>): Uint8Array {
  const mb = rowModule(mem);
  const [a, stride, width, n, out] = [0, 1, 2, 3, 4];
  const fn = new FnBuilder(['i32', 'i32', 'i32', 'i32', 'i32']);
  const r0 = fn.local('i32');
  const i = fn.local('i32');
  const rows = Array.from({ length: 8 }, () => fn.local('i32'));
  const acc = Array.from({ length: 4 }, () => fn.local('v128'));
  const x = fn.local('v128');
  fn.i32(0).set(r0);
  whileLoop(
    fn,
    () => fn.get(r0).get(n).i32ltS(),
    () => {
      // The group's row addresses; a row past the last reads the last (its sum is not used).
      rows.forEach((row, q) => {
        fn.get(r0).i32(q).i32add();
        fn.get(n).i32(1).i32sub();
        fn.get(r0).i32(q).i32add().get(n).i32ltS().select();
        fn.get(stride).i32mul().get(a).i32add().set(row);
      });
      acc.forEach((v) => fn.v128zero().set(v));
      fn.i32(0).set(i);
      whileLoop(
        fn,
        () => fn.get(i).get(width).i32ltU(),
        () => {
          acc.forEach((v, pair) => {
            // [row 2·pair, row 2·pair + 1] at byte i.
            fn.get(rows[2 * pair + 1])
              .get(i)
              .i32add();
            fn.get(rows[2 * pair])
              .get(i)
              .i32add()
              .load64Splat(0);
            fn.load64Lane(0, 1).tee(x).get(x).simd(Simd.f64x2_mul);
            fn.get(v).simd(Simd.f64x2_add).set(v);
          });
          addTo(fn, i, 8);
        },
      );
      acc.forEach((v, pair) => {
        for (let lane = 0; lane < 2; lane++) {
          fn.get(out).get(r0).i32(3).i32shl().i32add();
          fn.get(v)
            .f64x2ExtractLane(lane)
            .f64store(8 * (2 * pair + lane));
        }
      });
      addTo(fn, r0, 8);
    },
  );
  mb.add(fn, 'sumSquaresRows');
  return mb.encode();
}

/** The module of LstmGateRows for hidden size H and projections P (the offsets and strides are constants of the code). */
export function buildLstmGateRows(H: number, P: number, mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>): Uint8Array {
  const [m, g, f, fg, ss, a, p] = [0, 1, 2, 3, 4, 5, 6];
  const HB = 8 * H;
  // The c-part's offset in a state row, the state rows' stride and the stride of the rows of ∂ε/∂m_j.
  const RB = 8 * (P || H);
  const SB = RB + HB;
  const MB = P ? HB : SB;
  return rowKernelModule(mem, 'lstmGateRows', 8, H, (fn, at) => {
    const sum = fn.local('f64');
    const [gm, gc, sq] = Array.from({ length: 3 }, () => fn.local('v128'));
    const mul = (): FnBuilder => fn.simd(Simd.f64x2_mul);
    return {
      row: () => fn.get(ss).f64load().set(sum),
      pair: () => {
        // ∂ε/∂m_j and ∂ε/∂c_j completed: G_c + G_m ⊙ F_0.
        at(m).v128load(0).set(gm);
        at(g).v128load(RB);
        fn.get(gm);
        at(f).v128load(0);
        mul().simd(Simd.f64x2_add).set(gc);
        // Its squares, added in order of k.
        fn.get(gc).get(gc);
        mul().set(sq);
        fn.get(sum).get(sq).f64x2ExtractLane(0).f64add().get(sq).f64x2ExtractLane(1).f64add().set(sum);
        // The gate gradients: G_c ⊙ F_1, G_c ⊙ F_2, G_c ⊙ F_3, G_m ⊙ F_4; and G_c ⊙ forget gate.
        for (let block = 0; block < 4; block++) {
          at(a);
          fn.get(block < 3 ? gc : gm);
          at(f).v128load((block + 1) * HB);
          mul().v128store(block * HB);
        }
        at(p);
        fn.get(gc);
        at(fg).v128load(0);
        mul().v128store(RB);
      },
      next: () => {
        fn.get(ss).get(sum).f64store();
        addTo(fn, m, MB);
        addTo(fn, g, SB);
        addTo(fn, p, SB);
        addTo(fn, a, 4 * HB);
        addTo(fn, ss, 8);
      },
    };
  });
}

/**
 * The module of GruGateRows for hidden size H, with the expressions of GruCell.lagStep as they are written
 * (evaluated left to right):
 *   dan = g·(1 − z)·(1 − n·n);  a_r = dan·hn·r·(1 − r);  a_z = g·(h − n)·z·(1 − z);  a_n = dan·r.
 */
export function buildGruGateRows(H: number, mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>): Uint8Array {
  const [g, gates, h, a] = [0, 1, 2, 3];
  const HB = 8 * H;
  return rowKernelModule(mem, 'gruGateRows', 5, H, (fn, at) => {
    const [gv, r, z, nv, dan, one] = Array.from({ length: 6 }, () => fn.local('v128'));
    const mul = (): FnBuilder => fn.simd(Simd.f64x2_mul);
    const sub = (): FnBuilder => fn.simd(Simd.f64x2_sub);
    fn.f64const(1).simd(Simd.f64x2_splat).set(one);
    return {
      pair: () => {
        at(g).v128load(0).set(gv);
        at(gates).v128load(0).set(r);
        at(gates).v128load(HB).set(z);
        at(gates)
          .v128load(2 * HB)
          .set(nv);
        // dan = g·(1 − z)·(1 − n·n)
        fn.get(gv).get(one).get(z);
        sub();
        mul();
        fn.get(one).get(nv).get(nv);
        mul();
        sub();
        mul().set(dan);
        // a_r = dan·hn·r·(1 − r)
        at(a);
        fn.get(dan);
        at(gates).v128load(3 * HB);
        mul().get(r);
        mul().get(one).get(r);
        sub();
        mul().v128store(0);
        // a_z = g·(h − n)·z·(1 − z)
        at(a);
        fn.get(gv);
        at(h).v128load(0).get(nv);
        sub();
        mul().get(z);
        mul().get(one).get(z);
        sub();
        mul().v128store(HB);
        // a_n = dan·r
        at(a);
        fn.get(dan).get(r);
        mul().v128store(2 * HB);
      },
      next: () => {
        addTo(fn, g, HB);
        addTo(fn, a, 3 * HB);
      },
    };
  });
}

/**
 * The module of RnnRows for hidden size H. The largest |g| is kept per lane with f64x2.pmax, which keeps the
 * running value when the entry is NaN, as `if (a > max) max = a` does.
 */
export function buildRnnRows(H: number, mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>): Uint8Array {
  const [g, d, a, out] = [0, 1, 2, 3];
  const HB = 8 * H;
  return rowKernelModule(mem, 'rnnRows', 5, H, (fn, at) => {
    const ss = fn.local('f64');
    const sx = fn.local('f64');
    const [gv, x, max] = Array.from({ length: 3 }, () => fn.local('v128'));
    /** sum += lane 0 of v·v, then lane 1. */
    const addSquares = (sum: number, v: number): void => {
      fn.get(v).get(v).simd(Simd.f64x2_mul).set(v);
      fn.get(sum).get(v).f64x2ExtractLane(0).f64add().get(v).f64x2ExtractLane(1).f64add().set(sum);
    };
    return {
      row: () => {
        fn.v128zero().set(max);
        fn.f64const0().set(ss);
        fn.f64const0().set(sx);
      },
      pair: () => {
        at(g).v128load(0).set(gv);
        fn.get(max).get(gv).simd(Simd.f64x2_abs).simd(Simd.f64x2_pmax).set(max);
        at(a);
        fn.get(gv);
        at(d).v128load(0).simd(Simd.f64x2_mul).tee(x).v128store(0);
        addSquares(ss, gv);
        addSquares(sx, x);
      },
      next: () => {
        fn.get(out).get(max).f64x2ExtractLane(0).get(max).f64x2ExtractLane(1).f64max().f64store(0);
        fn.get(out).get(ss).f64store(8);
        fn.get(out).get(sx).f64store(16);
        addTo(fn, g, HB);
        addTo(fn, a, HB);
        addTo(fn, out, 24);
      },
    };
  });
}

/** What a row kernel does per row (rowKernelModule). */
interface RowParts {
  /** Before the row's entries. */
  row?(): void;
  /** For two entries, at byte offset k of the row (at(base) pushes base + k). */
  pair(): void;
  /** After them: moves the row addresses on. */
  next(): void;
}

/**
 * A row kernel's module: one exported function `name` of `params` i32 parameters, the last the number of rows n.
 * `parts` declares its locals, emits what comes before the rows and returns the per-row code; each row runs row(),
 * pair() for k = 0, 16, … below 8·H bytes, then next().
 */
function rowKernelModule(
  mem: Pick<RowKernelMemory, 'shared' | 'maxPages'>,
  name: string,
  params: number,
  H: number,
  parts: (fn: FnBuilder, at: (base: number) => FnBuilder) => RowParts,
): Uint8Array {
  const mb = rowModule(mem);
  const fn = new FnBuilder(Array.from({ length: params }, () => 'i32' as const));
  const n = params - 1;
  const k = fn.local('i32');
  const row = parts(fn, (base) => fn.get(base).get(k).i32add());
  whileLoop(
    fn,
    () => fn.get(n),
    () => {
      row.row?.();
      fn.i32(0).set(k);
      whileLoop(
        fn,
        () =>
          fn
            .get(k)
            .i32(8 * H)
            .i32ltU(),
        () => {
          row.pair();
          addTo(fn, k, 16);
        },
      );
      row.next();
      fn.get(n).i32(1).i32sub().set(n);
    },
  );
  mb.add(fn, name);
  return mb.encode();
}
