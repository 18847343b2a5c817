// Dense float64 linear algebra for the engine: matrix products, singular values, eigenvalues.

/** C (m×n) (+)= A (m×k) · B (k×n), row-major: the plain reference product (one implementation). */
export { gemmRef as gemm } from './kernels/gemm';

/** y (rows) = M (rows×cols, row-major) · x (cols), added to y when `accumulate`. */
export function matVec(
  rows: number,
  cols: number,
  M: Float64Array,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    let s = accumulate ? y[yOff + r] : 0;
    const mr = r * cols;
    for (let c = 0; c < cols; c++) s += M[mr + c] * x[xOff + c];
    y[yOff + r] = s;
  }
}

/** Euclidean norm of v[off .. off+len), computed without overflow for large finite entries. */
export function norm2(v: Float64Array, off = 0, len = v.length - off): number {
  let scale = 0;
  for (let i = off; i < off + len; i++) {
    const a = Math.abs(v[i]);
    if (a > scale) scale = a;
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = off; i < off + len; i++) {
    const a = v[i] / scale;
    s += a * a;
  }
  return scale * Math.sqrt(s);
}

/**
 * Largest singular value of a rows×cols matrix: √λ_max(MᵀM), computed on M scaled to max |entry| 1 so
 * that MᵀM cannot overflow. `tick` is called now and then (cancellation).
 */
export function largestSingularValue(
  rows: number,
  cols: number,
  M: Float64Array,
  tick: () => void = () => undefined,
): number {
  if (rows === 0 || cols === 0) return 0;
  let scale = 0;
  for (const x of M) scale = Math.max(scale, Math.abs(x));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  const g = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    if ((r & 63) === 0) tick();
    const mr = r * cols;
    for (let i = 0; i < cols; i++) {
      const a = M[mr + i] / scale;
      if (a === 0) continue;
      for (let j = i; j < cols; j++) g[i * cols + j] += (a * M[mr + j]) / scale;
    }
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) g[i * cols + j] = g[j * cols + i];
  return scale * Math.sqrt(Math.max(0, largestSymmetricEigenvalue(cols, g, tick)));
}

/**
 * Largest eigenvalue of a symmetric n×n matrix (row-major; overwritten): Householder
 * tridiagonalisation, then bisection on the Sturm sequence count to full double precision.
 */
export function largestSymmetricEigenvalue(n: number, S: Float64Array, tick: () => void = () => undefined): number {
  if (n === 1) return S[0];
  toHessenberg(n, S, tick);
  const d = new Float64Array(n);
  const e2 = new Float64Array(n); // e2[i] = squared off-diagonal between i−1 and i
  for (let i = 0; i < n; i++) d[i] = S[i * n + i];
  for (let i = 1; i < n; i++) {
    const e = 0.5 * (S[i * n + i - 1] + S[(i - 1) * n + i]);
    e2[i] = e * e;
  }
  // Gershgorin interval.
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.sqrt(e2[i]) : 0) + (i + 1 < n ? Math.sqrt(e2[i + 1]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
  }
  // Number of eigenvalues below x (Sturm count through the LDLᵀ pivots of T − xI).
  const below = (x: number): number => {
    let count = 0;
    let q = 1;
    for (let i = 0; i < n; i++) {
      q = d[i] - x - (i > 0 ? e2[i] / q : 0);
      if (q === 0) q = -1e-300;
      if (q < 0) count++;
    }
    return count;
  };
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (below(mid) === n) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Eigenvalues (real and imaginary parts) of a general real n×n matrix: Householder reduction to
 * upper Hessenberg form, then the implicitly shifted (Francis double-shift) QR algorithm.
 */
export function eigenvalues(
  n: number,
  M: Float64Array,
  tick: () => void = () => undefined,
): { re: Float64Array; im: Float64Array } {
  const h = Float64Array.from(M);
  toHessenberg(n, h, tick);
  return hessenbergQr(n, h, tick);
}

/**
 * Householder reduction of a (row-major, n×n) matrix to upper Hessenberg form, in place, by orthogonal
 * similarity transforms: eigenvalues are kept, and a symmetric matrix becomes tridiagonal.
 */
function toHessenberg(n: number, h: Float64Array, tick: () => void = () => undefined): void {
  const at = (i: number, j: number): number => h[i * n + j];
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  // Householder reduction to Hessenberg form.
  for (let k = 0; k < n - 2; k++) {
    if ((k & 15) === 0) tick();
    let alpha = 0;
    for (let i = k + 1; i < n; i++) alpha += at(i, k) * at(i, k);
    alpha = Math.sqrt(alpha);
    if (alpha === 0) continue;
    if (at(k + 1, k) > 0) alpha = -alpha;
    v.fill(0);
    v[k + 1] = at(k + 1, k) - alpha;
    for (let i = k + 2; i < n; i++) v[i] = at(i, k);
    let vv = 0;
    for (let i = k + 1; i < n; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    // H = (I - 2vvᵀ/vᵀv) H (I - 2vvᵀ/vᵀv)
    // Left: w = vᵀH (row by row, for cache locality), then H −= (2/vᵀv) v wᵀ. Columns j < k of rows i > k are
    // already zero (w[j] = 0 there: skipping them changes nothing).
    w.fill(0);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      const row = i * n;
      for (let j = k; j < n; j++) w[j] += vi * h[row + j];
    }
    for (let i = k + 1; i < n; i++) {
      const f = (2 * v[i]) / vv;
      if (f === 0) continue;
      const row = i * n;
      for (let j = k; j < n; j++) h[row + j] -= f * w[j];
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += h[i * n + j] * v[j];
      s = (2 * s) / vv;
      for (let j = k + 1; j < n; j++) h[i * n + j] -= s * v[j];
    }
  }
}

/**
 * Francis double-shift QR on an upper Hessenberg matrix (in place); returns its eigenvalues.
 * One long function on purpose: it follows the classic hqr sweep (find a small subdiagonal, deflate one or two
 * eigenvalues, else form the shift and chase the bulge), whose steps share the active window's indices and the
 * shift; split into functions, that state would travel through many parameters and the steps would no longer
 * read against the textbook algorithm.
 */
function hessenbergQr(n: number, a: Float64Array, tick: () => void): { re: Float64Array; im: Float64Array } {
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(a[i * n + j]);
  let nn = n - 1;
  let t = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      tick();
      for (l = nn; l >= 1; l--) {
        const s = Math.abs(a[(l - 1) * n + (l - 1)]) + Math.abs(a[l * n + l]);
        const scale = s === 0 ? anorm : s;
        if (Math.abs(a[l * n + (l - 1)]) + scale === scale) {
          a[l * n + (l - 1)] = 0;
          break;
        }
      }
      const x = a[nn * n + nn];
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        const y = a[(nn - 1) * n + (nn - 1)];
        const w = a[nn * n + (nn - 1)] * a[(nn - 1) * n + nn];
        if (l === nn - 1) {
          const p = 0.5 * (y - x);
          const q = p * p + w;
          const z = Math.sqrt(Math.abs(q));
          const xx = x + t;
          if (q >= 0) {
            const zz = p + (p >= 0 ? Math.abs(z) : -Math.abs(z));
            wr[nn - 1] = wr[nn] = xx + zz;
            if (zz !== 0) wr[nn] = xx - w / zz;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = xx + p;
            wi[nn - 1] = -z;
            wi[nn] = z;
          }
          nn -= 2;
        } else {
          if (its === 60) {
            // No convergence: fall back to the diagonal for the rest (never happens on sane input).
            for (let i = 0; i <= nn; i++) {
              wr[i] = a[i * n + i] + t;
              wi[i] = 0;
            }
            nn = -1;
            break;
          }
          let xs = x;
          let ys = y;
          let ws = w;
          if (its === 10 || its === 20) {
            t += xs;
            for (let i = 0; i <= nn; i++) a[i * n + i] = a[i * n + i] - xs;
            const s = Math.abs(a[nn * n + (nn - 1)]) + Math.abs(a[(nn - 1) * n + (nn - 2)]);
            xs = ys = 0.75 * s;
            ws = -0.4375 * s * s;
          }
          its++;
          let m: number;
          let p = 0;
          let q = 0;
          let r = 0;
          let z = 0;
          for (m = nn - 2; m >= l; m--) {
            z = a[m * n + m];
            const rr = xs - z;
            const ss = ys - z;
            p = (rr * ss - ws) / a[(m + 1) * n + m] + a[m * n + (m + 1)];
            q = a[(m + 1) * n + (m + 1)] - z - rr - ss;
            r = a[(m + 2) * n + (m + 1)];
            const s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m * n + (m - 1)]) * (Math.abs(q) + Math.abs(r));
            const v =
              Math.abs(p) * (Math.abs(a[(m - 1) * n + (m - 1)]) + Math.abs(z) + Math.abs(a[(m + 1) * n + (m + 1)]));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i * n + (i - 2)] = 0;
            if (i !== m + 2) a[i * n + (i - 3)] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            let xnorm = 0;
            if (k !== m) {
              p = a[k * n + (k - 1)];
              q = a[(k + 1) * n + (k - 1)];
              r = k !== nn - 1 ? a[(k + 2) * n + (k - 1)] : 0;
              xnorm = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (xnorm !== 0) {
                p /= xnorm;
                q /= xnorm;
                r /= xnorm;
              }
            }
            const mag = Math.sqrt(p * p + q * q + r * r);
            const s = p >= 0 ? mag : -mag;
            if (s === 0) continue;
            if (k === m) {
              if (l !== m) a[k * n + (k - 1)] = -a[k * n + (k - 1)];
            } else {
              a[k * n + (k - 1)] = -s * xnorm;
            }
            p += s;
            const xr = p / s;
            const yr = q / s;
            const zr = r / s;
            q /= p;
            r /= p;
            for (let j = k; j <= nn; j++) {
              let pp = a[k * n + j] + q * a[(k + 1) * n + j];
              if (k !== nn - 1) {
                pp += r * a[(k + 2) * n + j];
                a[(k + 2) * n + j] = a[(k + 2) * n + j] - pp * zr;
              }
              a[(k + 1) * n + j] = a[(k + 1) * n + j] - pp * yr;
              a[k * n + j] = a[k * n + j] - pp * xr;
            }
            const mmin = nn < k + 3 ? nn : k + 3;
            for (let i = l; i <= mmin; i++) {
              let pp = xr * a[i * n + k] + yr * a[i * n + (k + 1)];
              if (k !== nn - 1) {
                pp += zr * a[i * n + (k + 2)];
                a[i * n + (k + 2)] = a[i * n + (k + 2)] - pp * r;
              }
              a[i * n + (k + 1)] = a[i * n + (k + 1)] - pp * q;
              a[i * n + k] = a[i * n + k] - pp;
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return { re: wr, im: wi };
}

/** Largest |eigenvalue| of a square n×n matrix. */
export function spectralRadius(n: number, M: Float64Array, tick: () => void = () => undefined): number {
  if (n === 0) return 0;
  // Scaled to entries of at most 1 first, so the reduction's products stay in range for any finite matrix.
  let scale = 0;
  for (const x of M) scale = Math.max(scale, Math.abs(x));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  const { re, im } = eigenvalues(
    n,
    M.map((x) => x / scale),
    tick,
  );
  let best = 0;
  for (let i = 0; i < n; i++) best = Math.max(best, Math.hypot(re[i], im[i]));
  return scale * best;
}
