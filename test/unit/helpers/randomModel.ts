// Random small models for the engine's tests: every cell, form, nonlinearity, loss and version-2 architecture.
import {
  type CellType,
  type Direction,
  type GruReset,
  type LossKind,
  type Model,
  type Nonlinearity,
  type RnnForm,
  GATES,
} from '../../../src/engine/model/types';

/** A small deterministic generator for test data (xorshift32), values in [−0.5, 0.5). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}

export interface RandomModelConfig {
  cell: CellType;
  form?: RnnForm;
  nonlinearity?: Nonlinearity;
  loss: LossKind;
  layers: number;
  readout: boolean;
  omitBias?: boolean;
  bidirectional?: boolean;
  projSize?: number;
  gruReset?: GruReset;
  /** Vocabulary size of an embedding (layer 0 reads token ids). */
  vocabulary?: number;
  /** Hidden size (default 3). */
  hidden?: number;
  /** The sequences' lengths (default 5, 5, 3, 4, 4, 3: two of each length in training batches of 3). */
  lengths?: number[];
  batchSize?: number;
}

/** A model with random weights and data from a seed. */
export function randomModel(c: RandomModelConfig, seed: number): Model {
  const r = rng(seed);
  const H = c.hidden ?? 3;
  const I = 2;
  const G = GATES[c.cell];
  const P = c.projSize ?? 0;
  const R = P > 0 ? P : H;
  const dirs = c.bidirectional ? 2 : 1;
  const W = dirs * R;
  const D = c.readout ? 4 : W;
  const scale = Math.sqrt(3 / H);
  const mat = (rows: number, cols: number, s: number) => ({
    rows,
    cols,
    data: Float64Array.from({ length: rows * cols }, () => r() * s),
  });
  const vec = (n: number, s: number) => Float64Array.from({ length: n }, () => r() * s);
  const directions: Direction[] = c.bidirectional ? ['forward', 'reverse'] : ['forward'];
  const layers = Array.from({ length: c.layers }, (_, k) =>
    directions.map((direction) => ({
      layer: k,
      direction,
      weightIh: mat(G * H, k === 0 ? I : W, 1.6),
      weightHh: mat(G * H, R, 1.6 * scale),
      biasIh: c.omitBias ? new Float64Array(G * H) : vec(G * H, 0.6),
      biasHh: c.omitBias ? new Float64Array(G * H) : vec(G * H, 0.6),
      ...(P > 0 ? { weightHr: mat(P, H, 1.2) } : {}),
      ...(c.omitBias ? { omitted: ['biasIh', 'biasHh'] as ('biasIh' | 'biasHh')[] } : {}),
    })),
  ).flat();
  const lengths = c.lengths ?? [5, 5, 3, 4, 4, 3];
  const V = c.vocabulary;
  const sequences = lengths.map((T) => ({
    length: T,
    inputs: V ? new Float64Array(0) : vec(T * I, 2),
    ...(V ? { tokens: Int32Array.from({ length: T }, () => Math.floor((r() + 0.5) * V)) } : {}),
    targets:
      c.loss === 'mse'
        ? vec(T * D, 2)
        : c.loss === 'cross_entropy'
          ? Float64Array.from({ length: T }, () => Math.floor((r() + 0.5) * D))
          : undefined,
  }));
  return {
    cell: c.cell,
    form: c.form ?? 'elman',
    nonlinearity: c.nonlinearity ?? 'tanh',
    inputSize: I,
    hiddenSize: H,
    numLayers: c.layers,
    outputSize: D,
    layers,
    readout: c.readout ? { weight: mat(D, W, 1), bias: vec(D, 0.5) } : undefined,
    ...(V ? { embedding: mat(V, I, 1.5) } : {}),
    sequences,
    loss: c.loss,
    training: { clipNorm: null, clipValue: null, batchSize: c.batchSize ?? 3 },
    gruReset: c.gruReset ?? 'after',
    projSize: P,
    bidirectional: c.bidirectional ?? false,
    source: { format: 'json', module: '' },
    v2Features: [],
  };
}
