// Helpers for CheckpointTensor values: lazily decoded tensors, strided gathers, 2-D accessors.
import { decodeElements } from './bytes';
import { DTYPE_BYTES, type CheckpointTensor, type TensorDtype } from './types';

/**
 * A tensor whose `data` is decoded on first access (and kept). Readers check every offset and size
 * before making one, so decoding itself only reads bytes already known to be present.
 */
export function lazyTensor(shape: number[], dtype: TensorDtype, decode: () => Float64Array): CheckpointTensor {
  let cached: Float64Array | undefined;
  return {
    shape,
    dtype,
    get data(): Float64Array {
      if (!cached) cached = decode();
      return cached;
    },
  };
}

/** A tensor with its data already decoded. */
export function denseTensor(shape: number[], dtype: TensorDtype, data: Float64Array): CheckpointTensor {
  return { shape, dtype, data };
}

/** True when `stride` is the C-order (row-major) stride of `size`, ignoring dimensions of size 1. */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d];
  }
  return true;
}

/**
 * Largest element index (plus one) a view reads: offset + Σ (size−1)·stride + 1, or `offset` for
 * an empty view. Returns Infinity beyond 2^53.
 */
export function viewExtent(offset: number, size: readonly number[], stride: readonly number[]): number {
  let last = offset;
  for (let d = 0; d < size.length; d++) {
    if (size[d] === 0) return offset;
    last += (size[d] - 1) * stride[d];
  }
  const extent = last + 1;
  return Number.isSafeInteger(extent) ? extent : Infinity;
}

/**
 * Decodes a strided view of a storage (`bytes` holds the storage's elements from index 0) into a
 * dense C-order array of `count` elements. The caller has checked `viewExtent` against the storage.
 */
export function gatherStrided(
  bytes: Uint8Array,
  dtype: TensorDtype,
  littleEndian: boolean,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  count: number,
): Float64Array {
  const itemSize = DTYPE_BYTES[dtype];
  if (isContiguous(size, stride)) return decodeElements(bytes, offset * itemSize, count, dtype, littleEndian);
  const out = new Float64Array(count);
  if (count === 0) return out;
  // Strides are non-negative, so the view reads elements offset … extent−1 only: decode those once.
  const extent = viewExtent(offset, size, stride);
  const span = decodeElements(bytes, offset * itemSize, extent - offset, dtype, littleEndian);
  const rank = size.length;
  const index = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    out[i] = span[pos];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      pos += stride[d];
      if (index[d] < size[d]) break;
      pos -= index[d] * stride[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Converts a Fortran-order (column-major) array of `shape` to C order. */
export function fortranToC(data: Float64Array, shape: readonly number[]): Float64Array {
  const rank = shape.length;
  if (rank < 2) return data;
  const stride = new Array<number>(rank);
  let s = 1;
  for (let d = 0; d < rank; d++) {
    stride[d] = s;
    s *= shape[d];
  }
  const size = shape.slice();
  const out = new Float64Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let i = 0; i < data.length; i++) {
    out[i] = data[pos];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      pos += stride[d];
      if (index[d] < size[d]) break;
      pos -= index[d] * stride[d];
      index[d] = 0;
    }
  }
  return out;
}
