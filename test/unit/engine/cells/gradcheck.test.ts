// Central finite-difference checks of every parameter gradient, for every cell, form, nonlinearity and
// loss, with multi-layer and readout variants.
import * as assert from 'assert';
import { analyzeModel } from '../../../../src/engine/analyze';
import { buildCells } from '../../../../src/engine/cells';
import { LossFunction } from '../../../../src/engine/loss';
import { forwardSequence } from '../../../../src/engine/network';
import {
  type CellType,
  type LossKind,
  type Model,
  type Nonlinearity,
  type RnnForm,
  GATES,
} from '../../../../src/engine/model/types';

/** A small deterministic generator for test data (xorshift32). */
function rng(seed: number): () => number {
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

interface Config {
  cell: CellType;
  form?: RnnForm;
  nonlinearity?: Nonlinearity;
  loss: LossKind;
  layers: number;
  readout: boolean;
  omitBias?: boolean;
}

function makeModel(c: Config, seed: number): Model {
  const r = rng(seed);
  const H = 3;
  const I = 2;
  const G = GATES[c.cell];
  const D = c.readout ? 4 : H;
  const mat = (rows: number, cols: number, scale: number) => ({
    rows,
    cols,
    data: Float64Array.from({ length: rows * cols }, () => r() * scale),
  });
  const vec = (n: number, scale: number) => Float64Array.from({ length: n }, () => r() * scale);
  const layers = Array.from({ length: c.layers }, (_, k) => ({
    layer: k,
    direction: 'forward' as const,
    weightIh: mat(G * H, k === 0 ? I : H, 1.6),
    weightHh: mat(G * H, H, 1.6),
    biasIh: c.omitBias ? new Float64Array(G * H) : vec(G * H, 0.6),
    biasHh: c.omitBias ? new Float64Array(G * H) : vec(G * H, 0.6),
    ...(c.omitBias ? { omitted: ['biasIh', 'biasHh'] as ('biasIh' | 'biasHh')[] } : {}),
  }));
  const lengths = [5, 3, 4];
  const sequences = lengths.map((T) => ({
    length: T,
    inputs: vec(T * I, 2),
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
    readout: c.readout ? { weight: mat(D, H, 1), bias: vec(D, 0.5) } : undefined,
    sequences,
    loss: c.loss,
    training: { clipNorm: null, clipValue: null, batchSize: 2 },
    gruReset: 'after',
    projSize: 0,
    bidirectional: false,
    source: { format: 'json', module: '' },
    v2Features: [],
  };
}

/** ε over all sequences: (1/B) Σ_b Σ_t ε_{b,t}. */
function lossOf(model: Model): number {
  const cells = buildCells(model);
  const fn = new LossFunction(model);
  let s = 0;
  for (const seq of model.sequences) s += forwardSequence(model, cells, fn, seq).loss;
  return s / model.sequences.length;
}

/** The parameter arrays in the report's order and names. */
function params(model: Model): [string, Float64Array][] {
  const out: [string, Float64Array][] = [];
  model.layers.forEach((w, k) => {
    out.push([`weight_ih_l${k}`, w.weightIh.data], [`weight_hh_l${k}`, w.weightHh.data]);
    if (!w.omitted?.includes('biasIh')) out.push([`bias_ih_l${k}`, w.biasIh]);
    if (!w.omitted?.includes('biasHh')) out.push([`bias_hh_l${k}`, w.biasHh]);
  });
  if (model.readout) out.push(['readout.weight', model.readout.weight.data], ['readout.bias', model.readout.bias]);
  return out;
}

function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v as number];
}

function check(c: Config, seed: number): void {
  const model = makeModel(c, seed);
  const report = analyzeModel(model, { file: 'gradcheck', gradientValues: true });
  assert.ok(
    report.loss !== null && Math.abs(report.loss - lossOf(model)) < 1e-12 * Math.max(1, Math.abs(report.loss)),
    'loss',
  );
  const h = 1e-6;
  let checked = 0;
  for (const [name, data] of params(model)) {
    const analytic = flat(report.gradients[name]?.values);
    assert.strictEqual(analytic.length, data.length, `${name}: gradient size`);
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      data[i] = x + h;
      const up = lossOf(model);
      data[i] = x - h;
      const down = lossOf(model);
      data[i] = x;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]);
      assert.ok(
        err <= 1e-6 * Math.max(1, Math.abs(numeric)),
        `${name}[${i}]: analytic ${analytic[i]} vs central difference ${numeric} (error ${err})`,
      );
      checked++;
    }
  }
  assert.ok(checked > 20, 'checked some entries');
}

describe('finite-difference gradient check', () => {
  const losses: LossKind[] = ['sum', 'mse', 'cross_entropy'];
  const nonlinearities: Nonlinearity[] = ['tanh', 'relu', 'sigmoid', 'linear'];
  let seed = 1;
  for (const form of ['elman', 'pascanu'] as RnnForm[]) {
    for (const nonlinearity of nonlinearities) {
      for (const loss of losses) {
        const s = seed++;
        it(`rnn ${form} ${nonlinearity}, ${loss} loss, readout`, () =>
          check({ cell: 'rnn', form, nonlinearity, loss, layers: 1, readout: true }, s));
      }
      const s = seed++;
      it(`rnn ${form} ${nonlinearity}, 2 layers, no readout, mse`, () =>
        check({ cell: 'rnn', form, nonlinearity, loss: 'mse', layers: 2, readout: false }, s));
    }
  }
  for (const cell of ['lstm', 'gru'] as CellType[]) {
    for (const loss of losses) {
      const s = seed++;
      it(`${cell}, ${loss} loss, readout`, () => check({ cell, loss, layers: 1, readout: true }, s));
    }
    const s1 = seed++;
    it(`${cell}, 3 layers, no readout, sum`, () => check({ cell, loss: 'sum', layers: 3, readout: false }, s1));
    const s2 = seed++;
    it(`${cell}, 2 layers, readout, cross_entropy, no biases`, () =>
      check({ cell, loss: 'cross_entropy', layers: 2, readout: true, omitBias: true }, s2));
  }
  it('detects a wrong gradient (the check can fail)', () => {
    const model = makeModel({ cell: 'gru', loss: 'mse', layers: 1, readout: true }, 99);
    const report = analyzeModel(model, { file: 'x', gradientValues: true });
    const values = report.gradients.weight_hh_l0.values as number[][];
    values[0][0] += 1e-3;
    const data = model.layers[0].weightHh.data;
    const x = data[0];
    data[0] = x + 1e-6;
    const up = lossOf(model);
    data[0] = x - 1e-6;
    const down = lossOf(model);
    data[0] = x;
    assert.ok(Math.abs((up - down) / 2e-6 - values[0][0]) > 1e-4);
  });
});
