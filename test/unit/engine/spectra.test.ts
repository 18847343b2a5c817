// The spectra of the report (linalg.ts: σ_max by the Gram matrix's largest eigenvalue, the spectral radius by
// Hessenberg reduction and Francis QR) against matrices whose spectra are known by construction.
import * as assert from 'assert';
import { largestSingularValue, spectralRadius } from '../../../src/engine/linalg';

/** A seeded generator in [−0.5, 0.5). */
function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/** A random n×n orthogonal matrix (row-major): a product of n Householder reflections. */
function orthogonal(n: number, rnd: () => number): Float64Array {
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  const v = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let vv = 0;
    for (let i = 0; i < n; i++) {
      v[i] = rnd();
      vv += v[i] * v[i];
    }
    // Q ← Q (I − 2 v vᵀ / vᵀv)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Q[i * n + j] * v[j];
      s = (2 * s) / vv;
      for (let j = 0; j < n; j++) Q[i * n + j] -= s * v[j];
    }
  }
  return Q;
}

/** A · B for n×n row-major matrices. */
function mul(n: number, A: Float64Array, B: Float64Array): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k];
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[k * n + j];
    }
  return C;
}

function transpose(n: number, A: Float64Array): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = A[i * n + j];
  return T;
}

function relClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * expected, `${what}: ${actual} vs ${expected}`);
}

describe('spectra against known spectra (linalg.ts)', () => {
  for (const n of [7, 64, 160]) {
    it(`σ_max of U·diag(σ)·Vᵀ, n=${n}: the largest σ`, () => {
      const rnd = generator(n);
      const U = orthogonal(n, rnd);
      const V = orthogonal(n, rnd);
      const sigma = Array.from({ length: n }, (_, i) => 0.1 + i / n);
      sigma[n >> 1] = 1.75; // the largest, somewhere in the middle
      const S = new Float64Array(n * n);
      sigma.forEach((s, i) => (S[i * n + i] = s));
      const M = mul(n, mul(n, U, S), transpose(n, V));
      relClose(largestSingularValue(n, n, M), 1.75, 1e-12, 'σ_max');
      // Scaled far outside 1: the same up to the scale.
      relClose(
        largestSingularValue(
          n,
          n,
          M.map((x) => x * 2 ** 600),
        ),
        1.75 * 2 ** 600,
        1e-12,
        'σ_max ×2^600',
      );
    });

    it(`spectral radius of Q·B·Qᵀ with rotation blocks, n=${n}: the largest |λ| (complex pair)`, () => {
      const rnd = generator(1000 + n);
      const Q = orthogonal(n, rnd);
      // Block diagonal: 2×2 blocks [[a, −b], [b, a]] (eigenvalues a ± ib) and, for odd n, one real eigenvalue.
      const B = new Float64Array(n * n);
      let expected = 0;
      for (let i = 0; i + 1 < n; i += 2) {
        const a = 0.3 * Math.cos(i);
        const b = 0.2 + 0.1 * Math.sin(i);
        B[i * n + i] = a;
        B[(i + 1) * n + i + 1] = a;
        B[i * n + i + 1] = -b;
        B[(i + 1) * n + i] = b;
        expected = Math.max(expected, Math.hypot(a, b));
      }
      // The largest: a pair 0.6 ± 0.8i (|λ| = 1).
      B[0] = 0.6;
      B[n + 1] = 0.6;
      B[1] = -0.8;
      B[n] = 0.8;
      expected = Math.max(expected, 1);
      if (n % 2 === 1) B[n * n - 1] = -0.5;
      const M = mul(n, mul(n, Q, B), transpose(n, Q));
      relClose(spectralRadius(n, M), expected, 1e-12, 'radius');
    });
  }

  it('spectral radius of a non-normal matrix: triangular with a known diagonal, hidden by a similarity', () => {
    const n = 40;
    const rnd = generator(7);
    const R = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      R[i * n + i] = i === 17 ? -1.3 : 0.9 * Math.sin(i + 1);
      for (let j = i + 1; j < n; j++) R[i * n + j] = rnd();
    }
    const Q = orthogonal(n, rnd);
    const M = mul(n, mul(n, Q, R), transpose(n, Q));
    relClose(spectralRadius(n, M), 1.3, 1e-10, 'radius');
  });
});
