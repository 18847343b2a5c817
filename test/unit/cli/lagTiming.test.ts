// The lag recursion's timing for `npm run bench` (RNN_GRADIENTS_LAG_TIMING=1): one JSON line on stderr of the
// built CLI, only when asked, and never in the report.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CLI_JS, ensureBuilt } from '../helpers/cli';
import { generatedModelText as modelText } from '../helpers/models';

describe('CLI lag recursion timing (internal, for the bench)', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  before(function () {
    this.timeout(300_000);
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lag-timing-'));
    file = path.join(dir, 'timing.rnn.json');
    // Large enough (about 4e9 flops) for the worker to split the columns across its threads.
    fs.writeFileSync(file, modelText('rnn', 128, 1, 500));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(env: Record<string, string>, extra: string[] = ['--exact']): { stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI_JS, 'analyze', file, '--json', ...extra], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 1 << 28,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    return { stdout: r.stdout, stderr: r.stderr };
  }

  it('prints {"lag_recursion": …} on stderr with RNN_GRADIENTS_LAG_TIMING=1, and nothing into the report', () => {
    const { stdout, stderr } = run({ RNN_GRADIENTS_LAG_TIMING: '1' });
    const lines = stderr.split('\n').filter((l) => l.startsWith('{"lag_recursion"'));
    assert.strictEqual(lines.length, 1, stderr);
    const t = (
      JSON.parse(lines[0]) as {
        lag_recursion: { seconds: number; threads: number; busySeconds: number[]; cpuSeconds: (number | null)[] };
      }
    ).lag_recursion;
    assert.ok(t.seconds > 0 && t.seconds < 120, `seconds ${t.seconds}`);
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    assert.strictEqual(t.threads, cores > 1 ? 2 : 1, 'the table was split on a machine with several cores');
    assert.strictEqual(t.busySeconds.length, t.threads);
    // Each thread's own walks lie within the wall time from the first column to the last.
    for (const b of t.busySeconds) assert.ok(b > 0 && b <= t.seconds + 1e-6, `busy ${b} of ${t.seconds}`);
    // Each thread's CPU time inside its walks (Linux: the scheduler's count of that thread alone): positive, and
    // no more than the wall time inside them (a thread cannot run longer than the walks last).
    assert.strictEqual(t.cpuSeconds.length, t.threads);
    // Up to a tick (10 ms) per walk off either way (threadCpuMs); over a run's walks they mostly cancel.
    t.cpuSeconds.forEach((c, i) => {
      assert.ok(
        c !== null && c > 0 && c <= 1.05 * t.busySeconds[i] + 0.02,
        `thread ${i}: cpu ${c}, busy ${t.busySeconds[i]}`,
      );
    });
    assert.doesNotMatch(stdout, /lag_recursion|busySeconds|cpuSeconds|lagTiming/);
  });

  it('prints nothing without the variable, nor for a sampled table', () => {
    assert.doesNotMatch(run({}).stderr, /lag_recursion/);
    const sampled = run({ RNN_GRADIENTS_LAG_TIMING: '1' }, ['--lag-budget', '0.01']);
    assert.ok((JSON.parse(sampled.stdout) as { lag_sampling: unknown }).lag_sampling !== null, 'the table was sampled');
    assert.doesNotMatch(sampled.stderr, /lag_recursion/);
  });
});

describe('CLI lag table split across threads: the same report to the bit', function () {
  this.timeout(180_000);
  it('several sequences (batched forward passes): 1 thread (taskset) and 2 threads, twice', function () {
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    if (process.platform !== 'linux' || cores < 2 || spawnSync('taskset', ['-c', '0', 'true']).status !== 0)
      this.skip();
    ensureBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lag-bits-'));
    try {
      const file = path.join(dir, 'bits.rnn.json');
      // Three sequences of one length: the caller's forward passes run batched on the kernel, the lag threads'
      // one by one; the chunks must walk the same traces whichever thread runs them.
      fs.writeFileSync(file, modelText('lstm', 64, 1, 400, 3));
      const run = (prefix: string[]): string => {
        const args = [...prefix, process.execPath, CLI_JS, 'analyze', file, '--json', '--exact'];
        const r = spawnSync(args[0], args.slice(1), {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, RNN_GRADIENTS_LAG_TIMING: '1' },
          maxBuffer: 1 << 28,
        });
        assert.strictEqual(r.status, 0, r.stderr);
        const threads = (JSON.parse(r.stderr.trim().split('\n').pop()!) as { lag_recursion: { threads: number } })
          .lag_recursion.threads;
        assert.strictEqual(threads, prefix.length ? 1 : 2);
        return JSON.stringify({ ...(JSON.parse(r.stdout) as object), elapsed_ms: 0 });
      };
      const one = run(['taskset', '-c', '0']);
      assert.ok(run([]) === one, '2 threads: the report differs from 1 thread');
      assert.ok(run([]) === one, '2 threads, again: the report differs from 1 thread');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
