// A growable scratch buffer, reused across steps so that the hot loop does not allocate.

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
