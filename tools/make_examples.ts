// Writes the example models in examples/ (seeded, so reruns are byte-identical):
//
//   npx esbuild tools/make_examples.ts --bundle --platform=node --outfile=/tmp/make_examples.js && node /tmp/make_examples.js
//
// Run from the repository root. Uses the engine's own seeded generator (xoshiro128**) and orthogonal
// draw, and writeSafetensors for the GRU's weights file. Numbers are rounded (6 significant digits)
// so the files stay readable.
import * as fs from 'fs';
import * as path from 'path';
import { SeededRandom } from '../src/engine/model/random';
import { randomOrthogonal } from '../src/engine/model/init';
import { writeSafetensors, type TensorToWrite } from '../src/engine/model/safetensors';

type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

const OUT = path.resolve(process.argv[2] ?? 'examples');

function round(x: number): number {
  const r = Number(x.toPrecision(6));
  return Object.is(r, -0) ? 0 : r;
}

/** rows×cols matrix of uniform draws in [−a, a). */
function uniform(rng: SeededRandom, rows: number, cols: number, a: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(rng.uniformIn(-a, a))));
}

function uniformVec(rng: SeededRandom, n: number, a: number): number[] {
  return Array.from({ length: n }, () => round(rng.uniformIn(-a, a)));
}

/** gain · Q, Q a random n×n orthogonal matrix. */
function scaledOrthogonal(rng: SeededRandom, n: number, gain: number): number[][] {
  const q = randomOrthogonal(n, rng);
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => round(gain * q[i * n + j])));
}

/** B sequences of T steps of I normal numbers with standard deviation `scale`. */
function normalInputs(rng: SeededRandom, B: number, T: number, I: number, scale: number): number[][][] {
  return Array.from({ length: B }, () =>
    Array.from({ length: T }, () => Array.from({ length: I }, () => round(scale * rng.normal()))),
  );
}

/** JSON with objects indented and arrays of numbers kept on one line (one matrix row per line). */
function format(value: Json, indent = ''): string {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return '[' + value.map((v) => JSON.stringify(v)).join(', ') + ']';
    return '[\n' + value.map((v) => inner + format(v, inner)).join(',\n') + '\n' + indent + ']';
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return (
      '{\n' +
      entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`).join(',\n') +
      '\n' +
      indent +
      '}'
    );
  }
  return JSON.stringify(value);
}

function write(name: string, model: Json): void {
  fs.writeFileSync(path.join(OUT, name), format(model) + '\n');
  console.log(`wrote ${path.join(path.relative(process.cwd(), OUT), name)}`);
}

function flat(m: number[][] | number[]): number[] {
  return (m as (number | number[])[]).flat();
}

/** One regression target in [−1, 1] per sequence and step (B × T × 1). */
function regressionTargets(rng: SeededRandom, B: number, T: number): number[][][] {
  return Array.from({ length: B }, () => Array.from({ length: T }, () => [round(rng.uniformIn(-1, 1))]));
}

/**
 * A one-layer lstm's weights (gate order i, f, g, o): small uniform weights, biases uniform in ±0.1 except the
 * forget gate's, set to `forgetBias` (the generator draws the biases first, then W_ih, then W_hh).
 */
function lstmWeights(rng: SeededRandom, H: number, I: number, forgetBias: number): Json {
  const biasIh = uniformVec(rng, 4 * H, 0.1);
  for (let i = H; i < 2 * H; i++) biasIh[i] = forgetBias;
  return {
    weight_ih_l0: uniform(rng, 4 * H, I, 0.3),
    weight_hh_l0: uniform(rng, 4 * H, H, 0.2),
    bias_ih_l0: biasIh,
    bias_hh_l0: new Array(4 * H).fill(0),
  };
}

fs.mkdirSync(OUT, { recursive: true });

// 1. Exploding tanh rnn: W_hh = 1.5·Q, tiny inputs keep tanh in its linear range, so every step back
//    through time multiplies the gradient norm by about 1.5.
{
  const rng = new SeededRandom(1);
  const H = 6;
  const I = 2;
  const B = 4;
  const T = 16;
  write('exploding-tanh.rnn.json', {
    name: 'exploding tanh rnn: W_hh = 1.5 x orthogonal',
    cell: 'rnn',
    form: 'elman',
    nonlinearity: 'tanh',
    weights: {
      weight_ih_l0: uniform(rng, H, I, 1 / Math.sqrt(H)),
      weight_hh_l0: scaledOrthogonal(rng, H, 1.5),
      bias_ih_l0: new Array(H).fill(0),
      bias_hh_l0: new Array(H).fill(0),
    },
    readout: { weight: uniform(rng, 1, H, 1 / Math.sqrt(H)), bias: [0] },
    data: {
      inputs: normalInputs(rng, B, T, I, 1e-4),
      targets: regressionTargets(rng, B, T),
    },
    loss: 'mse',
    training: { clip_norm: 1, batch_size: 2 },
  });
}

// 2. Vanishing sigmoid rnn in Pascanu et al.'s form x_t = W_hh σ(x_{t−1}) + W_ih u_t + b:
//    γ = sup σ' = 1/4 and σ_max(W_hh) = 2 < 1/γ = 4, so the gradients vanish (their sufficient condition).
{
  const rng = new SeededRandom(2);
  const H = 6;
  const I = 2;
  const B = 3;
  const T = 30;
  write('vanishing-sigmoid.rnn.json', {
    name: 'vanishing sigmoid rnn (Pascanu form): sigma_max(W_hh) = 2 < 1/gamma = 4',
    cell: 'rnn',
    form: 'pascanu',
    nonlinearity: 'sigmoid',
    weights: {
      weight_ih_l0: uniform(rng, H, I, 1),
      weight_hh_l0: scaledOrthogonal(rng, H, 2),
      bias_ih_l0: uniformVec(rng, H, 0.1),
      bias_hh_l0: new Array(H).fill(0),
    },
    data: { inputs: normalInputs(rng, B, T, I, 1) },
    loss: 'sum',
    training: { clip_norm: 5, batch_size: 1 },
  });
}

// 3. Healthy lstm: small weights and a forget-gate bias of 3 (f ≈ 0.95), so the cell state carries the
//    gradient over long lags; readout to 3 classes with cross-entropy.
{
  const rng = new SeededRandom(3);
  const H = 8;
  const I = 3;
  const D = 3;
  const B = 4;
  const T = 40;
  write('healthy-lstm.rnn.json', {
    name: 'healthy lstm: forget-gate bias 3',
    cell: 'lstm',
    weights: lstmWeights(rng, H, I, 3),
    readout: { weight: uniform(rng, D, H, 1 / Math.sqrt(H)), bias: new Array(D).fill(0) },
    data: {
      inputs: normalInputs(rng, B, T, I, 1),
      targets: Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(rng.uniform() * D))),
    },
    loss: 'cross_entropy',
    training: { clip_norm: 10, batch_size: 2 },
  });
}

// 4. GRU whose weights live in a .safetensors file (F32), next to the model file.
{
  const rng = new SeededRandom(4);
  const H = 6;
  const I = 2;
  const B = 3;
  const T = 25;
  const k = 1 / Math.sqrt(H);
  const tensors: TensorToWrite[] = [
    { name: 'weight_ih_l0', dtype: 'F32', shape: [3 * H, I], data: flat(uniform(rng, 3 * H, I, k)) },
    { name: 'weight_hh_l0', dtype: 'F32', shape: [3 * H, H], data: flat(uniform(rng, 3 * H, H, k)) },
    { name: 'bias_ih_l0', dtype: 'F32', shape: [3 * H], data: uniformVec(rng, 3 * H, k) },
    { name: 'bias_hh_l0', dtype: 'F32', shape: [3 * H], data: uniformVec(rng, 3 * H, k) },
  ];
  fs.writeFileSync(
    path.join(OUT, 'gru-safetensors.safetensors'),
    writeSafetensors(tensors, { format: 'pt', source: 'tools/make_examples.ts' }),
  );
  console.log(`wrote ${path.join(path.relative(process.cwd(), OUT), 'gru-safetensors.safetensors')}`);
  write('gru-safetensors.rnn.json', {
    name: 'gru with weights in a safetensors file',
    cell: 'gru',
    weights: 'gru-safetensors.safetensors',
    readout: { weight: uniform(rng, 1, H, k), bias: [0] },
    data: {
      inputs: normalInputs(rng, B, T, I, 1),
      targets: regressionTargets(rng, B, T),
    },
    loss: 'mse',
    training: { batch_size: 1 },
  });
}

// 5. IRNN (Le et al. 2015): relu rnn with W_hh = identity from `init`, inputs from `data.generate`.
write('irnn-identity.rnn.json', {
  name: 'IRNN: relu rnn, W_hh = identity (init), generated inputs',
  cell: 'rnn',
  nonlinearity: 'relu',
  input_size: 2,
  hidden_size: 16,
  num_layers: 1,
  init: { scheme: 'identity', seed: 5, std: 0.01 },
  data: { generate: { sequences: 4, length: 100, distribution: 'uniform', scale: 1, seed: 5 } },
  loss: 'sum',
});

// 6. Linear rnn with an orthogonal W_hh (from `init`): every step back preserves the gradient norm exactly.
write('linear-orthogonal.rnn.json', {
  name: 'linear rnn, orthogonal W_hh: norm-preserving',
  cell: 'rnn',
  nonlinearity: 'linear',
  input_size: 2,
  hidden_size: 8,
  num_layers: 1,
  init: { scheme: 'orthogonal', seed: 6, gain: 1 },
  data: { generate: { sequences: 3, length: 80, distribution: 'normal', scale: 0.1, seed: 6 } },
  loss: 'sum',
});

// 7. LSTM whose forget gate is closed: forget-gate bias −3 (f ≈ 0.05), so the cell state is erased at every
//    step and nothing is remembered for long (forget-gate-closed, next to forget-bias-low).
{
  const rng = new SeededRandom(7);
  const H = 8;
  const I = 3;
  const B = 3;
  const T = 30;
  write('lstm-forget-closed.rnn.json', {
    name: 'lstm with a closed forget gate: forget-gate bias −3',
    cell: 'lstm',
    weights: lstmWeights(rng, H, I, -3),
    readout: { weight: uniform(rng, 1, H, 1 / Math.sqrt(H)), bias: [0] },
    data: {
      inputs: normalInputs(rng, B, T, I, 1),
      targets: regressionTargets(rng, B, T),
    },
    loss: 'mse',
  });
}

// 8. ReLU rnn with three dead units (1, 4, 6): bias −4, tiny input weights and a non-positive row of W_hh keep
//    their pre-activation below 0 at every step, so they are 0 throughout and pass no gradient (dead-units).
{
  const rng = new SeededRandom(8);
  const H = 8;
  const I = 3;
  const B = 3;
  const T = 30;
  const dead = [1, 4, 6];
  const weightIh = uniform(rng, H, I, 0.5);
  const weightHh = scaledOrthogonal(rng, H, 0.9);
  const biasIh = uniformVec(rng, H, 0.1);
  for (const k of dead) {
    weightIh[k] = weightIh[k].map((w) => round(w / 10));
    weightHh[k] = weightHh[k].map((w) => -Math.abs(w));
    biasIh[k] = -4;
  }
  write('relu-dead-units.rnn.json', {
    name: 'relu rnn with dead units 1, 4 and 6',
    cell: 'rnn',
    nonlinearity: 'relu',
    weights: {
      weight_ih_l0: weightIh,
      weight_hh_l0: weightHh,
      bias_ih_l0: biasIh,
      bias_hh_l0: new Array(H).fill(0),
    },
    readout: { weight: uniform(rng, 1, H, 1 / Math.sqrt(H)), bias: [0] },
    data: {
      inputs: normalInputs(rng, B, T, I, 1),
      targets: regressionTargets(rng, B, T),
    },
    loss: 'mse',
  });
}
