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
    runCases(() => new WasmGemmKernel({ precision: 'f32', mr: 5, nr: 8, unroll: 1, kc: 7, mcPanels: 3 }), 2e-6, 23);
    runCases(() => new WasmGemmKernel({ precision: 'f32', mr: 1, nr: 4, unroll: 1, kc: 5, mcPanels: 1 }), 2e-6, 24);
  });

  it('wasm f32: several resident matrices (addB / useB) each give their own product', () => {
    const r = rng(23);
    for (const precision of ['f64', 'f32'] as const) {
      const K = new WasmGemmKernel({ precision });
      const shapes: Array<[number, number]> = [
        [40, 12],
        [7, 33],
        [64, 64],
      ];
      const Bs = shapes.map(([k, n]) => randArray(r, k * n));
      const slots = shapes.map(([k, n], i) => K.addB(k, n, Bs[i]));
      for (const i of [2, 0, 1, 0, 2]) {
        const [k, n] = shapes[i];
        K.useB(slots[i]);
        const m = 9 + i;
        const A = randArray(r, m * k);
        const want = new Float64Array(m * n);
        gemmRef(m, n, k, A, 0, Bs[i], 0, want, 0, false);
        const got = new Float64Array(m * n);
        K.multiplyResident(m, A, got, false);
        checkClose(m, n, k, A, Bs[i], got, false, want, got, precision === 'f64' ? 1e-12 : 2e-6, `slot ${i}`);
      }
      K.dispose();
    }
  });

  describe('wasm f32 keeps float64 range', () => {
    /** Per-row relative error ‖got_r − want_r‖ / ‖want_r‖ (0 when both rows are 0). */
    function rowErrors(m: number, n: number, want: Float64Array, got: Float64Array): number[] {
      const out: number[] = [];
      for (let i = 0; i < m; i++) {
        // in units of the row's largest |entry|, so that squares neither overflow nor underflow
        let big = 0;
        for (let j = 0; j < n; j++) big = Math.max(big, Math.abs(want[i * n + j]));
        let d = 0;
        let w = 0;
        for (let j = 0; j < n; j++) {
          d += ((got[i * n + j] - want[i * n + j]) / (big || 1)) ** 2;
          w += (want[i * n + j] / (big || 1)) ** 2;
        }
        out.push(w === 0 ? (d === 0 ? 0 : Infinity) : Math.sqrt(d / w));
      }
      return out;
    }

    function product(K: GemmKernel, m: number, k: number, n: number, A: Float64Array, B: Float64Array): Float64Array {
      const C = new Float64Array(m * n);
      K.setB(k, n, B);
      K.multiplyResident(m, A, C, false);
      return C;
    }

    it('rows scaled from 1e-250 to 1e250 and columns from 1e-20 to 1e20 keep float32 relative accuracy', () => {
      const r = rng(50);
      const [m, k, n] = [37, 70, 19];
      const A = randArray(r, m * k);
      const B = randArray(r, k * n);
      for (let i = 0; i < m; i++) {
        const s = 10 ** Math.round(500 * r() - 250);
        for (let p = 0; p < k; p++) A[i * k + p] *= s;
      }
      for (let j = 0; j < n; j++) {
        const s = 10 ** Math.round(40 * r() - 20);
        for (let p = 0; p < k; p++) B[p * n + j] *= s;
      }
      // within a row, entries of about 1e-48 (a saturated sigmoid's σ′) next to entries of 1
      for (let p = 0; p < k; p += 3) A[p] *= 1e-48;
      const want = new Float64Array(m * n);
      gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
      const K = new WasmGemmKernel({ precision: 'f32' });
      const got = product(K, m, k, n, A, B);
      // float32's error bound, |ΔC_ij| ≤ tol · Σ_p |A_ip B_pj|, at every scale
      checkClose(m, n, k, A, B, want, false, want, got, 2e-6, 'scaled rows and columns');
      // only rows whose sum cancels (here one, whose largest column's dot product cancels) go to float64
      assert.ok(K.fallbackRows <= 2, `${K.fallbackRows} rows recomputed in float64`);
      K.dispose();
    });

    it('a whole product of 1e-48-sized inputs (G·σ′ of a saturated sigmoid) is not flushed to zero', () => {
      const r = rng(51);
      const [m, k, n] = [20, 64, 64];
      const A = randArray(r, m * k).map((x) => x * 1.7e-48);
      const B = randArray(r, k * n).map((x) => x * 1e-41);
      const want = new Float64Array(m * n);
      gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
      const K = new WasmGemmKernel({ precision: 'f32' });
      const got = product(K, m, k, n, A, B);
      rowErrors(m, n, want, got).forEach((e, i) => assert.ok(e <= 1e-5, `row ${i}: relative error ${e}`));
      K.dispose();
    });

    it('rows whose tiny entries carry the product are recomputed in float64; negligible ones are not', () => {
      const r = rng(52);
      const [m, k, n] = [12, 40, 16];
      const A = randArray(r, m * k);
      const B = randArray(r, k * n);
      // B's first row is zero: A's entry 0 (the row's largest, 1e70 times the rest) adds nothing, so the
      // product is carried by entries float32 cannot hold next to it.
      for (let j = 0; j < n; j++) B[j] = 0;
      for (let i = 0; i < m; i += 2) A[i * k] = 1e70;
      // odd rows: the same spread, but the large entry meets a non-zero B row (the tiny ones are negligible)
      for (let j = 0; j < n; j++) B[n + j] = 1;
      for (let i = 1; i < m; i += 2) A[i * k + 1] = 1e70;
      const want = new Float64Array(m * n);
      gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
      const K = new WasmGemmKernel({ precision: 'f32' });
      const got = product(K, m, k, n, A, B);
      const errors = rowErrors(m, n, want, got);
      for (let i = 0; i < m; i += 2) assert.ok(errors[i] <= 1e-14, `even row ${i} (float64): ${errors[i]}`);
      for (let i = 1; i < m; i += 2) assert.ok(errors[i] <= 1e-6, `odd row ${i} (float32): ${errors[i]}`);
      assert.equal(K.fallbackRows, m / 2);
      K.dispose();
    });

    it('rows whose sum cancels are recomputed in float64 (float32 would give noise or 0)', () => {
      const r = rng(55);
      const [m, k, n] = [8, 64, 8];
      const A = randArray(r, m * k);
      const B = randArray(r, k * n);
      // B's last row is its first plus 1e-9 (below float32's resolution); even rows of A cancel on them
      for (let j = 0; j < n; j++) B[(k - 1) * n + j] = B[j] + 1e-9;
      for (let i = 0; i < m; i += 2) {
        A.fill(0, i * k, (i + 1) * k);
        A[i * k] = 1;
        A[i * k + k - 1] = -1;
      }
      const want = new Float64Array(m * n);
      gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
      const K = new WasmGemmKernel({ precision: 'f32' });
      const got = product(K, m, k, n, A, B);
      const errors = rowErrors(m, n, want, got);
      for (let i = 0; i < m; i += 2) assert.ok(errors[i] <= 1e-6, `cancelling row ${i}: ${errors[i]}`);
      for (let i = 1; i < m; i += 2) assert.ok(errors[i] <= 1e-5, `row ${i}: ${errors[i]}`);
      assert.ok(K.fallbackRows >= m / 2 && K.fallbackRows <= m / 2 + 1, `${K.fallbackRows} rows recomputed`);
      K.dispose();
    });

    it('columns of B whose tiny entries carry the product are caught too', () => {
      const r = rng(53);
      const [m, k, n] = [6, 10, 8];
      const A = new Float64Array(m * k);
      // A's rows live on entries 1..k−1; B's column 0 is 1e80 at row 0 and 1 elsewhere
      for (let i = 0; i < m; i++) for (let p = 1; p < k; p++) A[i * k + p] = r() * 2 - 1;
      const B = randArray(r, k * n);
      B[0] = 1e80;
      const want = new Float64Array(m * n);
      gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
      const K = new WasmGemmKernel({ precision: 'f32' });
      const got = product(K, m, k, n, A, B);
      rowErrors(m, n, want, got).forEach((e, i) => assert.ok(e <= 1e-6, `row ${i}: relative error ${e}`));
      let worst = 0;
      for (let i = 0; i < m; i++) worst = Math.max(worst, Math.abs(got[i * n] - want[i * n]) / Math.abs(want[i * n]));
      assert.ok(worst <= 1e-14, `column 0 in float64: ${worst}`);
      K.dispose();
    });

    it('NaN and ∞ anywhere in a row (first, middle, last entry, odd k, every tile height) give what float64 gives', () => {
      // The packer finds a row's largest |entry| with f64x2.pmax, which skips NaN: a NaN is found by the row's sum of
      // squares instead. Rows packed two at a time (an odd tile height leaves one alone), k odd and even.
      const r = rng(61);
      for (const mr of [1, 3, 4, 5]) {
        for (const k of [1, 2, 7, 30]) {
          const [m, n] = [11, 8];
          const A = randArray(r, m * k);
          A[0] = NaN; // row 0, first entry
          A[2 * k + (k >> 1)] = NaN; // row 2, middle
          A[3 * k + k - 1] = NaN; // row 3, last (the odd entry when k is odd)
          A.fill(NaN, 5 * k, 6 * k); // row 5, all NaN
          A[7 * k] = -Infinity; // row 7: ∞ and NaN
          A[7 * k + k - 1] = NaN;
          A[9 * k + k - 1] = Infinity; // row 9, last
          const B = randArray(r, k * n);
          const want = new Float64Array(m * n);
          gemmRef(m, n, k, A, 0, B, 0, want, 0, false);
          const K = new WasmGemmKernel({ precision: 'f32', mr, nr: 8 });
          const got = new Float64Array(m * n);
          K.setB(k, n, B);
          K.multiplyResident(m, A, got, false);
          for (let i = 0; i < m * n; i++) {
            const where = `mr=${mr} k=${k} C[${Math.floor(i / n)}][${i % n}] = ${got[i]}, want ${want[i]}`;
            if (!Number.isFinite(want[i]))
              assert.ok(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])), where);
            else assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * (Math.abs(want[i]) + 1), where);
          }
          // Exactly the six rows with a non-finite entry are recomputed in float64 (only rows 0, 2, 3, 5, 7 and 9).
          assert.strictEqual(K.fallbackRows, 6, `mr=${mr} k=${k}: ${K.fallbackRows} rows recomputed`);
          K.dispose();
        }
      }
    });

    it('non-finite rows give what float64 gives; accumulate keeps C in float64', () => {
      const r = rng(54);
      const [m, k, n] = [9, 30, 12];
      const A = randArray(r, m * k);
      A[2 * k + 5] = Infinity;
      A[4 * k + 7] = NaN;
      const B = randArray(r, k * n);
      const C0 = randArray(r, m * n).map((x) => x * 1e20);
      for (const accumulate of [false, true]) {
        for (const K of [
          new WasmGemmKernel({ precision: 'f32' }),
          new ParallelWasmGemm({ precision: 'f32', threads: 2, minParallelFlops: 0 }),
        ]) {
          const want = C0.slice();
          gemmRef(m, n, k, A, 0, B, 0, want, 0, accumulate);
          const got = C0.slice();
          K.setB(k, n, B);
          K.multiplyResident(m, A, got, accumulate);
          for (let i = 0; i < m * n; i++) {
            if (!Number.isFinite(want[i]))
              assert.ok(
                Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])),
                `C[${i}] = ${got[i]}, want ${want[i]}`,
              );
            else
              assert.ok(
                Math.abs(got[i] - want[i]) <= 1e-6 * (accumulate ? Math.abs(C0[i]) + 10 : 10),
                `C[${i}] = ${got[i]}, want ${want[i]}`,
              );
          }
          K.dispose();
        }
      }
    });
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
        precision: K2.precision,
        addB: (k, n, B, off) => K2.addB(k, n, B, off),
        useB: (slot) => K2.useB(slot),
        clearB: () => K2.clearB(),
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
