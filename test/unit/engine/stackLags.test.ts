// The lag tables of bidirectional stacks (src/engine/stackLags.ts) against an independent formulation: one
// backward pass per loss term ε_t, layer by layer, recording ‖∂ε_t/∂s_j‖ and the temporal contribution of every
// layer, direction and step, then summarised per lag. Also: chunk sizes, column subsets and lag caps change
// nothing but what they should, the work count, and the unidirectional route is the plain recursion.
import * as assert from 'assert';
import { buildCells } from '../../../src/engine/cells';
import type { Cell } from '../../../src/engine/cells/cell';
import { LagStats } from '../../../src/engine/logscale';
import { LossFunction } from '../../../src/engine/loss';
import { accumulateLags } from '../../../src/engine/lags';
import type { Model } from '../../../src/engine/model/types';
import { forwardSequence, type SequenceForward } from '../../../src/engine/network';
import {
  accumulateSequenceLags,
  columnWork,
  sequenceLagWork,
  stackShapeOf,
  type StackShape,
} from '../../../src/engine/stackLags';
import { parsedModel } from '../helpers/models';

/** A seeded model (PyTorch-default init) with generated inputs; version-2 keys as given. */
function modelText(cell: string, layers: number, extra: Record<string, unknown>, steps = 9, hidden = 4): string {
  return JSON.stringify({
    cell,
    input_size: 3,
    hidden_size: hidden,
    num_layers: layers,
    init: { scheme: 'pytorch', seed: 11 },
    data: { generate: { sequences: 2, length: steps, seed: 5, scale: 1.5 } },
    readout: {
      weight: [
        Array.from(
          { length: (extra.bidirectional ? 2 : 1) * ((extra.proj_size as number) || hidden) },
          (_, i) => 0.3 - 0.1 * i,
        ),
      ],
      bias: [0.1],
    },
    loss: 'sum',
    ...extra,
  });
}

/** One pair's figures: its layer-direction (model.layers order), lag |t − j|, norm and contribution. */
interface Pair {
  i: number;
  lag: number;
  norm: number;
  contribution: number;
}

/**
 * ‖∂ε_t/∂s^i_j‖ and the contribution for every layer-direction i and pair (t, j) with t ≥ j forward, t ≤ j
 * reverse: one single-term backward pass per t through the whole stack, rows = 1.
 */
function referencePairs(model: Model, cells: Cell[], fwd: SequenceForward): Pair[] {
  const T = fwd.traces[0].length;
  const dirs = model.bidirectional ? 2 : 1;
  const out: Pair[] = [];
  const Wtop = fwd.seeds.length / T;
  for (let t = 0; t < T; t++) {
    let dY = new Float64Array(T * Wtop);
    dY.set(fwd.seeds.subarray(t * Wtop, (t + 1) * Wtop), t * Wtop);
    for (let k = model.numLayers - 1; k >= 0; k--) {
      const I = cells[k * dirs].inputSize;
      const dIn = new Float64Array(T * I);
      for (let d = 0; d < dirs; d++) {
        const i = k * dirs + d;
        const cell = cells[i];
        const R = cell.outputSize;
        const W = dirs * R;
        let G = new Float64Array(cell.stateSize);
        const prev = new Float64Array(cell.stateSize);
        const input = new Float64Array(I);
        const contribution = new Float64Array(1);
        for (let tau = T - 1; tau >= 0; tau--) {
          const j = d === 0 ? tau : T - 1 - tau;
          for (let h = 0; h < R; h++) G[h] += dY[j * W + d * R + h];
          cell.completeState(fwd.traces[i], tau, G, 1);
          const norm = Math.hypot(...G);
          cell.backStep(fwd.traces[i], tau, G, 1, { prev, prevFrom: 0, input, contribution, grads: null });
          if ((d === 0 && t >= j) || (d === 1 && t <= j))
            out.push({ i, lag: Math.abs(t - j), norm, contribution: contribution[0] });
          for (let x = 0; x < I; x++) dIn[j * I + x] += input[x];
          G = tau > 0 ? Float64Array.from(prev) : G;
        }
      }
      dY = dIn;
    }
  }
  return out;
}

/** The reference's per-lag figures of layer-direction i: count, mean, min, max, contribution mean. */
function referenceLags(pairs: Pair[], i: number, maxLag: number): number[][] {
  const rows: number[][] = [];
  for (const p of pairs) {
    if (p.i !== i || p.lag > maxLag) continue;
    rows[p.lag] ??= [0, 0, Infinity, -Infinity, 0];
    const r = rows[p.lag];
    r[0]++;
    r[1] += p.norm;
    r[2] = Math.min(r[2], p.norm);
    r[3] = Math.max(r[3], p.norm);
    r[4] += p.contribution;
  }
  return rows.map(([n, sum, min, max, c]) => [n, sum / n, min, max, c / n]);
}

function close(a: number, b: number, rtol: number): boolean {
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
}

/** Runs the engine's route for every sequence, merging into one LagStats per layer-direction. */
function engineStats(
  model: Model,
  maxLag: number,
  options: { chunkBytes?: number; subset?: { stride: number; offset: number; width?: number } } = {},
): { stats: LagStats[]; units: number[] } {
  const cells = buildCells(model);
  const loss = new LossFunction(model);
  const stats = model.layers.map(() => new LagStats(maxLag + 1));
  const units: number[] = [];
  for (const seq of model.sequences) {
    const fwd = forwardSequence(model, cells, loss, seq);
    let last = 0;
    accumulateSequenceLags({
      shape: stackShapeOf(model),
      cells,
      fwd,
      maxLag,
      stats,
      hooks: { step: (u) => (last = u) },
      ...options,
    });
    units.push(last);
  }
  return { stats, units };
}

const CASES: [string, string, number, Record<string, unknown>][] = [
  ['rnn tanh, 1 bidirectional layer', 'rnn', 1, { bidirectional: true }],
  [
    'rnn pascanu sigmoid, 2 bidirectional layers',
    'rnn',
    2,
    { bidirectional: true, form: 'pascanu', nonlinearity: 'sigmoid' },
  ],
  ['lstm, 2 bidirectional layers', 'lstm', 2, { bidirectional: true }],
  ['lstm with projections, 3 bidirectional layers', 'lstm', 3, { bidirectional: true, proj_size: 2 }],
  ['gru reset-before, 2 bidirectional layers', 'gru', 2, { bidirectional: true, gru_reset: 'before' }],
  ['gru, 3 bidirectional layers', 'gru', 3, { bidirectional: true }],
  ['lstm with projections, 2 unidirectional layers', 'lstm', 2, { proj_size: 3 }],
  ['gru reset-before, 2 unidirectional layers', 'gru', 2, { gru_reset: 'before' }],
];

describe('lag tables of every stack against one backward pass per loss term', () => {
  for (const [label, cell, layers, extra] of CASES) {
    it(`${label}: every lag's count, mean, min, max and contribution (1e-12)`, () => {
      const model = parsedModel(modelText(cell, layers, extra));
      const T = model.sequences[0].length;
      const cells = buildCells(model);
      const loss = new LossFunction(model);
      const pairs = model.sequences.flatMap((seq) =>
        referencePairs(model, cells, forwardSequence(model, cells, loss, seq)),
      );
      for (const maxLag of [T - 1, 3]) {
        const { stats } = engineStats(model, maxLag);
        model.layers.forEach((_, i) => {
          const ref = referenceLags(pairs, i, maxLag);
          assert.strictEqual(stats[i].measuredLags, ref.length, `${label} layer-direction ${i}: number of lags`);
          ref.forEach(([count, mean, min, max, contribution], lag) => {
            const e = stats[i].entry(lag);
            const at = `${label} layer-direction ${i} lag ${lag} (maxLag ${maxLag})`;
            assert.strictEqual(e.count, count, `${at}: count`);
            assert.ok(close(e.mean, mean, 1e-12), `${at}: mean ${e.mean} vs ${mean}`);
            assert.ok(close(e.min, min, 1e-12), `${at}: min ${e.min} vs ${min}`);
            assert.ok(close(e.max, max, 1e-12), `${at}: max ${e.max} vs ${max}`);
            assert.ok(
              close(e.contribution, contribution, 1e-12),
              `${at}: contribution ${e.contribution} vs ${contribution}`,
            );
          });
        });
      }
    });
  }
});

describe('the chunked recursion of bidirectional stacks', () => {
  const model = parsedModel(modelText('lstm', 3, { bidirectional: true, proj_size: 2 }, 13));
  const T = 13;

  it('gives the same pairs for chunks of 1, 5 and all loss terms (sums up to their order)', () => {
    const perRow = 16 * T * (2 * 2 + 1);
    const whole = engineStats(model, T - 1).stats;
    for (const chunkBytes of [1, 5 * perRow]) {
      const chunked = engineStats(model, T - 1, { chunkBytes }).stats;
      whole.forEach((s, i) => {
        for (let lag = 0; lag < T; lag++) {
          const a = s.entry(lag);
          const b = chunked[i].entry(lag);
          assert.strictEqual(b.count, a.count);
          assert.strictEqual(b.min, a.min, `chunk ${chunkBytes} B, layer-direction ${i} lag ${lag}: min`);
          assert.strictEqual(b.max, a.max, `chunk ${chunkBytes} B, layer-direction ${i} lag ${lag}: max`);
          assert.ok(close(a.mean, b.mean, 1e-14) && close(a.contribution, b.contribution, 1e-14), `lag ${lag}`);
        }
      });
    }
  });

  it('column subsets merged equal the whole table', () => {
    const whole = engineStats(model, T - 1).stats;
    const merged = model.layers.map(() => new LagStats(T));
    for (let offset = 0; offset < 3; offset++) {
      const part = engineStats(model, T - 1, { subset: { stride: 3, offset } }).stats;
      part.forEach((s, i) => merged[i].merge(s));
    }
    whole.forEach((s, i) => {
      for (let lag = 0; lag < T; lag++) {
        const a = s.entry(lag);
        const b = merged[i].entry(lag);
        assert.strictEqual(b.count, a.count);
        assert.ok(close(a.mean, b.mean, 1e-13) && close(a.contribution, b.contribution, 1e-13), `lag ${lag}`);
        assert.strictEqual(b.min, a.min);
        assert.strictEqual(b.max, a.max);
      }
    });
  });

  it('a lag cap keeps the first lags exactly', () => {
    const whole = engineStats(model, T - 1).stats;
    const capped = engineStats(model, 4).stats;
    whole.forEach((s, i) => {
      assert.strictEqual(capped[i].measuredLags, 5);
      for (let lag = 0; lag <= 4; lag++) assert.deepStrictEqual(capped[i].entry(lag), s.entry(lag), `lag ${lag}`);
    });
  });

  it('reports its work in the units of sequenceLagWork, and columnWork adds up to it', () => {
    const shapes: StackShape[] = [
      { layers: 1, directions: 1 },
      { layers: 2, directions: 1 },
      { layers: 1, directions: 2 },
      { layers: 3, directions: 2 },
    ];
    for (const shape of shapes) {
      for (const L of [T - 1, 4]) {
        let sum = 0;
        for (let t = 0; t < T; t++) sum += columnWork(shape, T, L, t);
        assert.ok(Math.abs(sum - sequenceLagWork(shape, T, L)) < 1e-9, JSON.stringify(shape));
      }
    }
    for (const maxLag of [T - 1, 4]) {
      const { units } = engineStats(model, maxLag);
      for (const u of units) assert.ok(Math.abs(u - sequenceLagWork(stackShapeOf(model), T, maxLag)) < 1e-9);
      const bi1 = parsedModel(modelText('gru', 1, { bidirectional: true }, T));
      for (const u of engineStats(bi1, maxLag).units)
        assert.ok(Math.abs(u - sequenceLagWork(stackShapeOf(bi1), T, maxLag)) < 1e-9);
    }
  });

  it('a unidirectional stack takes the plain recursion', () => {
    const uni = parsedModel(modelText('lstm', 2, {}));
    const cells = buildCells(uni);
    const fwd = forwardSequence(uni, cells, new LossFunction(uni), uni.sequences[0]);
    const a = uni.layers.map(() => new LagStats(9));
    const b = uni.layers.map(() => new LagStats(9));
    const hooks = { step: () => undefined };
    accumulateLags({ cells, traces: fwd.traces, seeds: fwd.seeds, maxLag: 8, stats: a, hooks });
    accumulateSequenceLags({ shape: stackShapeOf(uni), cells, fwd, maxLag: 8, stats: b, hooks });
    a.forEach((s, i) => assert.deepStrictEqual(b[i].pack(), s.pack()));
  });
});

describe('norms beyond the double range in both sweeps of a bidirectional stack', () => {
  // A scalar 2-layer bidirectional linear rnn: layer 0 W_hh = c (both directions), layer 1 W_hh = a (both), every
  // W_ih entry and the readout 1, loss sum. For layer 0's forward state at j and the loss at t ≥ j (n = t − j):
  //   g = Σ_{j'=j..t} c^{j'−j} a^{t−j'}  (through layer 1 forward)  +  c^n Σ_{m=0..T−1−t} (ca)^m  (through layer 1 reverse)
  // and the reverse direction is its mirror (t → T−1−t). With c = 2, a = 1.5 and T = 1200 the norms reach 1e560.
  const T = 1200;
  const c = 2;
  const a = 1.5;
  const model = parsedModel(
    JSON.stringify({
      cell: 'rnn',
      nonlinearity: 'linear',
      weights: {
        weight_ih_l0: [[1]],
        weight_hh_l0: [[c]],
        weight_ih_l0_reverse: [[1]],
        weight_hh_l0_reverse: [[c]],
        weight_ih_l1: [[1, 1]],
        weight_hh_l1: [[a]],
        weight_ih_l1_reverse: [[1, 1]],
        weight_hh_l1_reverse: [[a]],
      },
      readout: { weight: [[1, 1]], bias: [0] },
      data: { inputs: [Array.from({ length: T }, () => [0.01])] },
      loss: 'sum',
    }),
  );
  let cached: LagStats[] | undefined;
  const statsOf = (): LagStats[] => (cached ??= engineStats(model, T - 1).stats);
  const L10 = Math.log10;
  const log10Sum = (x: number, y: number): number => Math.max(x, y) + L10(1 + 10 ** (Math.min(x, y) - Math.max(x, y)));
  /** log10 g for layer 0's forward state, loss t, lag n (the reverse direction: t → T−1−t). */
  const log10G = (t: number, n: number): number => {
    const s1 = (n + 1) * L10(c) + L10(1 - (a / c) ** (n + 1)) - L10(c - a);
    const K = T - t;
    const s2 = n * L10(c) + K * L10(c * a) + L10(1 - (c * a) ** -K) - L10(c * a - 1);
    return log10Sum(s1, s2);
  };

  it('layer 0 forward and reverse: log10 mean, min and max of every lag (1e-9), exact where the figures overflow', () => {
    const stats = statsOf();
    let beyond = 0;
    for (const [i, mirror] of [
      [0, false],
      [1, true],
    ] as const) {
      for (let lag = 0; lag < T; lag++) {
        const logs: number[] = [];
        for (let t = lag; t < T; t++) logs.push(log10G(mirror ? T - 1 - (t - lag) : t, lag));
        const max = Math.max(...logs);
        const min = Math.min(...logs);
        const sum = logs.reduce((acc, x) => acc + 10 ** (x - max), 0);
        const mean = max + L10(sum) - L10(logs.length);
        const e = stats[i].entry(lag);
        const at = `direction ${i} lag ${lag}`;
        assert.strictEqual(e.count, T - lag, at);
        assert.ok(Math.abs((e.log10Mean as number) - mean) < 1e-9, `${at}: log10 mean ${e.log10Mean} vs ${mean}`);
        assert.ok(Math.abs((e.log10Max as number) - max) < 1e-9, `${at}: log10 max ${e.log10Max} vs ${max}`);
        assert.ok(Math.abs((e.log10Min as number) - min) < 1e-9, `${at}: log10 min ${e.log10Min} vs ${min}`);
        if (max > 308) {
          beyond++;
          assert.strictEqual(e.max, Infinity);
        }
      }
    }
    assert.ok(beyond > 500, `only ${beyond} lags beyond the double range`);
  });

  it('layer 1 (the top): a^lag in both directions', () => {
    const stats = statsOf();
    for (const i of [2, 3]) {
      for (const lag of [0, 1, 500, T - 1]) {
        const e = stats[i].entry(lag);
        assert.ok(Math.abs((e.log10Mean as number) - lag * L10(a)) < 1e-9, `layer-direction ${i} lag ${lag}`);
      }
    }
  });
});
