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
    const t = (JSON.parse(lines[0]) as { lag_recursion: { seconds: number; threads: number; busySeconds: number[] } })
      .lag_recursion;
    assert.ok(t.seconds > 0 && t.seconds < 120, `seconds ${t.seconds}`);
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    assert.strictEqual(t.threads, cores > 1 ? 2 : 1, 'the table was split on a machine with several cores');
    assert.strictEqual(t.busySeconds.length, t.threads);
    // Each thread's own walks lie within the wall time from the first column to the last.
    for (const b of t.busySeconds) assert.ok(b > 0 && b <= t.seconds + 1e-6, `busy ${b} of ${t.seconds}`);
    assert.doesNotMatch(stdout, /lag_recursion|busySeconds|lagTiming/);
  });

  it('prints nothing without the variable, nor for a sampled table', () => {
    assert.doesNotMatch(run({}).stderr, /lag_recursion/);
    const sampled = run({ RNN_GRADIENTS_LAG_TIMING: '1' }, ['--lag-budget', '0.01']);
    assert.ok((JSON.parse(sampled.stdout) as { lag_sampling: unknown }).lag_sampling !== null, 'the table was sampled');
    assert.doesNotMatch(sampled.stderr, /lag_recursion/);
  });
});
