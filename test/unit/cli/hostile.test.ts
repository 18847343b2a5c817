// Hostile and broken checkpoints end to end through the built CLI (issue 9, "Bad input gets a clear error, and
// nothing runs"): each case exits in time with a peak RSS under 1 GB (measured in the CLI's own process by a
// preloaded exit hook), never runs anything (the pickles' marker file never appears), never prints a stack trace,
// and either goes on where the tensors are readable (exit 0) or exits 2 with FILE:LINE:COL naming the file and
// the problem.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI_JS, REPO_ROOT, ensureBuilt } from '../helpers/cli';

const SOURCE = path.join(REPO_ROOT, 'test', 'fixtures', 'checkpoints');
/** The file the hostile pickles would create if anything they reference ever ran. */
const MARKER = '/tmp/rnn-gradients-pwned';
// The issue asks for 10 s on an idle machine (every case takes well under a second there); the bound is generous
// because the unit tests share two cores with other heavy runs, where a 10 s limit flaked. A hang still fails.
const LIMIT_MS = 30_000;
const LIMIT_RSS_KB = 1024 * 1024;

interface Case {
  /** What `analyze` gets: a checkpoint, or a model file written with `model` as its text. */
  file: string;
  model?: Record<string, unknown>;
  /** The folder the CLI runs in (relative to the workspace copy): the workspace the files must stay inside. */
  cwd?: string;
  status: 0 | 2;
  message: RegExp;
}

const CASES: Case[] = [
  // The tensors are readable: the inert os.system reference stays a record and the analysis goes on.
  { file: 'hostile-os-system.pt', status: 0, message: /synthetic-data/ },
  { file: 'hostile-eval.pt', status: 2, message: /builtins\.eval/ },
  { file: 'hostile-subprocess.pt', status: 2, message: /subprocess\.check_output/ },
  { file: 'hostile-offset.pt', status: 2, message: /storage holds 48 bytes, tensor "weight_hh_l0" needs 52/ },
  { file: 'hostile-size.pt', status: 2, message: /storage holds 48 bytes/ },
  { file: 'hostile-memo.pt', status: 2, message: /memo reference 42/ },
  { file: 'hostile-deep-chain.pt', status: 2, message: /levels deep/ },
  { file: 'hostile-deep-lists.pt', status: 2, message: /levels deep/ },
  { file: 'hostile-deep-tuples.pt', status: 2, message: /levels deep/ },
  { file: 'hostile-expand.pt', status: 2, message: /over the limit/ },
  { file: 'truncated.pt', status: 2, message: /end-of-central-directory/ },
  { file: 'corrupted.pt', status: 2, message: /CRC-32/ },
  { file: 'legacy.pt', status: 2, message: /torch\.save\(model\.state_dict\(\), PATH\)/ },
  { file: 'torchscript.pt', status: 2, message: /TorchScript/i },
  { file: 'zip-bomb-declared.npz', status: 2, message: /over the limit/ },
  { file: 'zip-bomb-lying.npz', status: 2, message: /more than/ },
  { file: 'zip-bomb-ratio.npz', status: 2, message: /more than deflate can produce/ },
  { file: 'truncated.npz', status: 2, message: /truncated\.npz/ },
  { file: 'huge-dims.onnx', status: 2, message: /over the limit/ },
  { file: 'truncated.onnx', status: 2, message: /truncated\.onnx/ },
  { file: 'lstm-peepholes.onnx', status: 2, message: /peephole/i },
  { file: 'lstm-clip.onnx', status: 2, message: /clip/ },
  { file: 'lstm-input-forget.onnx', status: 2, message: /input_forget/ },
  { file: 'lstm-activations.onnx', status: 2, message: /activation/i },
  { file: 'keras3-hard-sigmoid.keras', status: 2, message: /hard_sigmoid/ },
  { file: 'legacy-hard-sigmoid.h5', status: 2, message: /hard_sigmoid/ },
  { file: 'keras3-truncated.keras', status: 2, message: /keras3-truncated\.keras/ },
  // External data outside the workspace (the CLI runs in external/, so ../outside.bin is outside it).
  { file: 'outside.onnx', cwd: 'external', status: 2, message: /outside/ },
  { file: 'absolute.onnx', cwd: 'external', status: 2, message: /is not a relative path/ },
  {
    file: 'huge-npy.rnn.json',
    model: { weights: 'lstm-f32.pt', data: { inputs: 'huge-header.npy' } },
    status: 2,
    message: /^huge-npy\.rnn\.json:1:\d+: data\.inputs: .*\[1000000, 1000000\]/m,
  },
  {
    file: 'missing-member.rnn.json',
    model: { weights: 'lstm-f32.pt', data: { inputs: 'batch-compressed.npz#missing' } },
    status: 2,
    message: /^missing-member\.rnn\.json:1:\d+: data\.inputs: .*"inputs"/m,
  },
  {
    file: 'bad-weights.rnn.json',
    model: { weights: 'hostile-memo.pt' },
    status: 2,
    message: /^bad-weights\.rnn\.json:1:12: weights: .*memo reference 42/m,
  },
];

/** Prints the process's peak RSS (KB) to stderr when it exits. */
const PRELOAD = `process.on('exit', () => { require('fs').writeSync(2, '\\nMAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n'); });\n`;

describe('hostile and broken checkpoints through the CLI (in time, 1 GB, nothing runs)', function () {
  this.timeout(90_000);
  let ws: string;
  let preload: string;

  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-hostile-'));
    fs.cpSync(SOURCE, ws, { recursive: true });
    preload = path.join(ws, 'maxrss-preload.js');
    fs.writeFileSync(preload, PRELOAD);
    fs.rmSync(MARKER, { force: true });
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  for (const c of CASES) {
    it(`${c.file}: exit ${c.status}${c.status === 2 ? ', naming the file and the problem' : ', the analysis goes on'}`, () => {
      const cwd = path.join(ws, c.cwd ?? '.');
      if (c.model) fs.writeFileSync(path.join(cwd, c.file), JSON.stringify(c.model));
      const started = Date.now();
      const r = spawnSync(process.execPath, ['--require', preload, CLI_JS, 'analyze', c.file], {
        cwd,
        encoding: 'utf8',
        timeout: LIMIT_MS,
        killSignal: 'SIGKILL',
      });
      const elapsed = Date.now() - started;
      assert.notStrictEqual(r.status, null, `did not finish within ${LIMIT_MS} ms (${r.signal ?? ''})`);
      const rss = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1]);
      assert.ok(rss > 0 && rss < LIMIT_RSS_KB, `peak RSS ${rss} KB`);
      assert.ok(elapsed < LIMIT_MS, `${elapsed} ms`);
      const stderr = r.stderr.replace(/\nMAXRSS_KB \d+\n/, '');
      assert.strictEqual(r.status, c.status, `${stderr}\n${r.stdout.slice(0, 500)}`);
      assert.doesNotMatch(stderr, /^\s+at /m, 'a stack trace');
      assert.ok(!fs.existsSync(MARKER), 'something ran: the marker file exists');
      if (c.status === 2) {
        const first = stderr.trim().split('\n')[0];
        assert.ok(first.startsWith(`${c.file}:`), `not FILE:LINE:COL: ${first}`);
        assert.match(stderr, c.message);
        assert.strictEqual(stderr.trim().split('\n').length, 1, `one problem expected:\n${stderr}`);
      } else {
        assert.match(r.stdout, c.message);
      }
    });
  }
});
