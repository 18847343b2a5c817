// `--precision f32` keeps the accuracy the README states, through the built CLI: every lag figure within 1e-4
// in log10 of the float64 run wherever float64 is finite, 0 exactly where float64 is 0, the same counts and
// the same regime. The models are the ones float32 arithmetic gets wrong without care: saturated units whose
// σ′ (about 1e-48) is below float32's range, a saturating spike in the middle of a sequence, weights above
// float32's range, and saturated LSTM and GRU gates (two layers, so the input products are checked too).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureBuilt, runCli } from '../helpers/cli';
import type { Report } from '../../../src/engine/report/types';

/** The stated accuracy of --precision f32 (README, "The CLI"). */
const F32_LOG10_TOLERANCE = 1e-4;

const constant = (length: number, value: number): number[] => new Array<number>(length).fill(value);

const MODELS: Record<string, object | string> = {
  // every pre-activation near −110: σ′ ≈ 1.7e-48, so G·σ′ is below float32's smallest number
  'saturated sigmoid rnn': {
    cell: 'rnn',
    nonlinearity: 'sigmoid',
    input_size: 4,
    hidden_size: 48,
    init: { scheme: 'pytorch', seed: 1 },
    weights: { bias_ih_l0: constant(48, -110), bias_hh_l0: constant(48, 0) },
    data: { generate: { sequences: 2, length: 40, seed: 2 } },
    loss: 'sum',
  },
  // one input spike drives every pre-activation to about −200 at step 40: the pairs across it are 1e-87
  'saturating spike in a sigmoid rnn': {
    cell: 'rnn',
    nonlinearity: 'sigmoid',
    input_size: 2,
    hidden_size: 32,
    init: { scheme: 'orthogonal', gain: 8, seed: 3 },
    weights: { weight_ih_l0: constant(32, 0).map(() => [0.25, 0.25]), bias_ih_l0: constant(32, -2) },
    data: {
      inputs: [
        Array.from({ length: 100 }, (_, t) => (t === 40 ? [-400, -400] : [0.1 * Math.sin(t), 0.1 * Math.cos(t)])),
      ],
    },
    loss: 'sum',
  },
  // exploding: W_hh = 1e40 × orthogonal, whose entries are above float32's largest number
  'exploding linear rnn with weights above float32': {
    cell: 'rnn',
    nonlinearity: 'linear',
    input_size: 2,
    hidden_size: 64,
    init: { scheme: 'orthogonal', gain: 1e40, seed: 3 },
    data: { generate: { sequences: 2, length: 7, seed: 1 } },
    loss: 'sum',
  },
  // every gate near −110 (g = tanh(−110) = −1): dZ is about 1e-48
  'saturated lstm, two layers': {
    cell: 'lstm',
    input_size: 4,
    hidden_size: 32,
    num_layers: 2,
    init: { scheme: 'pytorch', seed: 1 },
    weights: {
      bias_ih_l0: constant(128, -110),
      bias_hh_l0: constant(128, 0),
      bias_ih_l1: constant(128, -110),
      bias_hh_l1: constant(128, 0),
    },
    data: { generate: { sequences: 2, length: 30, seed: 2 } },
    loss: 'sum',
  },
  // reset and update gates near −110: the product's input is about 1e-48, next to G ⊙ z in float64
  'saturated gru, two layers': {
    cell: 'gru',
    input_size: 4,
    hidden_size: 32,
    num_layers: 2,
    init: { scheme: 'pytorch', seed: 1 },
    weights: {
      bias_ih_l0: [...constant(64, -110), ...constant(32, 0)],
      bias_hh_l0: constant(96, 0),
      bias_ih_l1: [...constant(64, -110), ...constant(32, 0)],
      bias_hh_l1: constant(96, 0),
    },
    data: { generate: { sequences: 2, length: 30, seed: 2 } },
    loss: 'sum',
  },
  // ordinary models: the tolerance holds on them too (long chains, two layers)
  'tanh rnn, two layers': {
    cell: 'rnn',
    input_size: 5,
    hidden_size: 64,
    num_layers: 2,
    init: { scheme: 'pytorch', seed: 3 },
    data: { generate: { sequences: 2, length: 300, seed: 4 } },
  },
  'exploding tanh example': 'examples/exploding-tanh.rnn.json',
  lstm: {
    cell: 'lstm',
    input_size: 5,
    hidden_size: 48,
    init: { scheme: 'orthogonal', gain: 1.2, seed: 3, forget_bias: 1 },
    data: { generate: { sequences: 1, length: 300, seed: 4 } },
  },
  gru: {
    cell: 'gru',
    input_size: 5,
    hidden_size: 48,
    init: { scheme: 'pytorch', seed: 3 },
    data: { generate: { sequences: 1, length: 300, seed: 4 } },
  },
};

function analyze(file: string, precision: 'f64' | 'f32'): Report {
  const run = runCli(['analyze', file, '--json', '--precision', precision]);
  assert.strictEqual(run.status, 0, `${precision}: exit ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Report;
}

describe('CLI --precision f32 agrees with f64 (dist/cli.js)', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-f32-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, model] of Object.entries(MODELS)) {
    it(`${name}: every lag figure within ${F32_LOG10_TOLERANCE} in log10, zeros where f64 has zeros`, () => {
      let file: string;
      if (typeof model === 'string') file = path.resolve(__dirname, '..', '..', '..', '..', model);
      else {
        file = path.join(dir, `${name.replace(/\W+/g, '-')}.rnn.json`);
        fs.writeFileSync(file, JSON.stringify(model));
      }
      const exact = analyze(file, 'f64');
      const fast = analyze(file, 'f32');
      assert.strictEqual(fast.layers.length, exact.layers.length);
      let compared = 0;
      exact.layers.forEach((layer, k) => {
        const other = fast.layers[k];
        assert.strictEqual(other.regime, layer.regime, `layer ${k} regime`);
        assert.strictEqual(other.lags.length, layer.lags.length, `layer ${k} lags`);
        layer.lags.forEach((entry, lag) => {
          const got = other.lags[lag];
          assert.strictEqual(got.count, entry.count, `layer ${k} lag ${lag} count`);
          for (const key of ['mean', 'min', 'max'] as const) {
            const where = `layer ${k} lag ${lag} ${key}`;
            assert.strictEqual(got[key] === 0, entry[key] === 0, `${where}: f64 ${entry[key]}, f32 ${got[key]}`);
            const a = entry[`log10_${key}`] ?? null;
            const b = got[`log10_${key}`] ?? null;
            if (a === null || b === null) {
              assert.strictEqual(b, a, `${where}: log10 f64 ${a}, f32 ${b}`);
              continue;
            }
            assert.ok(Math.abs(a - b) <= F32_LOG10_TOLERANCE, `${where}: log10 f64 ${a}, f32 ${b}`);
            compared++;
          }
        });
      });
      assert.ok(compared > 0, 'some figures were compared');
    });
  }
});
