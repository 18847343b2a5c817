// The CLI's lag budget: a lag table over --lag-budget is estimated from a seeded sample (lag_sampling, 95%
// intervals, the summary says so), --exact gives the exact table whatever it costs, --lag-seed changes the
// sample, and wrong values are usage errors.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Report } from '../../../src/engine/report/types';
import { ensureBuilt, runCli, type CliRun } from '../helpers/cli';
import { reportContractProblems } from '../helpers/report';

function report(run: CliRun): Report {
  assert.strictEqual(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Report;
}

describe('CLI: --lag-budget, --exact and --lag-seed', function () {
  this.timeout(120000);
  let dir: string;
  let file: string;

  before(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lag-budget-'));
    file = path.join(dir, 'long.rnn.json');
    // About 0.1 s of lag work: exact under the default budget of 2 s, sampled under 0.01 s.
    fs.writeFileSync(
      file,
      JSON.stringify({
        cell: 'rnn',
        input_size: 3,
        hidden_size: 16,
        init: { scheme: 'orthogonal', gain: 0.9, seed: 1 },
        data: { generate: { sequences: 4, length: 400, seed: 2 } },
        loss: 'sum',
      }),
    );
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the default budget keeps this table exact; --lag-budget 0.01 samples it; --exact is exact', () => {
    const exact = report(runCli(['analyze', file, '--json'], dir));
    assert.strictEqual(exact.lag_sampling, null);
    assert.strictEqual(exact.layers[0].lags.length, 400);
    const sampled = report(runCli(['analyze', file, '--json', '--lag-budget', '0.01'], dir));
    const ls = sampled.lag_sampling!;
    assert.ok(ls && ls.endpoints > 0 && ls.work_share < 0.5, JSON.stringify(ls));
    assert.strictEqual(ls.seed, 1);
    assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(sampled))), []);
    assert.ok(sampled.layers[0].lags.every((e) => e.sampled === true && Array.isArray(e.log10_mean_ci95)));
    assert.deepStrictEqual(sampled.gradients, exact.gradients, 'gradients stay exact');
    assert.deepStrictEqual(sampled.clipping, exact.clipping, 'clipping stays exact');
    const forced = report(runCli(['analyze', file, '--json', '--exact'], dir));
    assert.strictEqual(forced.lag_sampling, null);
    assert.deepStrictEqual(forced.layers, exact.layers);
    // --lag-budget 0: always exact.
    assert.strictEqual(report(runCli(['analyze', file, '--json', '--lag-budget', '0'], dir)).lag_sampling, null);
  });

  it('a model whose default run is sampled: --exact gives the exact table (lag_sampling null), same gradients', () => {
    // About 3.5e10 flops of lag work, estimated over the default budget of 2 s (so sampled by default).
    const big = path.join(dir, 'big.rnn.json');
    fs.writeFileSync(
      big,
      JSON.stringify({
        cell: 'rnn',
        input_size: 3,
        hidden_size: 64,
        init: { scheme: 'orthogonal', gain: 0.9, seed: 1 },
        data: { generate: { sequences: 4, length: 1400, seed: 2 } },
        loss: 'sum',
      }),
    );
    const byDefault = report(runCli(['analyze', big, '--json'], dir));
    assert.ok(byDefault.lag_sampling, 'the default run is sampled');
    assert.ok(byDefault.layers[0].lags.every((e) => e.sampled === true));
    const exact = report(runCli(['analyze', big, '--json', '--exact'], dir));
    assert.strictEqual(exact.lag_sampling, null);
    const lags = exact.layers[0].lags;
    assert.strictEqual(lags.length, 1400);
    assert.ok(
      lags.every((e) => e.sampled === undefined && e.log10_mean_ci95 === undefined),
      'exact entries',
    );
    assert.ok(
      lags.every((e) => e.count === 4 * (1400 - e.lag)),
      'every pair of the table',
    );
    assert.deepStrictEqual(exact.gradients, byDefault.gradients, 'gradients are exact either way');
  });

  it('--lag-seed draws another reproducible sample', () => {
    const a = report(runCli(['analyze', file, '--json', '--lag-budget=0.01', '--lag-seed', '9'], dir));
    const b = report(runCli(['analyze', file, '--json', '--lag-budget=0.01', '--lag-seed=9'], dir));
    const c = report(runCli(['analyze', file, '--json', '--lag-budget=0.01'], dir));
    assert.strictEqual(a.lag_sampling!.seed, 9);
    assert.deepStrictEqual(a.layers, b.layers);
    assert.notDeepStrictEqual(a.layers[0].lags, c.layers[0].lags);
  });

  it('the summary says the table is estimated and shows the intervals', () => {
    const run = runCli(['analyze', file, '--lag-budget', '0.01'], dir);
    assert.strictEqual(run.status, 0, run.stderr);
    assert.match(run.stdout, /Lags {4}estimated from a sample of \d+ end points in \d sequences? \(seed 1, /);
    assert.match(run.stdout, /lag {5}mean \(est\.\) 95% interval/);
    assert.match(run.stdout, /^ {4}10 {6}\S+ +\S+ … \S+ +\S+$/m);
    assert.match(run.stdout, /Estimated from a sample of the lag table/);
  });

  it('wrong values are usage errors (exit 2)', () => {
    for (const args of [
      ['--lag-budget', '-1'],
      ['--lag-budget', 'x'],
      ['--lag-budget'],
      ['--lag-seed', '1.5'],
      ['--exact', '--lag-budget', '1'],
    ]) {
      const run = runCli(['analyze', file, ...args], dir);
      assert.strictEqual(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^rnn-gradients: --(lag-budget|lag-seed|exact)/, args.join(' '));
    }
  });
});
