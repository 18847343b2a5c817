// Batched BPTT (engine/block/) against the per-sequence passes (network.ts): on random models of every cell,
// form, nonlinearity, loss and architecture, with mixed lengths and several training batches, the whole report
// (loss, every gradient value, batch norms, clipping, gate and unit statistics, the exact lag table) is the same
// to 1e-12 whether the sequences run in blocks or one by one (traceBytes: 1 makes every block a single
// sequence streamed from checkpoints: block/streamed.ts for unidirectional stacks, the checkpointed
// single-sequence pass for bidirectional ones).
import * as assert from 'assert';
import { analyzeModel } from '../../../src/engine/analyze';
import { planAnalysis } from '../../../src/engine/analysis/plan';
import { blockBackward, blockForward, buildBlockCells, extractSequence } from '../../../src/engine/block/network';
import { streamedBackward, streamedForward } from '../../../src/engine/block/streamed';
import { buildCells } from '../../../src/engine/cells';
import { LossFunction } from '../../../src/engine/loss';
import { KernelMatMul, plainMatMul } from '../../../src/engine/matmul';
import { createGemmKernel } from '../../../src/engine/kernels';
import { backwardSequence, forwardSequence, gradArrays, zeroParamGrads } from '../../../src/engine/network';
import type { Model } from '../../../src/engine/model/types';
import { assertReportsClose, REPORT_TOLERANCE } from '../helpers/closeReports';
import { randomModel, type RandomModelConfig } from '../helpers/randomModel';

/** The report of the blocks against one sequence at a time (traceBytes: 1); returns the worst difference. */
function compareReports(model: Model, label: string): number {
  return assertReportsClose(model, label, {}, { traceBytes: 1 });
}

const CASES: [string, RandomModelConfig][] = [];
for (const form of ['elman', 'pascanu'] as const) {
  for (const nonlinearity of ['tanh', 'relu', 'sigmoid', 'linear'] as const) {
    CASES.push([
      `rnn ${form} ${nonlinearity}, mse, readout`,
      { cell: 'rnn', form, nonlinearity, loss: 'mse', layers: 1, readout: true },
    ]);
  }
  CASES.push([
    `rnn ${form}, 2 layers, bidirectional, sum`,
    { cell: 'rnn', form, loss: 'sum', layers: 2, readout: false, bidirectional: true },
  ]);
}
CASES.push(
  ['lstm, sum', { cell: 'lstm', loss: 'sum', layers: 1, readout: false }],
  ['lstm, cross_entropy, readout, 2 layers', { cell: 'lstm', loss: 'cross_entropy', layers: 2, readout: true }],
  [
    'lstm, projections, bidirectional, 2 layers, mse',
    { cell: 'lstm', loss: 'mse', layers: 2, readout: true, bidirectional: true, projSize: 2, hidden: 4 },
  ],
  [
    'lstm, projections, no biases',
    { cell: 'lstm', loss: 'sum', layers: 1, readout: false, projSize: 2, hidden: 4, omitBias: true },
  ],
  ['gru, mse, readout, 3 layers', { cell: 'gru', loss: 'mse', layers: 3, readout: true }],
  [
    'gru, bidirectional, cross_entropy',
    { cell: 'gru', loss: 'cross_entropy', layers: 2, readout: true, bidirectional: true },
  ],
  ['gru reset-before, sum, 2 layers', { cell: 'gru', gruReset: 'before', loss: 'sum', layers: 2, readout: false }],
  [
    'gru reset-before, bidirectional, mse',
    { cell: 'gru', gruReset: 'before', loss: 'mse', layers: 1, readout: true, bidirectional: true },
  ],
  ['lstm, embedding', { cell: 'lstm', loss: 'cross_entropy', layers: 1, readout: true, vocabulary: 5 }],
  [
    'rnn, embedding, bidirectional',
    { cell: 'rnn', loss: 'mse', layers: 1, readout: true, vocabulary: 6, bidirectional: true },
  ],
);

describe('batched BPTT over blocks of sequences', () => {
  let seed = 100;
  for (const [name, config] of CASES) {
    const s = seed++;
    it(`${name}: the report matches the per-sequence passes`, () => {
      const model = randomModel(
        { ...config, hidden: config.hidden ?? 5, lengths: [7, 7, 7, 4, 9, 4, 4, 7], batchSize: 5 },
        s,
      );
      compareReports(model, name);
    });
  }

  it('block gradients equal the sum of the per-sequence gradients, through the WebAssembly kernel too', () => {
    const kernel = new KernelMatMul(createGemmKernel({ precision: 'f64', threads: 1 }));
    try {
      for (const [i, [name, config]] of CASES.entries()) {
        // Wide enough that the products go to the kernel.
        const model = randomModel({ ...config, hidden: 24, lengths: [6, 6, 6, 6, 6], batchSize: 5 }, 500 + i);
        const cells = buildCells(model);
        const fn = new LossFunction(model);
        const expected = zeroParamGrads(model);
        const forwards = model.sequences.map((seq) => {
          const fwd = forwardSequence(model, cells, fn, seq);
          assert.strictEqual(fwd.nonFinite, null, name);
          backwardSequence(model, cells, fwd, expected);
          return fwd;
        });
        for (const mm of [plainMatMul, kernel]) {
          const blockCells = buildBlockCells(model, mm);
          const fwd = blockForward(model, blockCells, fn, model.sequences, () => undefined);
          assert.strictEqual(fwd.nonFinite, false, name);
          // The forward pass sums in the per-sequence order: the lag recursion's inputs are bit for bit the same.
          forwards.forEach((one, b) => {
            const x = extractSequence(model, blockCells, fwd, b);
            assert.deepStrictEqual(x.traces, one.traces, `${name}: traces of sequence ${b}`);
            assert.deepStrictEqual(x.seeds, one.seeds, `${name}: seeds of sequence ${b}`);
            assert.strictEqual(x.loss, one.loss, name);
          });
          const got = zeroParamGrads(model);
          assert.strictEqual(
            blockBackward(model, blockCells, fwd, got, mm, () => undefined),
            false,
            name,
          );
          const a = gradArrays(got);
          const e = gradArrays(expected);
          a.forEach((arr, j) => {
            let scale = 0;
            for (const x of e[j]) scale = Math.max(scale, Math.abs(x));
            for (let k = 0; k < arr.length; k++) {
              assert.ok(
                Math.abs(arr[k] - e[j][k]) <= 1e-12 * scale,
                `${name}: array ${j}[${k}] ${arr[k]} vs ${e[j][k]}`,
              );
            }
          });
        }
      }
    } finally {
      kernel.dispose();
    }
  });

  describe("streaming: a memory cap that a sequence's trace exceeds", () => {
    const streamed: [string, RandomModelConfig][] = CASES.filter(([name]) =>
      /bidirectional|projections|reset-before|3 layers|embedding|pascanu relu|lstm, sum/.test(name),
    );
    let s = 300;
    for (const [name, config] of streamed) {
      const seed = s++;
      it(`${name}: checkpoints every few steps, recomputed; the report matches the uncapped one to 1e-12`, () => {
        const model = randomModel(
          { ...config, hidden: config.hidden ?? 5, lengths: [20, 20, 20, 13, 13, 20], batchSize: 4 },
          seed,
        );
        const traceBytes = 2500;
        const plan = planAnalysis(model, { file: name, traceBytes });
        for (const T of [20, 13]) {
          const segment = plan.block.segment(T);
          assert.ok(segment > 0 && segment < T && segment <= Math.ceil(Math.sqrt(T)), `segment ${segment} of ${T}`);
        }
        assertReportsClose(model, name, { traceBytes }, {});
      });
    }
  });

  it('unidirectional stacks streamed segment by segment on the WebAssembly kernel: the per-sequence gradients', () => {
    const kernel = new KernelMatMul(createGemmKernel({ precision: 'f64', threads: 1 }));
    try {
      for (const [i, [name, config]] of CASES.entries()) {
        if (config.bidirectional) continue;
        // Wide enough that the products go to the kernel; segments of 4 steps (the last one shorter).
        const model = randomModel({ ...config, hidden: 24, lengths: [14, 14, 14], batchSize: 3 }, 700 + i);
        const cells = buildCells(model);
        const fn = new LossFunction(model);
        const expected = zeroParamGrads(model);
        const losses = model.sequences.map((seq) => {
          const fwd = forwardSequence(model, cells, fn, seq);
          assert.strictEqual(fwd.nonFinite, null, name);
          backwardSequence(model, cells, fwd, expected);
          return fwd.loss;
        });
        const blockCells = buildBlockCells(model, kernel);
        const fwd = streamedForward(
          model,
          blockCells,
          fn,
          model.sequences,
          4,
          () => undefined,
          () => undefined,
        );
        assert.ok(fwd, name);
        assert.deepStrictEqual(Array.from(fwd.stack.losses), losses, `${name}: losses`);
        const got = zeroParamGrads(model);
        assert.strictEqual(
          streamedBackward(model, blockCells, fn, fwd.stack, got, kernel, () => undefined),
          false,
        );
        const e = gradArrays(expected);
        gradArrays(got).forEach((arr, j) => {
          let scale = 0;
          for (const x of e[j]) scale = Math.max(scale, Math.abs(x));
          for (let k = 0; k < arr.length; k++) {
            assert.ok(Math.abs(arr[k] - e[j][k]) <= 1e-12 * scale, `${name}: array ${j}[${k}] ${arr[k]} vs ${e[j][k]}`);
          }
        });
      }
    } finally {
      kernel.dispose();
    }
  });

  it('cancellation and progress work inside a block (plain and checkpointed)', () => {
    const model = randomModel(
      { cell: 'lstm', loss: 'sum', layers: 2, readout: false, hidden: 48, lengths: Array(8).fill(300), batchSize: 8 },
      42,
    );
    for (const traceBytes of [undefined, 20000]) {
      let calls = 0;
      // Cancelled after a few checks: the first block has not finished its forward pass by then.
      assert.throws(
        () => analyzeModel(model, { file: 'c', traceBytes, isCancelled: () => ++calls > 20 }),
        /cancelled/i,
        String(traceBytes),
      );
      assert.strictEqual(calls, 21);
      const fractions: number[] = [];
      const phases = new Set<string>();
      analyzeModel(model, {
        file: 'p',
        traceBytes,
        lagBudgetRows: 1000,
        onProgress: (f, phase) => {
          fractions.push(f);
          phases.add(phase);
        },
      });
      // The block's backward sweep checks at every step (and reports its phase): a cancel never waits for it.
      assert.ok(phases.has('gradients'), [...phases].join(', '));
      for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1], fractions.join(' '));
    }
  });

  it('a block that overflows runs sequence by sequence and reports each overflow as before', () => {
    const model = randomModel(
      {
        cell: 'rnn',
        nonlinearity: 'linear',
        loss: 'sum',
        layers: 1,
        readout: false,
        hidden: 5,
        lengths: [9, 9, 9, 9],
        batchSize: 2,
      },
      7,
    );
    // Sequence 2's forward pass overflows at step 2.
    model.sequences[2].inputs[4] = Infinity;
    const worst = compareReports(model, 'overflow');
    const report = analyzeModel(model, { file: 'overflow' });
    assert.ok(
      report.findings.some((f) => f.code === 'non-finite' && /sequence 2 became non-finite at step 2/.test(f.message)),
      JSON.stringify(report.findings),
    );
    assert.ok(worst <= REPORT_TOLERANCE);
  });
});
