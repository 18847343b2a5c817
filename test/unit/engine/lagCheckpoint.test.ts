// The lag recursion under a memory cap (issue 15 item 3): a sequence whose forward trace does not fit the trace
// budget is walked from checkpoints (windows recomputed as the backward walk reaches them, block/lagWindows.ts),
// and pending rows that do not fit run in several passes over interleaved columns (lags.ts). Every cell and
// stack gives the same lag table as with the whole trace and all rows at once, to 1e-12; a sampled table stays
// the same sample with the same estimates.
import * as assert from 'assert';
import { planAnalysis } from '../../../src/engine/analysis/plan';
import { buildBlockCells } from '../../../src/engine/block/network';
import { CheckpointWindows, checkpointedSequence } from '../../../src/engine/block/lagWindows';
import { buildCells } from '../../../src/engine/cells';
import type { Cell } from '../../../src/engine/cells/cell';
import { lagRowEntries } from '../../../src/engine/lags';
import { LagStats } from '../../../src/engine/logscale';
import { LossFunction } from '../../../src/engine/loss';
import { plainMatMul } from '../../../src/engine/matmul';
import { forwardSequence } from '../../../src/engine/network';
import type { Model } from '../../../src/engine/model/types';
import type { Report } from '../../../src/engine/report/types';
import { accumulateSequenceLags, stackShapeOf } from '../../../src/engine/stackLags';
import { assertClose, reportJson } from '../helpers/closeReports';
import { randomModel, type RandomModelConfig } from '../helpers/randomModel';

const CASES: [string, RandomModelConfig][] = [
  ['rnn elman tanh', { cell: 'rnn', form: 'elman', nonlinearity: 'tanh', loss: 'mse', layers: 1, readout: true }],
  ['rnn pascanu relu', { cell: 'rnn', form: 'pascanu', nonlinearity: 'relu', loss: 'sum', layers: 1, readout: false }],
  ['lstm', { cell: 'lstm', loss: 'mse', layers: 1, readout: true }],
  ['lstm with projections', { cell: 'lstm', loss: 'sum', layers: 1, readout: false, projSize: 2, hidden: 4 }],
  ['gru', { cell: 'gru', loss: 'cross_entropy', layers: 1, readout: true }],
  ['gru reset before', { cell: 'gru', gruReset: 'before', loss: 'mse', layers: 1, readout: true }],
  ['rnn bidirectional', { cell: 'rnn', loss: 'mse', layers: 1, readout: true, bidirectional: true }],
  [
    'lstm bidirectional, 2 layers, projections (chunked recursion)',
    { cell: 'lstm', loss: 'mse', layers: 2, readout: true, bidirectional: true, projSize: 2, hidden: 4 },
  ],
  ['gru stacked, 3 layers', { cell: 'gru', loss: 'sum', layers: 3, readout: false }],
  [
    'lstm stacked, 2 layers, embedding',
    { cell: 'lstm', loss: 'cross_entropy', layers: 2, readout: true, vocabulary: 5 },
  ],
];

/** Every LagStats entry of a against b. */
function assertStatsClose(a: LagStats[], b: LagStats[], label: string): void {
  assert.strictEqual(a.length, b.length);
  a.forEach((s, k) => {
    for (let lag = 0; lag < s.lags; lag++) {
      const x = s.entry(lag);
      const y = b[k].entry(lag);
      assert.ok(y.count > 0 || lag > 0, `${label}: layer ${k} has pairs`);
      assertClose(x, y, `${label}: layer ${k} lag ${lag}`);
    }
  });
}

/** The cells with their backStep spied on: the most rows any step had. */
function spied(cells: Cell[]): { cells: Cell[]; maxRows: () => number } {
  let most = 0;
  for (const cell of cells) {
    const backStep = cell.backStep.bind(cell);
    cell.backStep = (trace, j, G, rows, out) => {
      most = Math.max(most, rows);
      backStep(trace, j, G, rows, out);
    };
  }
  return { cells, maxRows: () => most };
}

const LENGTHS = [23, 23, 17, 23];

describe('lag recursion within a memory cap (checkpoints and column passes)', () => {
  let seed = 900;
  for (const [name, config] of CASES) {
    const s = seed++;
    it(`${name}: windows from checkpoints and passes of fewer rows give the whole-trace table to 1e-12`, () => {
      const model = randomModel({ ...config, hidden: config.hidden ?? 5, lengths: LENGTHS, batchSize: 2 }, s);
      const shape = stackShapeOf(model);
      const maxLag = 22;
      const loss = new LossFunction(model);
      const blockCells = buildBlockCells(model, plainMatMul);
      const whole = model.layers.map(() => new LagStats(maxLag + 1));
      const capped = model.layers.map(() => new LagStats(maxLag + 1));
      const plain = buildCells(model);
      const lagCells = spied(buildCells(model));
      // Room for 3 pending rows (of one recursion: all layers, or one direction of a bidirectional layer): the 23
      // columns within a window of 23 lags run in several passes.
      const oneRecursion = shape.directions === 2 ? [lagCells.cells[0]] : lagCells.cells;
      const rowBytes = 3 * 8 * lagRowEntries(oneRecursion);
      for (const seq of model.sequences) {
        const fwd = forwardSequence(model, plain, loss, seq);
        assert.strictEqual(fwd.nonFinite, null);
        const job = { shape, maxLag, hooks: { step: () => undefined } };
        accumulateSequenceLags({ ...job, cells: plain, fwd, stats: whole });
        const K = Math.ceil(Math.sqrt(seq.length));
        const windows = checkpointedSequence(model, blockCells, loss, seq, K, () => undefined);
        assert.ok(windows, name);
        assert.deepStrictEqual(windows.seeds, fwd.seeds, `${name}: seeds`);
        accumulateSequenceLags({ ...job, cells: lagCells.cells, fwd: windows, stats: capped, rowBytes });
        // Each window was recomputed (a walk seeks each window once; the chunked recursion walks once per chunk).
        for (const w of windows.traces) {
          assert.ok(w instanceof CheckpointWindows);
          assert.ok(w.recomputed >= Math.ceil((seq.length - 1) / K), `${name}: ${w.recomputed} windows`);
        }
      }
      assertStatsClose(capped, whole, name);
      if (shape.directions === 1 || shape.layers === 1) {
        assert.ok(lagCells.maxRows() <= 3, `${name}: at most 3 pending rows, got ${lagCells.maxRows()}`);
      }
    });
  }

  it('a one-walk recursion recomputes each window exactly once', () => {
    const model = randomModel({ cell: 'lstm', loss: 'sum', layers: 2, readout: false, hidden: 4, lengths: [30] }, 3);
    const loss = new LossFunction(model);
    const windows = checkpointedSequence(
      model,
      buildBlockCells(model, plainMatMul),
      loss,
      model.sequences[0],
      5,
      () => undefined,
    );
    assert.ok(windows);
    const stats = model.layers.map(() => new LagStats(30));
    accumulateSequenceLags({
      shape: stackShapeOf(model),
      cells: buildCells(model),
      fwd: windows,
      maxLag: 29,
      stats,
      hooks: { step: () => undefined },
    });
    // Windows [0, 5], [5, 10], …, [25, 29]: six, each computed once.
    for (const w of windows.traces) assert.strictEqual((w as CheckpointWindows).recomputed, 6);
  });

  for (const [name, config] of CASES.filter(([n]) => /elman|projections$|^gru$|bidirectional|stacked/.test(n))) {
    it(`${name}: the whole analysis under a small trace cap reports the uncapped lag table (exact and sampled)`, () => {
      const model = randomModel({ ...config, hidden: config.hidden ?? 5, lengths: LENGTHS, batchSize: 2 }, 77);
      const traceBytes = 3000;
      const plan = planAnalysis(model, { file: name, traceBytes });
      assert.ok(plan.block.segment(23) < 23, `${name}: a sequence's trace exceeds the cap`);
      assert.strictEqual(plan.lagRowBytes, traceBytes);
      const run = (extra: object): Report => reportJson(model, { file: name, ...extra });
      const exact = run({});
      const cappedExact = run({ traceBytes });
      assert.strictEqual(exact.lag_sampling, null);
      assertClose(
        cappedExact.layers.map((l) => l.lags),
        exact.layers.map((l) => l.lags),
        `${name}: exact lags`,
      );
      assertClose(cappedExact.gradients, exact.gradients, `${name}: gradients`);
      // A sampled table: the same seeded sample, the same estimates and intervals.
      const sampled = run({ lagBudgetRows: 60, lagSeed: 5 });
      const cappedSampled = run({ lagBudgetRows: 60, lagSeed: 5, traceBytes });
      assert.ok(sampled.lag_sampling, `${name}: sampled`);
      assert.deepStrictEqual(cappedSampled.lag_sampling, sampled.lag_sampling);
      assertClose(
        cappedSampled.layers.map((l) => l.lags),
        sampled.layers.map((l) => l.lags),
        `${name}: sampled lags`,
      );
    });
  }
});

describe('a sequence over the trace cap that overflows (runs alone, from checkpoints)', () => {
  /** The report with a small trace cap and without, compared whole; returns the capped one's findings. */
  function compare(model: Model, label: string): string[] {
    const traceBytes = 3000;
    assert.ok(planAnalysis(model, { file: label, traceBytes }).block.segment(model.sequences[0].length) < 30);
    const run = (extra: object): Report => reportJson(model, { file: label, ...extra });
    const capped = run({ traceBytes });
    const whole = run({});
    assertClose(capped, whole, label);
    return capped.findings.map((f) => f.message);
  }

  function linearRnn(seed: number): Model {
    return randomModel(
      {
        cell: 'rnn',
        form: 'elman',
        nonlinearity: 'linear',
        loss: 'sum',
        layers: 2,
        readout: true,
        hidden: 4,
        lengths: [60, 60, 60],
        batchSize: 3,
      },
      seed,
    );
  }

  it('an overflow of the forward pass: the same finding, step and layer', () => {
    const model = linearRnn(11);
    // Large but finite inputs from step 40: the linear recurrences overflow a few steps later.
    model.sequences[1].inputs.fill(1.5e308, 2 * 40, 2 * 50);
    const findings = compare(model, 'forward');
    assert.ok(
      findings.some((m) =>
        /Overflow in the forward pass: the activations of layer 0 of sequence 1 became non-finite/.test(m),
      ),
      findings.join('\n'),
    );
  });

  it('an overflow of the gradients only: the same finding, step and layer', () => {
    const model = linearRnn(12);
    // Contractive recurrences (finite activations) and a huge readout: the summed state gradients overflow.
    for (const w of model.layers) {
      w.biasIh.fill(0);
      w.biasHh.fill(0);
      w.weightHh.data.fill(0);
      for (let i = 0; i < 4; i++) w.weightHh.data[i * 4 + i] = 0.999;
    }
    model.readout!.weight.data.fill(1e306);
    model.sequences.forEach((s) => s.inputs.fill(1e-6));
    const findings = compare(model, 'backward');
    assert.ok(
      findings.some((m) => /Gradient overflow: backpropagating through sequence 0/.test(m)),
      findings.join('\n'),
    );
  });
});
