// `rnn-gradients track` as a user runs it (dist/cli.js): entries equal single-file `analyze` reports,
// steps from names and name order, the findings on series built to show them, the cache, --watch, and
// wrong input (an empty folder, mixed architectures, a corrupt checkpoint in the middle).
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSafetensors } from '../../../src/engine/model/safetensors';
import type { TimelineEntry, TimelineReport } from '../../../src/engine/timeline/types';
import type { Report } from '../../../src/engine/report/types';
import { CLI_JS, ensureBuilt, runCli } from '../helpers/cli';

/** A linear RNN whose W_hh is gain·Q (Q orthogonal): its log10 rate per step is log10(gain). */
function linearModel(gain: number, hidden = 4): string {
  return JSON.stringify(
    {
      cell: 'rnn',
      nonlinearity: 'linear',
      input_size: 2,
      hidden_size: hidden,
      init: { scheme: 'orthogonal', seed: 6, gain },
      data: { generate: { sequences: 4, length: 30, distribution: 'normal', scale: 0.1, seed: 6 } },
      loss: 'sum',
      training: { batch_size: 2 },
    },
    null,
    2,
  );
}

function close(a: number | null | undefined, b: number | null | undefined, what: string): void {
  if (a === null || a === undefined || b === null || b === undefined) {
    assert.strictEqual(a, b, what);
    return;
  }
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** An entry's figures against the report of a separate `analyze`. */
function assertEntryMatches(e: TimelineEntry, r: Report): void {
  close(e.loss, r.loss, `${e.file} loss`);
  close(e.grad_norm, r.grad_norm, `${e.file} grad_norm`);
  close(e.recommended?.clip_norm, r.clipping.recommended.clip_norm, `${e.file} clip_norm`);
  close(e.recommended?.clip_value, r.clipping.recommended.clip_value, `${e.file} clip_value`);
  assert.strictEqual(e.layers?.length, r.layers.length);
  r.layers.forEach((l, i) => {
    const el = e.layers![i];
    assert.strictEqual(el.layer, l.layer);
    assert.strictEqual(el.regime, l.regime, `${e.file} layer ${l.layer} regime`);
    close(el.sigma_max, l.sigma_max, `${e.file} sigma_max`);
    close(el.log10_rate_per_step, l.evidence?.log10_rate_per_step, `${e.file} rate`);
  });
  assert.deepStrictEqual(e.codes, [...new Set(r.findings.map((f) => f.code))]);
}

function timeline(run: { status: number | null; stdout: string; stderr: string }, status = 0): TimelineReport {
  assert.strictEqual(run.status, status, run.stderr);
  assert.doesNotMatch(run.stderr, /^\s{4}at /m);
  return JSON.parse(run.stdout) as TimelineReport;
}

describe('rnn-gradients track', function () {
  this.timeout(120_000);
  let tmp: string;
  const savedCache = process.env.RNN_GRADIENTS_CACHE_DIR;

  before(() => {
    ensureBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-track-'));
    process.env.RNN_GRADIENTS_CACHE_DIR = path.join(tmp, 'cache');
  });
  after(() => {
    if (savedCache === undefined) delete process.env.RNN_GRADIENTS_CACHE_DIR;
    else process.env.RNN_GRADIENTS_CACHE_DIR = savedCache;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('a series of model files (no --model)', () => {
    let dir: string;
    // gain 0.9: rate −0.046 (vanishing); 0.97, 1.0: stable; 1.1: +0.041 (exploding).
    const gains: [number, number][] = [
      [100, 0.9],
      [200, 0.9],
      [300, 0.97],
      [1000, 1.0],
      [1100, 1.1],
    ];
    before(() => {
      dir = path.join(tmp, 'gains');
      fs.mkdirSync(dir);
      for (const [step, g] of gains) fs.writeFileSync(path.join(dir, `ckpt-${step}.rnn.json`), linearModel(g));
    });

    it('entries are sorted by the step in the name (numeric) and equal separate analyze runs at 1e-12', () => {
      const t = timeline(runCli(['track', dir, '--json', '--no-cache']));
      assert.strictEqual(t.timeline_version, 1);
      assert.deepStrictEqual(
        t.entries.map((e) => [e.step, e.step_source, path.basename(e.file)]),
        gains.map(([s]) => [s, 'name', `ckpt-${s}.rnn.json`]),
      );
      for (const e of t.entries) {
        const single = runCli(['analyze', path.join(dir, path.basename(e.file)), '--json']);
        assert.strictEqual(single.status, 0, single.stderr);
        assertEntryMatches(e, JSON.parse(single.stdout) as Report);
      }
      assert.deepStrictEqual(
        t.entries.map((e) => e.layers![0].regime),
        ['vanishing', 'vanishing', 'stable', 'stable', 'exploding'],
      );
    });

    it('regime-change at the first step of each new regime', () => {
      const t = timeline(runCli(['track', dir, '--json']));
      const changes = t.findings.filter((f) => f.code === 'regime-change');
      assert.deepStrictEqual(
        changes.map((f) => [f.step, f.layer, f.data?.from, f.data?.to]),
        [
          [300, 0, 'vanishing', 'stable'],
          [1100, 0, 'stable', 'exploding'],
        ],
      );
    });

    it('the text output is a table with one row per step, then the findings', () => {
      const run = runCli(['track', dir]);
      assert.strictEqual(run.status, 0, run.stderr);
      const rows = run.stdout.split('\n').filter((l) => /^\s*\d+\s/.test(l));
      assert.deepStrictEqual(
        rows.map((l) => Number(l.trim().split(/\s+/)[0])),
        gains.map(([s]) => s),
      );
      assert.match(run.stdout, /step\s+loss\s+grad norm\s+layer 0\s+clip_norm\s+findings/);
      assert.match(run.stdout, /warning regime-change at step 1100: Layer 0 turned from stable to exploding/);
    });

    it('a glob picks the same files; names without integers get their place in name order', () => {
      const t = timeline(runCli(['track', path.join(dir, 'ckpt-1*.rnn.json'), '--json']));
      assert.deepStrictEqual(
        t.entries.map((e) => e.step),
        [100, 1000, 1100],
      );
      const plain = path.join(tmp, 'plain');
      fs.mkdirSync(plain);
      for (const n of ['delta', 'alpha', 'charlie'])
        fs.writeFileSync(path.join(plain, `${n}.rnn.json`), linearModel(0.9));
      const u = timeline(runCli(['track', plain, '--json']));
      assert.deepStrictEqual(
        u.entries.map((e) => [path.basename(e.file), e.step, e.step_source]),
        [
          ['alpha.rnn.json', 0, 'order'],
          ['charlie.rnn.json', 1, 'order'],
          ['delta.rnn.json', 2, 'order'],
        ],
      );
    });
  });

  describe('checkpoints of one base model (--model)', () => {
    let dir: string;
    const H = 3;
    /** W_hh = scale·I plus a small coupling. */
    const weights = (scale: number): Uint8Array =>
      writeSafetensors([
        { name: 'weight_ih_l0', dtype: 'F64', shape: [H, 1], data: [0.5, -0.25, 0.1] },
        {
          name: 'weight_hh_l0',
          dtype: 'F64',
          shape: [H, H],
          data: [scale, 0.01, 0, 0, scale, 0.01, 0.01, 0, scale],
        },
        { name: 'bias_hh_l0', dtype: 'F64', shape: [H], data: [0.01, 0.02, 0.03] },
      ]).slice();
    const series: [string, number][] = [
      ['step_10.safetensors', 0.6],
      ['step_20.safetensors', 0.7],
      ['step_30.safetensors', 0.9],
      ['step_40.safetensors', 1.1],
      ['step_50.safetensors', 1.3],
    ];
    before(() => {
      dir = path.join(tmp, 'base');
      fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
      for (const [name, scale] of series) fs.writeFileSync(path.join(dir, 'run', name), weights(scale));
      const base = (head: number): string =>
        JSON.stringify(
          {
            cell: 'rnn',
            weights: 'run/step_10.safetensors',
            readout: { weight: [[head, -head, head]], bias: [0] },
            data: { inputs: [[[1], [0.5], [-1], [0.2], [0.3], [-0.4]]], targets: [[0, 1, 0, 1, 1, 0]] },
            loss: 'mse',
          },
          null,
          2,
        );
      fs.writeFileSync(path.join(dir, 'base.rnn.json'), base(1));
    });

    it('each entry equals analyze of the base model with that checkpoint as its weights', () => {
      const t = timeline(runCli(['track', 'run', '--model', 'base.rnn.json', '--json'], dir));
      assert.deepStrictEqual(
        t.entries.map((e) => e.file),
        series.map(([n]) => `run/${n}`),
      );
      const baseText = fs.readFileSync(path.join(dir, 'base.rnn.json'), 'utf8');
      for (const e of t.entries) {
        const derived = path.join(dir, 'derived.rnn.json');
        fs.writeFileSync(derived, baseText.replace('run/step_10.safetensors', e.file));
        const single = runCli(['analyze', 'derived.rnn.json', '--json'], dir);
        assert.strictEqual(single.status, 0, single.stderr);
        assertEntryMatches(e, JSON.parse(single.stdout) as Report);
      }
      fs.rmSync(path.join(dir, 'derived.rnn.json'));
    });

    it('a corrupt checkpoint in the middle is an entry with its error; the others analyze; exit 2', () => {
      const bad = path.join(dir, 'run', 'step_25.safetensors');
      const full = weights(0.6);
      fs.writeFileSync(bad, full.subarray(0, full.length - 7));
      try {
        const run = runCli(['track', 'run', '--model', 'base.rnn.json', '--json'], dir);
        const t = timeline(run, 2);
        assert.deepStrictEqual(
          t.entries.map((e) => [e.step, e.error === undefined]),
          [
            [10, true],
            [20, true],
            [25, false],
            [30, true],
            [40, true],
            [50, true],
          ],
        );
        assert.match(
          t.entries[2].error!,
          /^base\.rnn\.json:\d+:\d+: weights: run\/step_25\.safetensors is not a valid safetensors file/,
        );
        const text = runCli(['track', 'run', '--model', 'base.rnn.json'], dir);
        assert.strictEqual(text.status, 2);
        assert.match(text.stdout, /6 checkpoints, 1 could not be analyzed/);
        assert.match(text.stdout, /^\s*25\s+error\s/m);
      } finally {
        fs.rmSync(bad);
      }
    });

    it('the base model itself is not a checkpoint; an empty folder exits 2 naming it', () => {
      const empty = path.join(dir, 'empty');
      fs.mkdirSync(empty);
      const run = runCli(['track', 'empty', '--model', 'base.rnn.json'], dir);
      assert.strictEqual(run.status, 2);
      assert.match(run.stderr, /empty: no checkpoint files in this folder/);
      assert.match(run.stderr, /no checkpoints to analyze/);
      assert.strictEqual(run.stdout, '');
      const missing = runCli(['track', 'run', '--model', 'nope.rnn.json'], dir);
      assert.strictEqual(missing.status, 2);
      assert.match(missing.stderr, /^nope\.rnn\.json:1:1: cannot read the model file/);
      const usage = runCli(['track'], dir);
      assert.strictEqual(usage.status, 2);
      assert.match(usage.stderr, /track needs checkpoint files, folders or globs/);
    });
  });

  it('mixed architectures: the odd checkpoint is analyzed, flagged, and left out of the other findings', () => {
    const dir = path.join(tmp, 'mixed');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'm-1.rnn.json'), linearModel(0.9));
    fs.writeFileSync(path.join(dir, 'm-2.rnn.json'), linearModel(0.9));
    fs.writeFileSync(path.join(dir, 'm-3.rnn.json'), linearModel(1.1, 6));
    fs.writeFileSync(path.join(dir, 'm-4.rnn.json'), linearModel(0.9));
    const t = timeline(runCli(['track', dir, '--json']));
    assert.strictEqual(t.entries[2].model?.hidden_size, 6);
    assert.strictEqual(t.entries[2].layers?.[0].regime, 'exploding');
    assert.deepStrictEqual(
      t.findings.map((f) => [f.code, f.step]),
      [['mixed-architecture', 3]],
    );
  });

  it('the cache: a second run reads every entry from it, a corrupt entry is ignored and rewritten', () => {
    const dir = path.join(tmp, 'cached');
    const cache = path.join(tmp, 'cache-2');
    fs.mkdirSync(dir);
    for (const s of [1, 2, 3]) fs.writeFileSync(path.join(dir, `c-${s}.rnn.json`), linearModel(0.8 + 0.1 * s));
    const env = { ...process.env, RNN_GRADIENTS_CACHE_DIR: cache };
    const run = (): string => {
      const r = spawnSync(process.execPath, [CLI_JS, 'track', dir, '--json'], {
        env,
        encoding: 'utf8',
      });
      assert.strictEqual(r.status, 0, r.stderr);
      return r.stdout;
    };
    const first = run();
    const files = fs.readdirSync(cache).sort();
    assert.strictEqual(files.length, 3);
    const stamps = files.map((f) => fs.statSync(path.join(cache, f)).mtimeMs);
    assert.strictEqual(run(), first);
    assert.deepStrictEqual(
      files.map((f) => fs.statSync(path.join(cache, f)).mtimeMs),
      stamps,
      'a cached entry is not written again',
    );
    fs.writeFileSync(path.join(cache, files[1]), '{"key": "truncated');
    assert.strictEqual(run(), first);
    const rewritten = JSON.parse(fs.readFileSync(path.join(cache, files[1]), 'utf8')) as { report: Report };
    assert.strictEqual(rewritten.report.report_version, 1);
    // A changed checkpoint is a new key: analyzed again, the old entries stay.
    fs.writeFileSync(path.join(dir, 'c-3.rnn.json'), linearModel(1.2));
    const after = JSON.parse(run()) as TimelineReport;
    assert.strictEqual(after.entries[2].layers![0].regime, 'exploding');
    assert.strictEqual(fs.readdirSync(cache).length, 4);
  });

  it('--watch picks up a file written in chunks exactly once, after it is complete; Ctrl+C exits 130', async () => {
    const dir = path.join(tmp, 'watched');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'w-1.rnn.json'), linearModel(0.9));
    const child = spawn(process.execPath, [CLI_JS, 'track', dir, '--watch', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const waitFor = async (pred: () => boolean, ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred() && Date.now() < end) await sleep(50);
      assert.ok(pred(), `timed out; stdout:\n${out}\nstderr:\n${err}`);
    };
    try {
      await waitFor(() => out.includes('w-1.rnn.json'), 30_000);
      // The second file arrives in three chunks, 500 ms apart: a read in between would not parse.
      const text = linearModel(1.1);
      const target = path.join(dir, 'w-2.rnn.json');
      const third = Math.ceil(text.length / 3);
      fs.writeFileSync(target, text.slice(0, third));
      await sleep(500);
      fs.appendFileSync(target, text.slice(third, 2 * third));
      await sleep(500);
      fs.appendFileSync(target, text.slice(2 * third));
      await waitFor(() => out.includes('w-2.rnn.json'), 30_000);
      await sleep(2000); // no second pickup
      child.kill('SIGINT');
      assert.strictEqual(await exited, 130);
    } finally {
      child.kill('SIGKILL');
    }
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TimelineEntry & { findings: { code: string }[] });
    assert.deepStrictEqual(
      lines.map((l) => [path.basename(l.file), l.step, l.error]),
      [
        ['w-1.rnn.json', 1, undefined],
        ['w-2.rnn.json', 2, undefined],
      ],
    );
    assert.deepStrictEqual(
      lines[1].findings.map((f) => f.code),
      ['regime-change'],
    );
    assert.match(err, /stopped watching/);
  });
});
