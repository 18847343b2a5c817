// The lag recursion under a memory cap (issue 15 item 3): a sequence whose forward trace does not fit the trace
// budget is walked from checkpoints (windows recomputed as the backward walk reaches them, block/lagWindows.ts),
// and pending rows that do not fit run in several passes over interleaved columns (lags.ts). Every cell and
// stack gives the same lag table as with the whole trace and all rows at once, to 1e-12; a sampled table stays
// the same sample with the same estimates.
import * as assert from 'assert';
import { planAnalysis } from '../../../src/engine/analysis/plan';
import { runFullLagPass } from '../../../src/engine/analysis/lagPass';
import { AnalysisProgress } from '../../../src/engine/analysis/progress';
import * as blockNetwork from '../../../src/engine/block/network';
import { blockBackward, blockForward, buildBlockCells } from '../../../src/engine/block/network';
import * as streamedModule from '../../../src/engine/block/streamed';
import {
  streamedBackward,
  streamedBackwardSequence,
  streamedForward,
  streamsInSegments,
  StreamedWindows,
} from '../../../src/engine/block/streamed';
import { CheckpointWindows, checkpointedSequence } from '../../../src/engine/block/lagWindows';
import { buildCells } from '../../../src/engine/cells';
import type { Cell } from '../../../src/engine/cells/cell';
import { lagRowEntries } from '../../../src/engine/lags';
import { LagStats } from '../../../src/engine/logscale';
import { LossFunction } from '../../../src/engine/loss';
import { plainMatMul } from '../../../src/engine/matmul';
import {
  backwardSequence,
  forwardSequence,
  gradArrays,
  zeroParamGrads,
  type ParamGrads,
} from '../../../src/engine/network';
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

/**
 * A 2-layer linear cell (elman form for the rnn) over three sequences of 60 steps, over the trace caps of the tests
 * below, whose overflows the tests place.
 */
function linear(cell: 'rnn' | 'lstm' | 'gru', seed: number): Model {
  return randomModel(
    {
      cell,
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

  it('an overflow of the forward pass: the same finding, step and layer', () => {
    const model = linear('rnn', 11);
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
    const model = linear('rnn', 12);
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

describe('unidirectional stacks streamed in O(√T): only checkpoints of every layer are kept (block/streamed.ts)', () => {
  const UNI: [string, RandomModelConfig][] = [
    [
      'rnn elman tanh, 1 layer',
      { cell: 'rnn', form: 'elman', nonlinearity: 'tanh', loss: 'mse', layers: 1, readout: true },
    ],
    [
      'rnn pascanu relu, 2 layers',
      { cell: 'rnn', form: 'pascanu', nonlinearity: 'relu', loss: 'sum', layers: 2, readout: false },
    ],
    ['lstm, 1 layer', { cell: 'lstm', loss: 'mse', layers: 1, readout: true }],
    ['lstm, 2 layers, projections', { cell: 'lstm', loss: 'sum', layers: 2, readout: true, projSize: 2, hidden: 4 }],
    ['lstm, 2 layers, embedding', { cell: 'lstm', loss: 'cross_entropy', layers: 2, readout: true, vocabulary: 5 }],
    ['gru, 1 layer', { cell: 'gru', loss: 'cross_entropy', layers: 1, readout: true }],
    ['gru reset before, 2 layers', { cell: 'gru', gruReset: 'before', loss: 'mse', layers: 2, readout: true }],
  ];
  const grads = (g: ParamGrads): number[][] => gradArrays(g).map((a) => Array.from(a));

  let seed = 1500;
  for (const [name, config] of UNI) {
    const s = seed++;
    it(`${name}: segment-by-segment gradients, losses, windows and lag table equal the whole passes to 1e-12`, () => {
      const model = randomModel({ ...config, hidden: config.hidden ?? 5, lengths: [23, 23, 23] }, s);
      assert.ok(streamsInSegments(model));
      const loss = new LossFunction(model);
      const cells = buildBlockCells(model, plainMatMul);
      const T = 23;
      const K = 5;
      // Whole: one block through blockForward/blockBackward.
      const whole = blockForward(model, cells, loss, model.sequences, () => undefined);
      assert.ok(!whole.nonFinite);
      const wholeGrads = zeroParamGrads(model);
      assert.ok(!blockBackward(model, cells, whole, wholeGrads, plainMatMul, () => undefined));
      // Streamed: checkpoints every K steps, nothing else of length T.
      const traced: number[] = [];
      const fwd = streamedForward(
        model,
        cells,
        loss,
        model.sequences,
        K,
        (k, tr) => traced.push(k, tr.T),
        () => 0,
      );
      assert.ok(fwd && fwd.overflow === null);
      const { stack } = fwd;
      assert.deepStrictEqual(Object.keys(stack).sort(), ['T', 'checkpoints', 'losses', 'n', 'segment', 'sequences']);
      for (const c of stack.checkpoints) assert.strictEqual(c.length, Math.ceil(T / K) - 1);
      // Segment-major: every layer's trace of a segment before the next segment, K steps at most.
      assert.deepStrictEqual(traced.slice(0, 2 * model.numLayers + 2), [
        ...model.layers.flatMap((_, k) => [k, K]),
        0,
        K,
      ]);
      assertClose(Array.from(stack.losses), Array.from(whole.losses), `${name}: losses`);
      const streamedGrads = zeroParamGrads(model);
      assert.ok(!streamedBackward(model, cells, loss, stack, streamedGrads, plainMatMul, () => undefined));
      assertClose(grads(streamedGrads), grads(wholeGrads), `${name}: block gradients`);
      // One sequence through windows: its gradients (network.ts backwardSequence) and its lag table.
      const plain = buildCells(model);
      const maxLag = 22;
      model.sequences.forEach((seq, b) => {
        const one = forwardSequence(model, plain, loss, seq);
        const expected = zeroParamGrads(model);
        assert.strictEqual(backwardSequence(model, plain, one, expected), null);
        const windows = new StreamedWindows(model, cells, loss, stack, b, () => undefined);
        const got = zeroParamGrads(model);
        assert.strictEqual(
          streamedBackwardSequence(model, plain, windows, got, () => undefined),
          null,
        );
        assertClose(grads(got), grads(expected), `${name}: sequence ${b} gradients`);
        // Windows [0, 5], [5, 10], …, [20, 22]: each once per backward walk.
        assert.strictEqual(windows.recomputed, Math.ceil((T - 1) / K));
        const job = { shape: stackShapeOf(model), maxLag, hooks: { step: () => undefined } };
        const a = model.layers.map(() => new LagStats(maxLag + 1));
        const c = model.layers.map(() => new LagStats(maxLag + 1));
        accumulateSequenceLags({ ...job, cells: plain, fwd: one, stats: a });
        const lagWindows = new StreamedWindows(model, cells, loss, stack, b, () => undefined);
        accumulateSequenceLags({ ...job, cells: plain, fwd: lagWindows.lagSequence(), stats: c, rowBytes: 200 });
        assertStatsClose(c, a, `${name}: sequence ${b} lags`);
      });
    });

    it(`${name}: the whole analysis under a small trace cap takes the streamed path and reports the uncapped results`, () => {
      const model = randomModel({ ...config, hidden: config.hidden ?? 5, lengths: [23, 23, 17, 23], batchSize: 2 }, s);
      const traceBytes = 3000;
      assert.ok(planAnalysis(model, { file: name, traceBytes }).block.segment(23) < 23);
      const calls = countCalls(streamedModule, ['streamedBackward', 'streamedBackwardSequence']);
      const checkpointed = countCalls(blockNetwork, ['checkpointedBlock', 'checkpointedForward']);
      try {
        for (const extra of [{}, { lagBudgetRows: 60, lagSeed: 5 }, { maxLag: 3 }]) {
          // The whole report: loss, gradients, batch norms, clipping, findings, gate and unit statistics, lags.
          const label = `${name} ${JSON.stringify(extra)}`;
          assertClose(
            linearIntervals(reportJson(model, { file: label, ...extra, traceBytes })),
            linearIntervals(reportJson(model, { file: label, ...extra })),
            label,
          );
        }
      } finally {
        calls.restore();
        checkpointed.restore();
      }
      assert.ok(calls.count.streamedBackward > 0, `${name}: streamed blocks`);
      assert.strictEqual(checkpointed.count.checkpointedBlock + checkpointed.count.checkpointedForward, 0);
    });
  }

  it('the full-table pass of a two-pass run (lagPass.ts) reads streamed windows: the same table as whole traces', () => {
    for (const [name, config] of UNI) {
      const model = randomModel({ ...config, hidden: config.hidden ?? 5, lengths: [23, 23, 17, 23], batchSize: 2 }, 31);
      const table = (traceBytes?: number): LagStats[] => {
        const plan = planAnalysis(model, { file: name, traceBytes });
        assert.strictEqual(plan.block.segment(23) < 23, traceBytes !== undefined, name);
        return runFullLagPass(model, plan, new AnalysisProgress({}, plan)).stats;
      };
      const calls = countCalls(streamedModule, ['streamedForward']);
      let capped: LagStats[];
      try {
        capped = table(3000);
      } finally {
        calls.restore();
      }
      assert.strictEqual(calls.count.streamedForward, model.sequences.length, name);
      assertStatsClose(capped, table(), `${name}: full pass`);
    }
  });

  /**
   * The report with each sampled lag's interval for log10 of the mean as an interval for the mean: a bound near
   * log10 = 0 carries the mean's rounding (the column passes sum in another order) as an absolute error, which
   * the relative comparison would magnify.
   */
  function linearIntervals(report: Report): Report {
    for (const layer of report.layers) {
      for (const lag of layer.lags as unknown as Record<string, unknown>[]) {
        const ci = lag.log10_mean_ci95 as [number, number] | undefined;
        if (ci) lag.log10_mean_ci95 = ci.map((x) => 10 ** x);
      }
    }
    return report;
  }

  /** Replaces functions of a module's exports by counting wrappers (restore() puts them back). */
  function countCalls(
    mod: Record<string, unknown>,
    names: string[],
  ): { count: Record<string, number>; restore: () => void } {
    const count: Record<string, number> = {};
    const saved = names.map((n) => mod[n] as (...args: unknown[]) => unknown);
    names.forEach((n, i) => {
      count[n] = 0;
      mod[n] = (...args: unknown[]) => {
        count[n]++;
        return saved[i](...args);
      };
    });
    return { count, restore: () => names.forEach((n, i) => (mod[n] = saved[i])) };
  }

  function compare(model: Model, label: string): string[] {
    const traceBytes = 3000;
    assert.ok(planAnalysis(model, { file: label, traceBytes }).block.segment(60) < 30);
    const capped = reportJson(model, { file: label, traceBytes });
    assertClose(capped, reportJson(model, { file: label }), label);
    return capped.findings.map((f) => f.message);
  }

  it('an overflow in the upper layer only: the same finding, step and layer (layer 1)', () => {
    const model = linear('rnn', 21);
    // Layer 1 amplifies: its outputs overflow while layer 0's stay finite.
    model.layers[1].weightHh.data.fill(0);
    for (let i = 0; i < 4; i++) model.layers[1].weightHh.data[i * 4 + i] = 1e30;
    const findings = compare(model, 'upper');
    assert.ok(
      findings.some((m) => /the activations of layer 1 of sequence 0 became non-finite at step \d+/.test(m)),
      findings.join('\n'),
    );
  });

  it('an overflow of the loss only (finite activations): the same finding and step', () => {
    const model = linear('rnn', 24);
    for (const w of model.layers) {
      w.weightHh.data.fill(0);
      for (let i = 0; i < 4; i++) w.weightHh.data[i * 4 + i] = 0.5;
    }
    // Finite activations of 1e200 at step 40 of sequence 2, times a readout of 1e150: its loss overflows there.
    model.readout!.weight.data.fill(1e150);
    model.sequences[2].inputs.fill(1e100, 2 * 30, 2 * 31);
    model.sequences[2].inputs.fill(1e200, 2 * 40, 2 * 41);
    const findings = compare(model, 'loss');
    assert.ok(
      findings.includes(
        'Overflow in the forward pass: the loss of sequence 2 became non-finite at step 40. Scale down the inputs or weight_hh, or clip activations.',
      ),
      findings.join('\n'),
    );
  });

  for (const [cell, step] of [
    ['lstm', 55],
    ['gru', 58],
  ] as const) {
    it(`a gradient overflow in a 2-layer ${cell}: the same finding, step and layer`, () => {
      const model = linear(cell, 23);
      // A huge readout: the summed state gradients of the upper layer overflow a few steps from the end.
      model.readout!.weight.data.fill(3e307);
      model.sequences.forEach((s) => s.inputs.fill(1e-6));
      const findings = compare(model, `${cell} backward`);
      assert.ok(
        findings.some((m) =>
          m.startsWith(
            `Gradient overflow: backpropagating through sequence 0, the gradient of layer 1's state became non-finite at step ${step}.`,
          ),
        ),
        findings.join('\n'),
      );
    });
  }
});
