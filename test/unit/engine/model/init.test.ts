// init schemes, the seeded generator and data.generate.
import * as assert from 'assert';
import { parseModel, type ParseResult } from '../../../../src/engine/model/parse';
import { SeededRandom } from '../../../../src/engine/model/random';
import type { Model } from '../../../../src/engine/model/types';

function parse(model: unknown): ParseResult {
  return parseModel(JSON.stringify(model));
}

function ok(model: unknown): Model {
  const result = parse(model);
  assert.deepStrictEqual(result.problems, []);
  return result.model!;
}

/** Max |QᵀQ − I| over an n×n block stored at `offset` of a row-major matrix with n columns. */
function orthogonalityError(data: Float64Array, offset: number, n: number, gain: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += data[offset + r * n + i] * data[offset + r * n + j];
      worst = Math.max(worst, Math.abs(dot / (gain * gain) - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

const data = {
  inputs: [
    [
      [1, 2],
      [3, 4],
    ],
  ],
};

describe('SeededRandom', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepStrictEqual(
      xs,
      Array.from({ length: 5 }, () => b.nextUint32()),
    );
    assert.notDeepStrictEqual(
      xs,
      Array.from({ length: 5 }, () => c.nextUint32()),
    );
  });

  it('produces uniform [0,1) and roughly standard normals', () => {
    const rng = new SeededRandom(0);
    let sum = 0;
    let sumSq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1);
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    assert.ok(Math.abs(sum / n) < 0.05);
    assert.ok(Math.abs(sumSq / n - 1) < 0.05);
  });

  it('matches the documented first outputs for seed 0 (reproducibility anchor)', () => {
    const rng = new SeededRandom(0);
    const first = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    // Recorded from this implementation; the algorithm is in docs/model-files.md.
    assert.deepStrictEqual(first, SEED0_FIRST_OUTPUTS);
  });
});

// Checked against the C reference of xoshiro128** seeded by the splitmix32 described in docs/model-files.md.
const SEED0_FIRST_OUTPUTS = [3809008728, 1133695204, 53579671];

describe('init', () => {
  it('pytorch: every weight and bias uniform in ±1/√H, deterministic in the seed', () => {
    const spec = { cell: 'lstm', input_size: 2, hidden_size: 4, num_layers: 2, init: { seed: 7 }, data };
    const a = ok(spec);
    const b = ok(spec);
    const c = ok({ ...spec, init: { seed: 8 } });
    assert.strictEqual(a.layers.length, 2);
    assert.strictEqual(a.layers[0].weightIh.rows, 16);
    assert.strictEqual(a.layers[1].weightIh.cols, 4);
    for (const layer of a.layers) {
      for (const t of [layer.weightIh.data, layer.weightHh.data, layer.biasIh, layer.biasHh]) {
        assert.ok(t.every((v) => Math.abs(v) <= 0.5));
        assert.ok(t.some((v) => v !== 0));
      }
    }
    assert.deepStrictEqual(a.layers, b.layers);
    assert.notDeepStrictEqual(a.layers[0].weightHh.data, c.layers[0].weightHh.data);
  });

  it('orthogonal: each gate block of weight_hh is gain·Q with QᵀQ = I; biases zero', () => {
    const m = ok({
      cell: 'gru',
      input_size: 3,
      hidden_size: 5,
      init: { scheme: 'orthogonal', gain: 2, seed: 3 },
      data: { inputs: [[1, 2, 3]] },
    });
    const w = m.layers[0].weightHh;
    assert.strictEqual(w.rows, 15);
    for (let g = 0; g < 3; g++) assert.ok(orthogonalityError(w.data, g * 25, 5, 2) < 1e-12);
    assert.ok(m.layers[0].biasIh.every((v) => v === 0));
    assert.ok(m.layers[0].weightIh.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(5)));
  });

  it('identity (IRNN): weight_hh = gain·I, biases 0, small normal weight_ih', () => {
    const m = ok({
      nonlinearity: 'relu',
      input_size: 2,
      hidden_size: 3,
      init: { scheme: 'identity', gain: 0.9 },
      data,
    });
    const w = Array.from(m.layers[0].weightHh.data);
    assert.deepStrictEqual(w, [0.9, 0, 0, 0, 0.9, 0, 0, 0, 0.9]);
    assert.ok(m.layers[0].biasHh.every((v) => v === 0));
    assert.ok(m.layers[0].weightIh.data.every((v) => Math.abs(v) < 0.01));
  });

  it('normal: weights N(0, std²), biases 0', () => {
    const m = ok({ input_size: 2, hidden_size: 40, init: { scheme: 'normal', std: 0.5 }, data });
    const w = m.layers[0].weightHh.data;
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    assert.ok(Math.abs(Math.sqrt(variance) - 0.5) < 0.05, String(Math.sqrt(variance)));
    assert.ok(m.layers[0].biasIh.every((v) => v === 0));
  });

  it('forget_bias sets the f block of bias_ih and zeroes that of bias_hh (lstm)', () => {
    const m = ok({ cell: 'lstm', input_size: 2, hidden_size: 2, init: { forget_bias: 1 }, data });
    assert.deepStrictEqual(Array.from(m.layers[0].biasIh.subarray(2, 4)), [1, 1]);
    assert.deepStrictEqual(Array.from(m.layers[0].biasHh.subarray(2, 4)), [0, 0]);
    assert.ok(m.layers[0].biasIh.subarray(0, 2).some((v) => v !== 0));
  });

  it('keeps given weights and initialises only the rest, independently of what is given', () => {
    const full = ok({ input_size: 2, hidden_size: 2, init: { seed: 1 }, data });
    const partial = ok({
      input_size: 2,
      init: { seed: 1 },
      weights: {
        weight_hh_l0: [
          [1, 0],
          [0, 1],
        ],
      },
      data,
    });
    assert.deepStrictEqual(Array.from(partial.layers[0].weightHh.data), [1, 0, 0, 1]);
    assert.deepStrictEqual(partial.layers[0].weightIh.data, full.layers[0].weightIh.data);
    assert.deepStrictEqual(partial.layers[0].biasHh, full.layers[0].biasHh);
  });

  it('takes the input size from the data when nothing else gives it', () => {
    const m = ok({ hidden_size: 3, init: {}, data: { inputs: [[1, 2, 3, 4]] } });
    assert.strictEqual(m.inputSize, 4);
    assert.strictEqual(m.layers[0].weightIh.cols, 4);
  });

  it('needs hidden_size when no weights give it', () => {
    const p = parse({ init: {}, data }).problems;
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['init']],
    );
  });

  it('refuses orthogonal initialisation beyond its work limit', () => {
    const p = parse({
      cell: 'lstm',
      hidden_size: 600,
      input_size: 1,
      init: { scheme: 'orthogonal' },
      data: { inputs: [[1]] },
    }).problems;
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['init']],
    );
    assert.ok(p[0].message.includes('the limit is'));
  });

  it('rejects gain/std for schemes that do not use them', () => {
    const p = parse({ hidden_size: 2, init: { scheme: 'pytorch', gain: 2 }, data }).problems;
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['init', 'gain']],
    );
  });
});

describe('data.generate', () => {
  const weights = {
    weight_ih_l0: [
      [1, 0],
      [0, 1],
    ],
    weight_hh_l0: [
      [0.5, 0],
      [0, 0.5],
    ],
  };

  it('creates B sequences of T steps from the seed, reproducibly', () => {
    const a = ok({ weights, data: { generate: { sequences: 3, length: 5, seed: 9 } } });
    const b = ok({ weights, data: { generate: { sequences: 3, length: 5, seed: 9 } } });
    const c = ok({ weights, data: { generate: { sequences: 3, length: 5, seed: 10 } } });
    assert.deepStrictEqual(
      a.sequences.map((s) => s.length),
      [5, 5, 5],
    );
    assert.strictEqual(a.sequences[0].inputs.length, 10);
    assert.deepStrictEqual(a.sequences, b.sequences);
    assert.notDeepStrictEqual(a.sequences[0].inputs, c.sequences[0].inputs);
  });

  it('uniform draws lie in [−scale, scale)', () => {
    const m = ok({ weights, data: { generate: { sequences: 2, length: 50, distribution: 'uniform', scale: 0.1 } } });
    for (const s of m.sequences) assert.ok(s.inputs.every((v) => v >= -0.1 && v < 0.1));
  });

  it('normal draws are the generator’s normals times scale', () => {
    const m = ok({ weights, data: { generate: { sequences: 1, length: 2, scale: 3, seed: 5 } } });
    const rng = new SeededRandom(5);
    const want = Array.from({ length: 4 }, () => 3 * rng.normal());
    assert.deepStrictEqual(Array.from(m.sequences[0].inputs), want);
  });

  it('accepts targets mirroring the generated sequences', () => {
    const m = ok({
      weights,
      loss: 'cross_entropy',
      data: {
        generate: { sequences: 2, length: 2 },
        targets: [
          [0, 1],
          [1, 0],
        ],
      },
    });
    assert.deepStrictEqual(Array.from(m.sequences[1].targets!), [1, 0]);
  });
});
