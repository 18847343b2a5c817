// The lag recursion's WebAssembly row kernels (kernels/rowKernels.ts) compute what the cells' TypeScript computes, in
// the same order, to the bit: checked here against plain TypeScript written from the formulas, on random rows over
// many decades, on a private and on a shared memory.
import * as assert from 'node:assert/strict';
import { WasmGemmKernel } from '../../../../src/engine/kernels/wasmGemm';
import { sumSquares4 } from '../../../../src/engine/cells/scratch';

/** Deterministic numbers over ±2^±60 with some zeros (mulberry32). */
function numbers(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = uniform();
    if (u < 0.05) return 0;
    return (uniform() < 0.5 ? -1 : 1) * uniform() * 2 ** Math.round(120 * uniform() - 60);
  };
}

/** A kernel's memory with `doubles` float64 of room past its regions: the region's first double and the view. */
function room(kernel: WasmGemmKernel, doubles: number): { at: number; mem: () => Float64Array } {
  const at = kernel.sideRegion(8 * doubles) / 8;
  return { at, mem: () => kernel.memoryView() };
}

for (const shared of [false, true]) {
  describe(`row kernels (${shared ? 'shared' : 'private'} memory)`, () => {
    it('lstmGateRows: the gate gradients, ∂ε/∂c_{j−1} and the sums of squares, to the bit (with and without projections)', () => {
      for (const [H, P, n] of [
        [2, 0, 1],
        [6, 0, 3],
        [40, 0, 9],
        [128, 0, 4],
        [2, 1, 2],
        [6, 5, 3],
        [40, 24, 9],
      ]) {
        const kernel = new WasmGemmKernel({ shared });
        const R = P || H;
        const S = R + H;
        const next = numbers(H * 31 + P * 7 + n);
        // Layout (doubles): rows n×S, factors 5H, forget gate H, sums n, A n×4H, prev n×S, ∂ε/∂m_j n×H (projections).
        const { at, mem } = room(kernel, n * S + 6 * H + n + n * 4 * H + n * S + n * H);
        const g = at;
        const f = g + n * S;
        const fg = f + 5 * H;
        const ss = fg + H;
        const a = ss + n;
        const p = a + n * 4 * H;
        const mRows = p + n * S;
        const end = mRows + n * H;
        const m = mem();
        for (let i = g; i < end; i++) m[i] = next();
        const before = m.slice(g, end);
        const mAt = P ? mRows : g;
        kernel.rowKernels().lstmGateRows(H, P)(8 * mAt, 8 * g, 8 * f, 8 * fg, 8 * ss, 8 * a, 8 * p, n);
        const after = mem();
        const v = (i: number): number => before[i - g];
        for (let r = 0; r < n; r++) {
          let sum = v(ss + r);
          for (let k = 0; k < H; k++) {
            const gm = P ? v(mRows + r * H + k) : v(g + r * S + k);
            const gc = v(g + r * S + R + k) + gm * v(f + k);
            sum += gc * gc;
            const want = [gc * v(f + H + k), gc * v(f + 2 * H + k), gc * v(f + 3 * H + k), gm * v(f + 4 * H + k)];
            for (let b = 0; b < 4; b++) {
              assert.equal(after[a + r * 4 * H + b * H + k], want[b], `H ${H} P ${P} row ${r} gate block ${b} k ${k}`);
            }
            assert.equal(after[p + r * S + R + k], gc * v(fg + k), `H ${H} P ${P} row ${r}: ∂ε/∂c_{j−1} at ${k}`);
          }
          // The h-part of prev is not written.
          for (let i = 0; i < R; i++) assert.equal(after[p + r * S + i], v(p + r * S + i));
          assert.equal(after[ss + r], sum, `H ${H} P ${P} row ${r}: the sum of squares`);
        }
        // The inputs are left as they were.
        for (let i = g; i < end; i++) {
          if ((i < ss || i >= ss + n) && (i < a || i >= p)) {
            if (i < p || (i - p) % S < R || i >= mRows) assert.equal(after[i], before[i - g], `input ${i - g}`);
          }
        }
        kernel.dispose();
      }
    });

    it('gruGateRows: the gate gradients as GruCell writes them, to the bit', () => {
      for (const [H, n] of [
        [2, 1],
        [6, 3],
        [40, 9],
      ]) {
        const kernel = new WasmGemmKernel({ shared });
        const next = numbers(H * 17 + n);
        // Layout (doubles): rows n×H, gates 4H (r, z, n in (0, 1) or (−1, 1), then W_hn h + b_hn), h_{j−1} H, A n×3H.
        const { at, mem } = room(kernel, n * H + 5 * H + n * 3 * H);
        const g = at;
        const gates = g + n * H;
        const h = gates + 4 * H;
        const a = h + H;
        const m = mem();
        for (let i = g; i < a + n * 3 * H; i++) m[i] = next();
        for (let k = 0; k < 3 * H; k++)
          m[gates + k] = Math.tanh(m[gates + k] * 1e-3) * (k < 2 * H ? 0.5 : 1) + (k < 2 * H ? 0.5 : 0);
        const before = m.slice(g, a + n * 3 * H);
        kernel.rowKernels().gruGateRows(H)(8 * g, 8 * gates, 8 * h, 8 * a, n);
        const after = mem();
        const v = (i: number): number => before[i - g];
        for (let r = 0; r < n; r++) {
          for (let k = 0; k < H; k++) {
            const gk = v(g + r * H + k);
            const [rg, z, nk, hn] = [0, 1, 2, 3].map((b) => v(gates + b * H + k));
            const dan = gk * (1 - z) * (1 - nk * nk);
            const want = [dan * hn * rg * (1 - rg), gk * (v(h + k) - nk) * z * (1 - z), dan * rg];
            for (let b = 0; b < 3; b++) {
              assert.equal(after[a + r * 3 * H + b * H + k], want[b], `H ${H} row ${r} block ${b} k ${k}`);
            }
          }
        }
        for (let i = g; i < a; i++) assert.equal(after[i], before[i - g], 'the inputs are left as they were');
        kernel.dispose();
      }
    });

    it('rnnRows: each row ⊙ the factors, its largest |entry| (NaN left out) and sums of squares, to the bit', () => {
      for (const [H, n] of [
        [2, 1],
        [6, 5],
        [40, 9],
      ]) {
        const kernel = new WasmGemmKernel({ shared });
        const next = numbers(H * 7 + n);
        // Layout (doubles): rows n×H, factors H, A n×H, results n×3.
        const { at, mem } = room(kernel, n * H + H + n * H + 3 * n);
        const g = at;
        const d = g + n * H;
        const a = d + H;
        const res = a + n * H;
        const m = mem();
        for (let i = g; i < res + 3 * n; i++) m[i] = next();
        // NaN and ∞ entries: at the first, a middle and the last entry of some rows.
        if (n > 2) m[g] = NaN;
        if (n > 3) m[g + 2 * H + (H >> 1)] = Infinity;
        if (n > 4) m[g + 4 * H - 1] = NaN;
        const before = m.slice(g, res);
        kernel.rowKernels().rnnRows(H)(8 * g, 8 * d, 8 * a, 8 * res, n);
        const after = mem();
        const v = (i: number): number => before[i - g];
        for (let r = 0; r < n; r++) {
          let max = 0;
          let ss = 0;
          let sx = 0;
          for (let k = 0; k < H; k++) {
            const x = v(g + r * H + k);
            if (Math.abs(x) > max) max = Math.abs(x);
            ss += x * x;
            const y = x * v(d + k);
            sx += y * y;
            assert.ok(Object.is(after[a + r * H + k], y), `H ${H} row ${r} k ${k}`);
          }
          assert.ok(
            Object.is(after[res + 3 * r], max),
            `H ${H} row ${r}: largest |entry| ${after[res + 3 * r]} vs ${max}`,
          );
          assert.ok(Object.is(after[res + 3 * r + 1], ss), `H ${H} row ${r}: Σ g²`);
          assert.ok(Object.is(after[res + 3 * r + 2], sx), `H ${H} row ${r}: Σ (g ⊙ d)²`);
        }
        kernel.dispose();
      }
    });

    it('sumSquaresRows: each row summed in order as sumSquares4 sums, for any number of rows', () => {
      const kernel = new WasmGemmKernel({ shared });
      for (const [n, width, stride] of [
        [1, 1, 1],
        [3, 7, 9],
        [8, 160, 160],
        [13, 33, 40],
        [17, 1024, 1024],
      ]) {
        const next = numbers(n * 1000 + width);
        const { at, mem } = room(kernel, n * stride + 8 * Math.ceil(n / 8));
        const out = at + n * stride;
        const m = mem();
        for (let i = at; i < out; i++) m[i] = next();
        kernel.rowKernels().sumSquaresRows(8 * at, 8 * stride, 8 * width, n, 8 * out);
        const got = mem();
        const q = new Float64Array(4);
        for (let r = 0; r < n; r++) {
          const row = got.subarray(at + r * stride, at + r * stride + width);
          sumSquares4(row, 0, row, 0, row, 0, row, 0, width, q);
          assert.equal(got[out + r], q[0], `${n} rows of ${width}: row ${r}`);
        }
      }
      kernel.dispose();
    });
  });
}

describe('row kernels: shapes', () => {
  it('the gate kernels need an even hidden size', () => {
    const kernel = new WasmGemmKernel();
    assert.throws(() => kernel.rowKernels().lstmGateRows(7), /even/);
    assert.throws(() => kernel.rowKernels().gruGateRows(0), /even/);
    assert.throws(() => kernel.rowKernels().rnnRows(3), /even/);
    kernel.dispose();
  });
});
