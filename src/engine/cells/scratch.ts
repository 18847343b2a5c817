// A growable scratch buffer, reused across steps so that the hot loop does not allocate.
import { rescaleRow } from '../logscale';

/** Returns a Float64Array of at least `size` entries, reusing `current` when it is big enough. */
export function ensureSize(current: Float64Array, size: number): Float64Array {
  return current.length >= size ? current : new Float64Array(Math.max(size, current.length * 2));
}

/** Accumulates the outer products Σ_r d[r]ᵀ v into acc (gateRows × cols), for `rows` rows of d. */
export function addOuter(
  acc: Float64Array,
  d: Float64Array,
  rows: number,
  gateRows: number,
  v: Float64Array,
  vOff: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const dr = r * gateRows;
    for (let g = 0; g < gateRows; g++) {
      const a = d[dr + g];
      if (a === 0) continue;
      const ag = g * cols;
      for (let c = 0; c < cols; c++) acc[ag + c] += a * v[vOff + c];
    }
  }
}

/** Adds the rows of d (rows × width) into acc (width). */
export function addRows(acc: Float64Array, d: Float64Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) for (let g = 0; g < width; g++) acc[g] += d[r * width + g];
}

/** Writes the Euclidean norm of each row of d (rows × width) times `factor` into out. */
export function rowNorms(d: Float64Array, rows: number, width: number, factor: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let g = r * width, e = g + width; g < e; g++) s += d[g] * d[g];
    out[r] = Math.sqrt(s) * factor;
  }
}

/**
 * For four rows of G starting at o0 … o3 (width S): the largest |entry| of each row into out[0 … 3] and the sum of
 * squares of its first R entries into out[4 … 7], each summed in order from the row's first entry (as rowNorms and
 * the lag recursion's rowNormsOf sum). The four rows go together so that their sums' dependency chains overlap; the
 * same offset may repeat (fewer rows).
 */
export function scanRows4(
  G: Float64Array,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  R: number,
  S: number,
  out: Float64Array,
): void {
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < R; i++) {
    const g0 = G[o0 + i];
    const g1 = G[o1 + i];
    const g2 = G[o2 + i];
    const g3 = G[o3 + i];
    const a0 = Math.abs(g0);
    const a1 = Math.abs(g1);
    const a2 = Math.abs(g2);
    const a3 = Math.abs(g3);
    if (a0 > m0) m0 = a0;
    if (a1 > m1) m1 = a1;
    if (a2 > m2) m2 = a2;
    if (a3 > m3) m3 = a3;
    s0 += g0 * g0;
    s1 += g1 * g1;
    s2 += g2 * g2;
    s3 += g3 * g3;
  }
  for (let i = R; i < S; i++) {
    const a0 = Math.abs(G[o0 + i]);
    const a1 = Math.abs(G[o1 + i]);
    const a2 = Math.abs(G[o2 + i]);
    const a3 = Math.abs(G[o3 + i]);
    if (a0 > m0) m0 = a0;
    if (a1 > m1) m1 = a1;
    if (a2 > m2) m2 = a2;
    if (a3 > m3) m3 = a3;
  }
  out[0] = m0;
  out[1] = m1;
  out[2] = m2;
  out[3] = m3;
  out[4] = s0;
  out[5] = s1;
  out[6] = s2;
  out[7] = s3;
}

/**
 * The sums of squares of four rows a0[o0 …] … a3[o3 …] (width entries each) into out[0 … 3], each summed in order
 * from its first entry (as rowNorms sums), the four together so that their dependency chains overlap. Rows may
 * repeat (fewer rows).
 */
export function sumSquares4(
  a0: Float64Array,
  o0: number,
  a1: Float64Array,
  o1: number,
  a2: Float64Array,
  o2: number,
  a3: Float64Array,
  o3: number,
  width: number,
  out: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < width; i++) {
    const x0 = a0[o0 + i];
    const x1 = a1[o1 + i];
    const x2 = a2[o2 + i];
    const x3 = a3[o3 + i];
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * The fused lag steps' contributions of rows r0 … r0 + c − 1 (c ≤ 4): row i's gate gradients are the `width` entries
 * of dsts[i] from offs[i], and out[r0 + i] = their norm (sumSquares4, four rows side by side) × factor. Entries c … 3
 * of dsts and offs are set to the last row's. `q` holds 4 entries.
 */
export function groupContributions(
  dsts: Float64Array[],
  offs: number[],
  c: number,
  width: number,
  factor: number,
  q: Float64Array,
  out: Float64Array,
  r0: number,
): void {
  for (let i = c; i < 4; i++) {
    dsts[i] = dsts[c - 1];
    offs[i] = offs[c - 1];
  }
  sumSquares4(dsts[0], offs[0], dsts[1], offs[1], dsts[2], offs[2], dsts[3], offs[3], width, q);
  for (let i = 0; i < c; i++) out[r0 + i] = Math.sqrt(q[i]) * factor;
}

/**
 * The lag recursion's first pass over rows r0 … r0 + c − 1 (c ≤ 4) of G (width S): each row whose largest |entry|
 * left the range is rescaled as rescaleRows does (the exponent added to exp[r]), and the sum of squares of its
 * first R entries, after rescaling, summed in order as rowNormsOf sums, goes to ss[r]. `q` holds 8 entries.
 */
export function scanRowGroup(
  G: Float64Array,
  r0: number,
  c: number,
  R: number,
  S: number,
  exp: Float64Array,
  range: { big: number; small: number },
  ss: Float64Array,
  q: Float64Array,
): void {
  const last = r0 + c - 1;
  scanRows4(G, r0 * S, Math.min(r0 + 1, last) * S, Math.min(r0 + 2, last) * S, last * S, R, S, q);
  for (let i = 0; i < c; i++) {
    const r = r0 + i;
    const g0 = r * S;
    let s = q[4 + i];
    const e = rescaleRow(G, g0, S, q[i], range);
    if (e !== 0) {
      // A rescaled row is read again.
      exp[r] += e;
      s = 0;
      for (let k = g0, end = g0 + R; k < end; k++) s += G[k] * G[k];
    }
    ss[r] = s;
  }
}
