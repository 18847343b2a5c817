// Sampled lag tables (src/engine/lagSample.ts): the stated 95% intervals cover the exact table's means in at
// least 90% of the cases, over many seeds and models small enough to compute exactly; the sample is
// reproducible from its seed; the report says what was sampled and how.
import * as assert from 'assert';
import { analyzeModel } from '../../../src/engine/analyze';
import { drawLagSample } from '../../../src/engine/lagSample';
import type { Report } from '../../../src/engine/report/types';
import { parsedModel } from '../helpers/models';
import { reportContractProblems } from '../helpers/report';

interface Spec {
  name: string;
  text: string;
}

function spec(
  name: string,
  model: Record<string, unknown>,
  steps: number,
  sequences: number,
  lengths?: number[],
): Spec {
  return {
    name,
    text: JSON.stringify({
      input_size: 3,
      hidden_size: 6,
      num_layers: 1,
      ...model,
      data: {
        generate: { sequences, length: steps, seed: 5, scale: 1.5 },
        ...(lengths ? { lengths } : {}),
      },
      loss: 'sum',
    }),
  };
}

const MODELS: Spec[] = [
  spec('rnn tanh, orthogonal gain 1.3', { cell: 'rnn', init: { scheme: 'orthogonal', gain: 1.3, seed: 1 } }, 60, 3),
  spec('rnn tanh, orthogonal gain 0.8', { cell: 'rnn', init: { scheme: 'orthogonal', gain: 0.8, seed: 2 } }, 60, 3),
  spec('lstm', { cell: 'lstm', init: { scheme: 'pytorch', seed: 3 } }, 50, 3),
  spec('gru, two layers', { cell: 'gru', num_layers: 2, init: { scheme: 'pytorch', seed: 4 } }, 40, 2),
  spec('bidirectional rnn', { cell: 'rnn', bidirectional: true, init: { scheme: 'pytorch', seed: 5 } }, 40, 2),
  spec('lstm, ragged lengths', { cell: 'lstm', init: { scheme: 'pytorch', seed: 6 } }, 50, 4, [50, 31, 12, 44]),
];

function exactReport(text: string): Report {
  return analyzeModel(parsedModel(text), { file: 'm' });
}

function sampledReport(text: string, seed: number, share: number): Report {
  return analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: share * exactWork(text), lagSeed: seed });
}

/** The exact table's work of a model (row-steps), to set budgets as shares of it. */
function exactWork(text: string): number {
  const model = parsedModel(text);
  return drawLagSample(
    model.sequences.map((s) => s.length),
    { layers: model.numLayers, directions: model.bidirectional ? 2 : 1 },
    Infinity,
    0,
    1,
  )!.exactWork;
}

describe('sampled lag tables', () => {
  it('the 95% intervals contain the exact log10 mean in at least 90% of cases (seeds × six models × two shares)', function () {
    this.timeout(300000);
    let inside = 0;
    let total = 0;
    const perModel: string[] = [];
    for (const m of MODELS) {
      const exact = exactReport(m.text);
      for (const share of [0.05, 0.25]) {
        let mInside = 0;
        let mTotal = 0;
        for (let seed = 1; seed <= 25; seed++) {
          const r = sampledReport(m.text, seed, share);
          assert.ok(r.lag_sampling, 'sampled');
          assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(r))), []);
          r.layers.forEach((l, k) => {
            for (const e of l.lags) {
              const want = exact.layers[k].lags[e.lag].log10_mean;
              const [lo, hi] = e.log10_mean_ci95!;
              assert.ok(want !== null && lo !== null && hi !== null, `${m.name}: no zero norms here`);
              mTotal++;
              if (lo - 1e-9 <= want && want <= hi + 1e-9) mInside++;
            }
          });
        }
        perModel.push(`${m.name}, share ${share}: ${mInside}/${mTotal}`);
        // Every model and share on its own, with a little room for the sampling of the check itself.
        assert.ok(mInside / mTotal >= 0.88, `coverage:\n${perModel.join('\n')}`);
        inside += mInside;
        total += mTotal;
      }
    }
    assert.ok(total > 2000, `${total} intervals`);
    assert.ok(inside / total >= 0.9, `coverage ${inside}/${total}:\n${perModel.join('\n')}`);
  });

  it('is reproducible from its seed, and another seed draws another sample', () => {
    const text = MODELS[2].text;
    const work = exactWork(text);
    const a = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: 0.2 * work, lagSeed: 7 });
    const b = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: 0.2 * work, lagSeed: 7 });
    const c = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: 0.2 * work, lagSeed: 8 });
    assert.deepStrictEqual(a.layers, b.layers);
    assert.deepStrictEqual(a.lag_sampling, b.lag_sampling);
    assert.strictEqual(a.lag_sampling!.seed, 7);
    assert.notDeepStrictEqual(a.layers[0].lags, c.layers[0].lags);
    // The gradients, loss and clipping never depend on the sample.
    const exact = exactReport(text);
    assert.deepStrictEqual(a.gradients, exact.gradients);
    assert.strictEqual(a.loss, exact.loss);
    assert.deepStrictEqual(a.clipping, exact.clipping);
  });

  it('stays exact within the budget: lag_sampling null and the exact table', () => {
    const text = MODELS[0].text;
    const exact = exactReport(text);
    const r = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: exactWork(text) });
    assert.strictEqual(r.lag_sampling, null);
    assert.deepStrictEqual(r.layers, exact.layers);
    const seconds = analyzeModel(parsedModel(text), { file: 'm', lagBudgetSeconds: 60 });
    assert.strictEqual(seconds.lag_sampling, null);
    assert.strictEqual(exact.lag_sampling, null, 'no budget: exact');
  });

  it('says what the sample is: counts, work share, renamed min/max, sampled pairs, and the verdict says it is estimated', () => {
    const text = MODELS[1].text;
    const work = exactWork(text);
    const r = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: 0.1 * work, lagSeed: 3 });
    const ls = r.lag_sampling!;
    assert.ok(ls.endpoints > 0 && ls.endpoints < 3 * 60, `${ls.endpoints} end points`);
    assert.strictEqual(ls.sequences, 3);
    assert.ok(ls.work_share > 0.05 && ls.work_share < 0.2, `share ${ls.work_share}`);
    const e = r.layers[0].lags[1];
    assert.strictEqual(e.sampled, true);
    assert.ok(!('min' in e) && !('max' in e) && !('log10_min' in e) && !('log10_max' in e));
    assert.ok(e.log10_min_sampled! <= e.log10_mean! && e.log10_mean! <= e.log10_max_sampled! + 1e-12);
    const [lo, hi] = e.log10_mean_ci95!;
    assert.ok(lo! <= e.log10_mean! && e.log10_mean! <= hi!);
    // count: the sampled pairs at the lag (about a tenth of the exact table's 3 · 59).
    assert.ok(e.count >= 2 && e.count < 3 * 59, `count ${e.count}`);
    const exact = exactReport(text);
    assert.strictEqual(r.layers[0].regime, exact.layers[0].regime);
    assert.match(r.layers[0].evidence!.rule, /Estimated from a sample of the lag table/);
  });

  it('keeps exact logarithms beyond the double range (every pair at a lag equal: the estimate is exact)', () => {
    // A linear rnn with W_hh = 0.05·I and the sum loss: every pair at lag ℓ has norm 0.05^ℓ·‖g_0‖.
    const text = JSON.stringify({
      cell: 'rnn',
      nonlinearity: 'linear',
      input_size: 2,
      hidden_size: 3,
      init: { scheme: 'identity', gain: 0.05, seed: 1 },
      data: { generate: { sequences: 2, length: 400, seed: 2 } },
      loss: 'sum',
    });
    const exact = exactReport(text);
    const r = analyzeModel(parsedModel(text), { file: 'm', lagBudgetRows: 0.1 * exactWork(text), lagSeed: 5 });
    assert.ok(r.lag_sampling);
    const lags = r.layers[0].lags;
    assert.ok(lags.length > 300, `${lags.length} lags`);
    const last = lags[lags.length - 1];
    assert.ok(last.log10_mean! < -400, `log10_mean ${last.log10_mean}`);
    for (const e of lags) {
      const want = exact.layers[0].lags[e.lag].log10_mean!;
      assert.ok(Math.abs(e.log10_mean! - want) < 1e-9, `lag ${e.lag}: ${e.log10_mean} vs ${want}`);
      const [lo, hi] = e.log10_mean_ci95!;
      assert.ok(lo! - 1e-9 <= want && want <= hi! + 1e-9, `lag ${e.lag}`);
    }
    assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(r))), []);
  });
});
