// The CLI's argument parsers (src/cli/args.ts): one option reader serves analyze, track and init, so
// `--flag=value` and `--flag value` mean the same everywhere, and a missing value is named in the message.
import * as assert from 'assert';
import { parseArgs } from '../../../src/cli/args';

function error(argv: string[]): string {
  const r = parseArgs(argv);
  assert.ok('error' in r, `expected a usage error for ${argv.join(' ')}, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('CLI arguments', () => {
  it('analyze: "--flag=value" and "--flag value" give the same arguments', () => {
    const a = parseArgs(['analyze', 'm.rnn.json', '--max-lag', '7', '--precision', 'f32', '--lag-seed', '9']);
    const b = parseArgs(['analyze', '--max-lag=7', '--precision=f32', '--lag-seed=9', 'm.rnn.json']);
    assert.deepStrictEqual(a, b);
    assert.ok(!('error' in a) && a.command === 'analyze');
    assert.strictEqual(a.maxLag, 7);
    assert.strictEqual(a.precision, 'f32');
    assert.strictEqual(a.lagSeed, 9);
  });

  it('track: the same reader, with --jobs and --model', () => {
    const a = parseArgs(['track', 'ckpts', '--jobs=3', '--model=base.rnn.json', '--max-lag=4', '--no-cache']);
    assert.ok(!('error' in a) && a.command === 'track');
    assert.deepStrictEqual(
      { inputs: a.inputs, jobs: a.jobs, model: a.model, maxLag: a.maxLag, cache: a.cache },
      { inputs: ['ckpts'], jobs: 3, model: 'base.rnn.json', maxLag: 4, cache: false },
    );
  });

  it('init: -o FILE and --output=FILE', () => {
    const a = parseArgs(['init', 'x.pt', '-o', 'y.rnn.json', '--module', 'enc.rnn', '--force']);
    const b = parseArgs(['init', 'x.pt', '--output=y.rnn.json', '--module=enc.rnn', '--force']);
    assert.deepStrictEqual(a, b);
    assert.ok(!('error' in a) && a.command === 'init');
    assert.strictEqual(a.output, 'y.rnn.json');
  });

  it('a missing or wrong value is named, with what was given', () => {
    assert.strictEqual(
      error(['analyze', 'm', '--max-lag']),
      '--max-lag needs a non-negative whole number, got nothing',
    );
    assert.strictEqual(error(['track', 'c', '--max-lag=-1']), '--max-lag needs a non-negative whole number, got "-1"');
    assert.strictEqual(error(['track', 'c', '--precision', 'f16']), '--precision takes f64 or f32, got "f16"');
    assert.strictEqual(error(['analyze', 'm', '--precision=']), '--precision takes f64 or f32, got ""');
    assert.strictEqual(error(['track', 'c', '--jobs', '0']), '--jobs needs a whole number from 1 to 999, got "0"');
    assert.strictEqual(error(['init', 'x.pt', '-o']), '-o needs a file name');
    assert.strictEqual(
      error(['analyze', 'm', '--lag-budget', 'soon']),
      '--lag-budget needs a number of seconds (0 or more), got "soon"',
    );
  });

  it('unknown options and extra files are refused by every command', () => {
    assert.strictEqual(error(['analyze', 'm', '--fast']), 'unknown option "--fast"');
    assert.strictEqual(error(['track', 'c', '--fast=1']), 'unknown option "--fast=1"');
    assert.strictEqual(error(['init', 'a.pt', 'b.pt']), 'one checkpoint at a time (got "a.pt" and "b.pt")');
    assert.strictEqual(error(['analyze', 'a', 'b']), 'one model file at a time (got "a" and "b")');
    assert.strictEqual(
      error(['analyze', 'm', '--exact', '--lag-budget', '1']),
      '--exact and --lag-budget exclude each other',
    );
  });

  it('a value is consumed: "--model --json" takes "--json" as the model file', () => {
    const a = parseArgs(['track', 'c', '--model', '--json']);
    assert.ok(!('error' in a) && a.command === 'track');
    assert.strictEqual(a.model, '--json');
    assert.strictEqual(a.json, false);
  });
});
