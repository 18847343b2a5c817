// The cells' fused lag steps (RnnCell/LstmCell/GruCell.lagStep: rescaling, row norms and the backward step in one
// pass per row, A written straight into the kernel's memory) give the same lag statistics to the bit as the step's
// parts in order.
import * as assert from 'assert';
import { buildCells } from '../../../src/engine/cells';
import type { Cell } from '../../../src/engine/cells/cell';
import { createGemmKernel, ParallelWasmGemm } from '../../../src/engine/kernels';
import { LagStats } from '../../../src/engine/logscale';
import { LossFunction } from '../../../src/engine/loss';
import { KernelMatMul } from '../../../src/engine/matmul';
import { forwardSequence } from '../../../src/engine/network';
import { accumulateSequenceLags, stackShapeOf } from '../../../src/engine/stackLags';
import { parsedModel } from '../helpers/models';

function modelText(form: string, nonlinearity: string, hidden: number, steps: number, gain: number): string {
  return JSON.stringify({
    cell: 'rnn',
    form,
    nonlinearity,
    input_size: 3,
    hidden_size: hidden,
    num_layers: 1,
    init: { scheme: 'orthogonal', seed: 5, gain },
    data: { generate: { sequences: 1, length: steps, seed: 6 } },
    loss: 'sum',
  });
}

/** A one-layer lstm or gru (optionally bidirectional, the lstm optionally with projections). */
function gatedText(
  cell: 'lstm' | 'gru',
  gain: number,
  opts: { bidirectional?: boolean; proj?: number; hidden?: number } = {},
): string {
  return JSON.stringify({
    cell,
    input_size: 3,
    hidden_size: opts.hidden ?? 40,
    num_layers: 1,
    ...(opts.bidirectional ? { bidirectional: true } : {}),
    ...(opts.proj ? { proj_size: opts.proj } : {}),
    // Orthogonal blocks need a square weight_hh, which projections do not have.
    init: opts.proj ? { scheme: 'pytorch', seed: 5 } : { scheme: 'orthogonal', seed: 5, gain },
    data: { generate: { sequences: 1, length: 90, seed: 6 } },
    loss: 'sum',
  });
}

/** Packed statistics and contributions of the recursion (every layer and direction), with or without the fused step. */
function lagRun(text: string, mm: KernelMatMul, fused: boolean, safeExponent: number): Float64Array {
  const model = parsedModel(text);
  const cells = buildCells(model);
  const fwd = forwardSequence(model, cells, new LossFunction(model), model.sequences[0], () => undefined);
  const lagCells: Cell[] = buildCells(model, mm);
  let calls = 0;
  for (const c of lagCells) {
    const own = c.lagStep?.bind(c);
    assert.ok(own, `the ${model.cell} cell has a fused step`);
    c.lagStep = fused
      ? (...args) => {
          const done = own(...args);
          if (done) calls++;
          return done;
        }
      : undefined;
  }
  const T = model.sequences[0].length;
  const stats = lagCells.map(() => new LagStats(T));
  accumulateSequenceLags({
    shape: stackShapeOf(model),
    cells: lagCells,
    fwd,
    maxLag: T - 1,
    stats,
    hooks: { step: () => undefined },
    safeExponent,
  });
  if (fused) assert.ok(calls >= lagCells.length * (T - 1), `the fused step ran (${calls} of ${T} steps)`);
  const out = new Float64Array(stats.length * T * LagStats.PACKED_PER_LAG);
  stats.forEach((s, i) => s.pack(out, i * T * LagStats.PACKED_PER_LAG));
  return out;
}

/** Asserts the two runs' statistics are the same to the bit, hold numbers, and (when asked) rescaled rows. */
function assertSameBits(fused: Float64Array, parts: Float64Array, rescaled: boolean): void {
  assert.strictEqual(fused.length, parts.length);
  let finite = 0;
  let exponents = 0;
  for (let i = 0; i < parts.length; i++) {
    assert.ok(Object.is(fused[i], parts[i]), `entry ${i}: ${fused[i]} vs ${parts[i]}`);
    if (Number.isFinite(parts[i]) && parts[i] !== 0) finite++;
    // Per lag: count, sum m, sum e, contribution m, e, min m, e, max m, e: a rescaled row leaves its exponent.
    if (i % LagStats.PACKED_PER_LAG === 6 && parts[i] !== 0) exponents++;
  }
  assert.ok(finite > parts.length / 4, 'the statistics hold numbers');
  if (rescaled) assert.ok(exponents > 0, 'some rows were rescaled');
}

/**
 * A one-layer model's fused step at j = 5 over one row of ones (G) on the plain product, which has no zero-copy path:
 * what it returned and what it was given.
 */
function plainProductStep(text: string) {
  const model = parsedModel(text);
  const [cell] = buildCells(model);
  const S = cell.stateSize;
  const G = new Float64Array(S).fill(1);
  const out = { prev: new Float64Array(S), prevFrom: 0, input: null, contribution: new Float64Array(1), grads: null };
  const fwd = forwardSequence(model, [cell], new LossFunction(model), model.sequences[0], () => undefined);
  const range = { big: 2 ** 200, small: 2 ** -200 };
  const args = { j: 5, G, exp: new Float64Array(1), rows: 1, range, norms: new Float64Array(1), out };
  return { model, S, G, out, done: cell.lagStep?.(fwd.traces[0], args) };
}

/** Counts the steps that took the kernel's WebAssembly row kernels (KernelMatMul.rowWork). */
function countRowWork(mm: KernelMatMul): { count: number } {
  const counter = { count: 0 };
  const own = mm.rowWork.bind(mm);
  mm.rowWork = () => {
    const work = own();
    if (work) counter.count++;
    return work;
  };
  return counter;
}

describe('rnn fused lag step', () => {
  for (const precision of ['f64', 'f32'] as const) {
    for (const [form, nonlinearity] of [
      ['elman', 'tanh'],
      ['pascanu', 'tanh'],
      ['elman', 'relu'],
    ] as const) {
      for (const [what, gain, safe] of [
        ['no rescaling', 1, 200],
        ['rows rescaled often (growing gradients, safe exponent 3)', 3, 3],
      ] as const) {
        // An even hidden size takes the WebAssembly row kernel, an odd one the TypeScript rows.
        for (const hidden of [40, 41]) {
          it(`${form} ${nonlinearity}, H ${hidden}, ${precision}, ${what}: the same statistics to the bit as the parts`, () => {
            const text = modelText(form, nonlinearity, hidden, 90, gain);
            const mm = new KernelMatMul(createGemmKernel({ precision, kind: 'wasm' }));
            const rowSteps = countRowWork(mm);
            try {
              assertSameBits(lagRun(text, mm, true, safe), lagRun(text, mm, false, safe), safe === 3);
              if (hidden % 2 === 0) assert.ok(rowSteps.count > 60, `the row kernel ran (${rowSteps.count} steps)`);
              else assert.strictEqual(rowSteps.count, 0, 'no row kernel');
            } finally {
              mm.dispose();
            }
          });
        }
      }
    }
  }

  it('elman tanh on the two-thread kernel (shared memory, helper up): the same statistics to the bit', async () => {
    const K = new ParallelWasmGemm({ threads: 2, minParallelFlops: 0, mcPanels: 2 });
    const mm = new KernelMatMul(K);
    try {
      for (let i = 0; i < 300 && K.readyHelpers < 1; i++) await new Promise((res) => setTimeout(res, 10));
      assert.strictEqual(K.readyHelpers, 1, 'the helper thread started');
      const text = modelText('elman', 'tanh', 40, 90, 3);
      const parts = lagRun(text, mm, false, 3);
      const fused = lagRun(text, mm, true, 3);
      for (let i = 0; i < parts.length; i++) assert.ok(Object.is(fused[i], parts[i]), `entry ${i}`);
    } finally {
      mm.dispose();
    }
  });

  it('falls back to the parts when the product has no zero-copy path (plain product)', () => {
    const { done, out } = plainProductStep(modelText('elman', 'tanh', 8, 10, 1));
    assert.strictEqual(done, false);
    assert.deepStrictEqual(Array.from(out.prev), new Array<number>(8).fill(0), 'nothing written');
  });
});

describe('lstm and gru fused lag steps', () => {
  // Which of them run their rows in the WebAssembly row kernels (the even hidden sizes).
  const rowKernel = new Set([
    'lstm',
    'lstm with projections (proj_size 24)',
    'bidirectional lstm',
    'bidirectional lstm with projections',
    'lstm with projections',
    'gru',
    'bidirectional gru',
  ]);
  const models: [string, () => string][] = [
    ['lstm', () => gatedText('lstm', 1.5)],
    ['lstm of odd hidden size (41)', () => gatedText('lstm', 1.5, { hidden: 41 })],
    ['lstm with projections (proj_size 24)', () => gatedText('lstm', 1.5, { proj: 24 })],
    ['bidirectional lstm', () => gatedText('lstm', 1.5, { bidirectional: true })],
    ['bidirectional lstm with projections', () => gatedText('lstm', 1.5, { bidirectional: true, proj: 24 })],
    ['gru', () => gatedText('gru', 1.5)],
    ['gru of odd hidden size (41)', () => gatedText('gru', 1.5, { hidden: 41 })],
    ['bidirectional gru', () => gatedText('gru', 1.5, { bidirectional: true })],
  ];
  for (const precision of ['f64', 'f32'] as const) {
    for (const [name, text] of models) {
      for (const [what, safe] of [
        ['no rescaling', 200],
        ['rows rescaled often (safe exponent 3)', 3],
      ] as const) {
        it(`${name}, ${precision}, ${what}: the same statistics to the bit as the parts`, () => {
          const mm = new KernelMatMul(createGemmKernel({ precision, kind: 'wasm' }));
          const rowSteps = countRowWork(mm);
          try {
            assertSameBits(lagRun(text(), mm, true, safe), lagRun(text(), mm, false, safe), safe === 3);
            if (rowKernel.has(name)) assert.ok(rowSteps.count > 80, `the row kernels ran (${rowSteps.count} steps)`);
            else assert.strictEqual(rowSteps.count, 0, 'no row kernel');
          } finally {
            mm.dispose();
          }
        });
      }
    }
  }

  for (const [name, text] of [
    ['lstm with projections', gatedText('lstm', 1.5, { proj: 24 })],
    ['bidirectional lstm', gatedText('lstm', 1.5, { bidirectional: true })],
    ['bidirectional gru', gatedText('gru', 1.5, { bidirectional: true })],
  ] as const) {
    it(`${name} on the two-thread kernel (shared memory, helper up): the same statistics to the bit`, async () => {
      const K = new ParallelWasmGemm({ threads: 2, minParallelFlops: 0, mcPanels: 2 });
      const mm = new KernelMatMul(K);
      const rowSteps = countRowWork(mm);
      try {
        for (let i = 0; i < 300 && K.readyHelpers < 1; i++) await new Promise((res) => setTimeout(res, 10));
        assert.strictEqual(K.readyHelpers, 1, 'the helper thread started');
        assertSameBits(lagRun(text, mm, true, 3), lagRun(text, mm, false, 3), true);
        assert.strictEqual(rowSteps.count > 0, rowKernel.has(name), `row kernel steps: ${rowSteps.count}`);
      } finally {
        mm.dispose();
      }
    });
  }

  it('the lstm and gru fall back to the parts when the product has no zero-copy path (plain product)', () => {
    for (const text of [gatedText('lstm', 1), gatedText('lstm', 1, { proj: 24 }), gatedText('gru', 1)]) {
      const { model, S, G, out, done } = plainProductStep(text);
      assert.strictEqual(done, false, model.cell);
      assert.deepStrictEqual(Array.from(out.prev), new Array<number>(S).fill(0), 'nothing written');
      assert.deepStrictEqual(Array.from(G), new Array<number>(S).fill(1), 'G unchanged');
    }
  });
});
