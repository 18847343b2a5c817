// `track` on real PyTorch checkpoint series against figures computed independently with PyTorch (float64):
// test/fixtures/timeline (H=4 series built to show each step source and finding, and the wrong-input cases)
// and examples/timeline (an LSTM trained on the adding problem, with and without clipping), both written by
// tools/train_timeline.py with their expected.json. Also checks that examples/timeline/timeline.json (the
// example run's timeline report, shipped for users without Python) is what `track` prints today.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { TimelineEntry, TimelineReport } from '../../../src/engine/timeline/types';
import { REPO_ROOT, ensureBuilt, runCli } from '../helpers/cli';

interface ExpectedEntry {
  file: string;
  step: number;
  cell?: string;
  loss?: number;
  grad_norm?: number;
  recommended?: { clip_norm: number; clip_value: number };
  layers?: { layer: number; direction: string; regime: string; log10_rate_per_step: number; sigma_max: number }[];
  error?: string;
}

interface ExpectedFinding {
  code: string;
  step: number;
  layer?: number;
  from?: string | number;
  to?: string | number;
  ratio?: number;
  ratio_to_median_before?: number;
}

interface ExpectedSeries {
  step_source?: string;
  entries: ExpectedEntry[];
  findings: ExpectedFinding[];
}

const TOL = 1e-9;

function near(a: number | null | undefined, b: number, what: string): void {
  assert.ok(typeof a === 'number', `${what}: ${String(a)}`);
  assert.ok(Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b} (PyTorch)`);
}

function track(cwd: string, series: string, model: string): TimelineReport {
  const run = runCli(['track', series, '--model', model, '--json', '--no-cache'], cwd);
  assert.ok(run.status === 0 || run.status === 2, run.stderr);
  assert.doesNotMatch(run.stderr, /^\s{4}at /m);
  return JSON.parse(run.stdout) as TimelineReport;
}

/** Entries and findings against the expected series (the findings' figures too). */
function compare(t: TimelineReport, expected: ExpectedSeries, name: string): void {
  assert.deepStrictEqual(
    t.entries.map((e) => [e.file, e.step]),
    expected.entries.map((e) => [e.file, e.step]),
    `${name}: files and steps`,
  );
  t.entries.forEach((e: TimelineEntry, i) => {
    const x = expected.entries[i];
    const what = `${name} ${x.file}`;
    if (x.error !== undefined) {
      assert.ok(e.error, `${what}: no error`);
      return;
    }
    assert.strictEqual(e.error, undefined, `${what}: ${e.error}`);
    if (expected.step_source) assert.strictEqual(e.step_source, expected.step_source, `${what}: step source`);
    if (x.cell !== undefined) assert.strictEqual(e.model?.cell, x.cell, `${what}: cell`);
    near(e.loss, x.loss!, `${what} loss`);
    near(e.grad_norm, x.grad_norm!, `${what} grad_norm`);
    near(e.recommended?.clip_norm, x.recommended!.clip_norm, `${what} clip_norm`);
    near(e.recommended?.clip_value, x.recommended!.clip_value, `${what} clip_value`);
    x.layers!.forEach((xl, k) => {
      const l = e.layers![k];
      assert.strictEqual(l.layer, xl.layer);
      assert.strictEqual(l.direction, xl.direction);
      assert.strictEqual(l.regime, xl.regime, `${what} layer ${xl.layer} regime`);
      near(l.log10_rate_per_step, xl.log10_rate_per_step, `${what} layer ${xl.layer} rate`);
      near(l.sigma_max, xl.sigma_max, `${what} layer ${xl.layer} σ_max`);
    });
  });
  const ours = t.findings.filter((f) => f.code !== 'mixed-architecture');
  assert.deepStrictEqual(
    ours.map((f) => [f.code, f.step, f.layer]),
    expected.findings.map((f) => [f.code, f.step, f.layer]),
    `${name}: findings`,
  );
  ours.forEach((f, i) => {
    const x = expected.findings[i];
    if (f.code === 'regime-change') assert.deepStrictEqual([f.data?.from, f.data?.to], [x.from, x.to]);
    if (f.code === 'grad-norm-spike') near(f.data?.ratio as number, x.ratio_to_median_before!, `${name} spike ratio`);
    if (f.code === 'clip-drift') {
      near(f.data?.from as number, x.from as number, `${name} drift from`);
      near(f.data?.to as number, x.to as number, `${name} drift to`);
      near(f.data?.ratio as number, x.ratio!, `${name} drift ratio`);
    }
  });
}

describe('rnn-gradients track on PyTorch checkpoint series (expected.json from PyTorch)', function () {
  this.timeout(240_000);
  before(ensureBuilt);

  describe('test/fixtures/timeline', () => {
    const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'timeline');
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
      series: Record<string, ExpectedSeries>;
    };
    for (const [name, series] of Object.entries(expected.series)) {
      it(`${name}: steps, figures (1e-9) and findings`, () => {
        const t = track(dir, name, 'model.rnn.json');
        compare(t, series, name);
        if (name === 'mixed')
          assert.deepStrictEqual(
            t.findings.map((f) => [f.code, f.step]),
            [['mixed-architecture', 220]],
          );
        if (name === 'corrupt') {
          const bad = t.entries.find((e) => e.step === 220)!;
          assert.match(bad.error!, /^model\.rnn\.json:\d+:\d+: weights: corrupt\/step_00220\.pt: /);
          assert.strictEqual(bad.step_source, 'name');
        }
        if (name === 'calm') assert.deepStrictEqual(t.findings, []);
      });
    }
  });

  describe('examples/timeline', () => {
    const dir = path.join(REPO_ROOT, 'examples', 'timeline');
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
      runs: Record<string, ExpectedSeries>;
    };
    for (const [name, run] of Object.entries(expected.runs)) {
      it(`${name}: figures (1e-9) and findings agree with PyTorch`, () => {
        compare(track(dir, name, 'adding.rnn.json'), run, name);
      });
    }

    it('examples/timeline/timeline.json is what `track unclipped --model adding.rnn.json --json` prints', () => {
      const fresh = track(dir, 'unclipped', 'adding.rnn.json');
      const stored = JSON.parse(fs.readFileSync(path.join(dir, 'timeline.json'), 'utf8')) as TimelineReport;
      const check = (a: unknown, b: unknown, at: string): void => {
        if (typeof a === 'number' && typeof b === 'number') {
          assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${at}: ${a} vs ${b}`);
        } else if (a && b && typeof a === 'object' && typeof b === 'object') {
          assert.deepStrictEqual(Object.keys(a).sort(), Object.keys(b).sort(), at);
          for (const k of Object.keys(a))
            check((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
        } else assert.deepStrictEqual(a, b, at);
      };
      check(fresh, stored, 'timeline');
    });
  });
});
