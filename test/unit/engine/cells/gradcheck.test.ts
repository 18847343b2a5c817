// Central finite-difference checks of every parameter gradient, for every cell, form, nonlinearity and
// loss, with multi-layer and readout variants, and the version-2 architectures: bidirectional stacks (the
// reverse weights), LSTM projections (weight_hr), an embedding (embedding.weight) and GRU reset-before.
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
  paramName,
} from '../../../../src/engine/model/types';
import { randomModel, type RandomModelConfig } from '../../helpers/randomModel';

type Config = RandomModelConfig;

function makeModel(c: Config, seed: number): Model {
  return randomModel(c, seed);
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
  model.layers.forEach((w) => {
    const name = (kind: string): string => paramName(kind, w.layer, w.direction);
    out.push([name('weight_ih'), w.weightIh.data], [name('weight_hh'), w.weightHh.data]);
    if (!w.omitted?.includes('biasIh')) out.push([name('bias_ih'), w.biasIh]);
    if (!w.omitted?.includes('biasHh')) out.push([name('bias_hh'), w.biasHh]);
    if (w.weightHr) out.push([name('weight_hr'), w.weightHr.data]);
  });
  if (model.readout) out.push(['readout.weight', model.readout.weight.data], ['readout.bias', model.readout.bias]);
  if (model.embedding) out.push(['embedding.weight', model.embedding.data]);
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
  describe('version-2 architectures', () => {
    const cases: [string, Config][] = [
      [
        'bidirectional rnn elman tanh, 2 layers, readout, mse',
        { cell: 'rnn', loss: 'mse', layers: 2, readout: true, bidirectional: true },
      ],
      [
        'bidirectional rnn pascanu sigmoid, 1 layer, cross_entropy',
        {
          cell: 'rnn',
          form: 'pascanu',
          nonlinearity: 'sigmoid',
          loss: 'cross_entropy',
          layers: 1,
          readout: true,
          bidirectional: true,
        },
      ],
      [
        'bidirectional lstm, 2 layers, sum',
        { cell: 'lstm', loss: 'sum', layers: 2, readout: false, bidirectional: true },
      ],
      [
        'bidirectional gru, 2 layers, cross_entropy, no biases',
        { cell: 'gru', loss: 'cross_entropy', layers: 2, readout: true, bidirectional: true, omitBias: true },
      ],
      [
        'lstm with projections (P 2), 2 layers, mse',
        { cell: 'lstm', loss: 'mse', layers: 2, readout: true, projSize: 2 },
      ],
      [
        'bidirectional lstm with projections (P 1), 2 layers, sum',
        { cell: 'lstm', loss: 'sum', layers: 2, readout: false, bidirectional: true, projSize: 1 },
      ],
      ['gru reset-before, 1 layer, mse', { cell: 'gru', loss: 'mse', layers: 1, readout: true, gruReset: 'before' }],
      [
        'gru reset-before, 3 layers, sum, no biases',
        { cell: 'gru', loss: 'sum', layers: 3, readout: false, gruReset: 'before', omitBias: true },
      ],
      [
        'bidirectional gru reset-before, 2 layers, cross_entropy',
        { cell: 'gru', loss: 'cross_entropy', layers: 2, readout: true, bidirectional: true, gruReset: 'before' },
      ],
      [
        'embedding (V 5) into an rnn, cross_entropy',
        { cell: 'rnn', loss: 'cross_entropy', layers: 1, readout: true, vocabulary: 5 },
      ],
      [
        'embedding (V 4) into a bidirectional lstm with projections, 2 layers, mse',
        { cell: 'lstm', loss: 'mse', layers: 2, readout: true, bidirectional: true, projSize: 2, vocabulary: 4 },
      ],
      [
        'embedding (V 3) into a gru reset-before, sum',
        { cell: 'gru', loss: 'sum', layers: 1, readout: false, gruReset: 'before', vocabulary: 3 },
      ],
    ];
    cases.forEach(([label, config], i) => it(label, () => check(config, 500 + i)));
  });
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
