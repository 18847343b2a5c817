import * as assert from 'node:assert/strict';
import { gemmRef, RefGemmKernel, type GemmKernel } from '../../../../src/engine/kernels/gemm';
import { createGemmKernel } from '../../../../src/engine/kernels/index';
import { ParallelWasmGemm } from '../../../../src/engine/kernels/parallelGemm';
import { WasmGemmKernel, type WasmGemmOptions } from '../../../../src/engine/kernels/wasmGemm';
import { sleb, uleb } from '../../../../src/engine/kernels/wasmAsm';

// deterministic PRNG (mulberry32)
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randArray(r: () => number, len: number): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Checks |got - want| <= tol * (Σ_p |a||b| + |C0| when accumulating) element-wise. */
function checkClose(
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  B: Float64Array,
  C0: Float64Array,
  accumulate: boolean,
  want: Float64Array,
  got: Float64Array,
  tol: number,
  what: string,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let scale = accumulate ? Math.abs(C0[i * n + j]) : 0;
      for (let p = 0; p < k; p++) scale += Math.abs(A[i * k + p] * B[p * n + j]);
      const d = Math.abs(got[i * n + j] - want[i * n + j]);
      if (!(d <= tol * scale)) {
        assert.fail(`${what}: C[${i},${j}] = ${got[i * n + j]}, want ${want[i * n + j]} (|diff| ${d}, scale ${scale})`);
      }
    }
  }
}

const EDGE_SIZES: Array<[number, number, number]> = [
  // [m, k, n]
  [1, 1, 1],
  [1, 0, 1],
  [3, 0, 5],
  [1, 7, 1],
  [7, 1, 13],
  [4, 4, 4],
  [5, 3, 2],
  [17, 33, 9],
  [8, 16, 8],
  [2, 257, 3],
  [13, 513, 6],
  [130, 65, 17],
  [129, 300, 31],
  [9, 12, 64],
];

function runCases(make: () => GemmKernel, tol: number, seed: number): void {
  const r = rng(seed);
  const K = make();
  try {
    const sizes = EDGE_SIZES.slice();
    for (let t = 0; t < 12; t++)
      sizes.push([1 + Math.floor(r() * 150), Math.floor(r() * 300), 1 + Math.floor(r() * 70)]);
    for (const [m, k, n] of sizes) {
      for (const accumulate of [false, true]) {
        const A = randArray(r, m * k);
        const B = randArray(r, k * n);
        const C0 = randArray(r, m * n);
        const want = C0.slice();
        gemmRef(m, n, k, A, 0, B, 0, want, 0, accumulate);
        const got = C0.slice();
        K.multiply(m, n, k, A, B, got, accumulate);
        checkClose(m, n, k, A, B, C0, accumulate, want, got, tol, `${K.name} m=${m} k=${k} n=${n} acc=${accumulate}`);
      }
    }
  } finally {
    K.dispose();
  }
}

function runResident(make: () => GemmKernel, tol: number, seed: number, k: number, n: number): void {
  const r = rng(seed);
  const K = make();
  try {
    const B = randArray(r, k * n + 3);
    K.setB(k, n, B, 3);
    // growing, shrinking and repeated m, with offsets and sentinels around the output
    for (const m of [3, 1, 40, 7, 200, 5, 200, 64, 1, 333]) {
      for (const accumulate of [true, false]) {
        const aOff = 2;
        const cOff = 5;
        const A = randArray(r, aOff + m * k + 4);
        const C = randArray(r, cOff + m * n + 4);
        const want = C.slice();
        gemmRef(m, n, k, A, aOff, B, 3, want, cOff, accumulate);
        const got = C.slice();
        K.multiplyResident(m, A, got, accumulate, aOff, cOff);
        for (let i = 0; i < cOff; i++) assert.equal(got[i], C[i], 'wrote before cOff');
        for (let i = cOff + m * n; i < got.length; i++) assert.equal(got[i], C[i], 'wrote past the end of C');
        checkClose(
          m,
          n,
          k,
          A.subarray(aOff),
          B.subarray(3),
          C.subarray(cOff),
          accumulate,
          want.subarray(cOff),
          got.subarray(cOff),
          tol,
          `${K.name} resident m=${m} acc=${accumulate}`,
        );
      }
    }
  } finally {
    K.dispose();
  }
}

describe('kernels: gemm', () => {
  it('LEB128 encoders', () => {
    const u: number[] = [];
    uleb(u, 624485);
    assert.deepEqual(u, [0xe5, 0x8e, 0x26]);
    const s: number[] = [];
    sleb(s, -123456);
    assert.deepEqual(s, [0xc0, 0xbb, 0x78]);
  });

  it('gemmRef matches a naive triple loop (with offsets, k = 0, accumulate)', () => {
    const r = rng(1);
    for (const [m, k, n] of [
      [3, 4, 5],
      [1, 0, 2],
      [6, 1, 1],
    ]) {
      for (const accumulate of [false, true]) {
        const A = randArray(r, m * k + 1);
        const B = randArray(r, k * n + 2);
        const C = randArray(r, m * n + 3);
        const want = C.slice();
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = accumulate ? want[3 + i * n + j] : 0;
            for (let p = 0; p < k; p++) s += A[1 + i * k + p] * B[2 + p * n + j];
            want[3 + i * n + j] = s;
          }
        }
        gemmRef(m, n, k, A, 1, B, 2, C, 3, accumulate);
        for (let i = 0; i < C.length; i++) assert.ok(Math.abs(C[i] - want[i]) <= 1e-14, `C[${i}]`);
      }
    }
  });

  it('RefGemmKernel implements the interface', () => {
    runResident(() => new RefGemmKernel(), 1e-14, 2, 9, 5);
  });

  it('wasm f64 equals gemmRef to 1e-12 relative on edge and random sizes', () => {
    runCases(() => new WasmGemmKernel(), 1e-12, 3);
  });

  it('wasm f64 with resident B: repeated calls with different m, offsets, no writes outside C', () => {
    runResident(() => new WasmGemmKernel(), 1e-12, 4, 37, 11);
    runResident(() => new WasmGemmKernel(), 1e-12, 5, 300, 16);
  });

  it('wasm f64 with other tile and block shapes (exercises every loop edge)', () => {
    const variants: WasmGemmOptions[] = [
      { mr: 1, nr: 2, unroll: 1, kc: 1, mcPanels: 1 },
      { mr: 5, nr: 6, unroll: 2, kc: 8, mcPanels: 3 },
      { mr: 6, nr: 4, unroll: 8, kc: 64, mcPanels: 2 },
      { mr: 3, nr: 8, unroll: 4, kc: 16, mcPanels: 5, fma: false },
    ];
    let seed = 10;
    for (const v of variants) {
      runCases(() => new WasmGemmKernel(v), 1e-12, seed++);
      runResident(() => new WasmGemmKernel(v), 1e-12, seed++, 21, 7);
    }
  });

  it('wasm f32 ("fast precision") is within float32 tolerance', () => {
    runCases(() => new WasmGemmKernel({ precision: 'f32' }), 2e-6, 20);
    runResident(() => new WasmGemmKernel({ precision: 'f32' }), 2e-6, 21, 300, 13);
    runCases(() => new WasmGemmKernel({ precision: 'f32', mr: 3, nr: 4, unroll: 2, kc: 6, mcPanels: 2 }), 2e-6, 22);
  });

  it('zero-copy views and compute', () => {
    const r = rng(30);
    const k = 19;
    const n = 8; // multiple of NR: output rows are dense
    const K = new WasmGemmKernel();
    const B = randArray(r, k * n);
    K.setB(k, n, B);
    const m = 23;
    const A = randArray(r, m * k);
    const want = new Float64Array(m * n);
    gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
    K.reserve(m);
    K.inputView(m).set(A);
    K.compute(m, false);
    const out = K.outputView(m);
    assert.equal(K.currentLayout.nPad, n);
    for (let i = 0; i < m * n; i++) assert.ok(Math.abs(out[i] - want[i]) <= 1e-12 * (1 + Math.abs(want[i])));
  });

  it('createGemmKernel picks wasm by default and ref on request', () => {
    const K = createGemmKernel();
    assert.match(K.name, /^wasm-f64/);
    runResident(() => K, 1e-12, 31, 10, 6);
    assert.equal(createGemmKernel({ kind: 'ref' }).name, 'ref-f64');
    const F = createGemmKernel({ precision: 'f32' });
    assert.match(F.name, /^wasm-f32/);
    F.dispose();
  });

  it('m = 0 and n = 0 leave C untouched', () => {
    const K = new WasmGemmKernel();
    const C = new Float64Array([1, 2, 3]);
    K.multiply(0, 3, 2, new Float64Array(0), new Float64Array(6), C, false);
    K.multiply(2, 0, 2, new Float64Array(4), new Float64Array(0), C, false);
    assert.deepEqual([...C], [1, 2, 3]);
  });
});

describe('kernels: parallel gemm (shared memory, helper threads)', () => {
  it('two threads equal gemmRef, before and after the helper is up', async () => {
    const K = new ParallelWasmGemm({ threads: 2, minParallelFlops: 0 });
    try {
      assert.equal(K.threads, 2, 'helper script found next to parallelGemm');
      runResident(() => K, 1e-12, 40, 50, 9); // (may run before the helper started)
    } catch (e) {
      K.dispose();
      throw e;
    }
    const K2 = new ParallelWasmGemm({ threads: 2, minParallelFlops: 0, mcPanels: 2 });
    try {
      for (let i = 0; i < 200 && K2.readyHelpers < 1; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(K2.readyHelpers, 1);
      const wrap: GemmKernel = {
        name: K2.name,
        multiply: (m, n, k, A, B, C, acc) => K2.multiply(m, n, k, A, B, C, acc),
        setB: (k, n, B, off) => K2.setB(k, n, B, off),
        multiplyResident: (m, A, C, acc, aOff, cOff) => K2.multiplyResident(m, A, C, acc, aOff, cOff),
        dispose: () => undefined,
      };
      for (let s = 0; s < 3; s++) runCases(() => wrap, 1e-12, 41 + s);
      runResident(() => wrap, 1e-12, 45, 64, 24);
    } finally {
      K.dispose();
      K2.dispose();
    }
  });
});
