// The built CLI with checkpoints: `analyze CHECKPOINT` directly, a model file whose `weights` names a
// checkpoint, several candidate modules (exit 2 listing them, on the `weights` value or at 1:1 of a bare
// checkpoint), `init CHECKPOINT` writing a commented model file that analyzes as written.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseJsonc } from 'jsonc-parser';
import { REPO_ROOT, ensureBuilt, runCli } from '../helpers/cli';

type Obj = Record<string, unknown>;

const CHECKPOINTS = path.join(REPO_ROOT, 'test', 'fixtures', 'checkpoints');
const MODELS = path.join(REPO_ROOT, 'test', 'fixtures', 'checkpoint-models');

describe('CLI with checkpoints', function () {
  this.timeout(60_000);
  let ws: string;
  before(function () {
    this.timeout(180_000);
    ensureBuilt();
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-cli-ckpt-'));
    for (const f of ['module-in-dict.pt', 'whole-module.pt', 'export-two-lstms.onnx', 'lstm-f32.pt', 'legacy.pt'])
      fs.copyFileSync(path.join(CHECKPOINTS, f), path.join(ws, f));
    for (const f of ['pt-statedict-lstm2.pt', 'pt-statedict-lstm2.x.npy', 'pt-statedict-lstm2.y.npy'])
      fs.copyFileSync(path.join(MODELS, f), path.join(ws, f));
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('analyze MODEL.pt: the summary names the source and says the data are synthetic', () => {
    const r = runCli(['analyze', 'lstm-f32.pt'], ws);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /^lstm-f32\.pt/);
    assert.match(r.stdout, /^Source {2}weights from lstm-f32\.pt \(pytorch\)$/m);
    assert.match(r.stdout, /^Data {4}8 sequences × 64 steps \(synthetic: no data given\)$/m);
    assert.match(r.stdout, /synthetic-data/);
  });

  it('several candidate modules in a bare checkpoint: exit 2 at 1:1, listing them', () => {
    const r = runCli(['analyze', 'whole-module.pt'], ws);
    assert.strictEqual(r.status, 2, r.stdout);
    const line = r.stderr.trim().split('\n')[0];
    assert.match(line, /^whole-module\.pt:1:1: /);
    assert.match(line, /several recurrent modules; choose one with "module": "rnn", "aux"/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  it('several candidate modules in a model file: exit 2 on the weights value; "module" selects one', () => {
    const text = '{\n  "weights": "whole-module.pt"\n}\n';
    fs.writeFileSync(path.join(ws, 'two.rnn.json'), text);
    const r = runCli(['analyze', 'two.rnn.json'], ws);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /^two\.rnn\.json:2:14: weights: .*"rnn", "aux"/);
    fs.writeFileSync(path.join(ws, 'one.rnn.json'), '{ "weights": "whole-module.pt", "module": "aux" }');
    const ok = runCli(['analyze', 'one.rnn.json', '--json'], ws);
    assert.strictEqual(ok.status, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as Obj;
    assert.strictEqual((report.model as Obj).cell, 'rnn');
    assert.strictEqual((report.model as Obj).nonlinearity, 'relu'); // declared by the pickled nn.RNN
  });

  it('an unknown module: exit 2 on the "module" value, listing the candidates', () => {
    fs.writeFileSync(path.join(ws, 'bad.rnn.json'), '{ "weights": "whole-module.pt",\n  "module": "nope" }');
    const r = runCli(['analyze', 'bad.rnn.json'], ws);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /^bad\.rnn\.json:2:13: module: .*no recurrent module "nope" \(candidates: "rnn", "aux"\)/);
  });

  it('a legacy checkpoint is refused with the re-save hint', () => {
    const r = runCli(['analyze', 'legacy.pt'], ws);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /^legacy\.pt:1:1: .*torch\.save\(model\.state_dict\(\), PATH\)/);
  });

  it('a model file naming a checkpoint, its readout prefix and data files', () => {
    const model = {
      weights: 'pt-statedict-lstm2.pt',
      module: 'encoder',
      readout: 'head',
      data: { inputs: 'pt-statedict-lstm2.x.npy', targets: 'pt-statedict-lstm2.y.npy' },
      loss: 'cross_entropy',
    };
    fs.writeFileSync(path.join(ws, 'm.rnn.json'), JSON.stringify(model));
    const r = runCli(['analyze', 'm.rnn.json', '--json'], ws);
    assert.strictEqual(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Obj;
    assert.strictEqual((report.model as Obj).output_size, 3);
    assert.ok('readout.weight' in (report.gradients as Obj));
  });

  describe('init', () => {
    it('writes NAME.rnn.json next to the checkpoint: module, candidates, sizes, data to fill in; it analyzes', () => {
      const r = runCli(['init', 'module-in-dict.pt'], ws);
      assert.strictEqual(r.status, 0, r.stderr);
      const file = path.join(ws, 'module-in-dict.rnn.json');
      assert.match(r.stdout, /wrote .*module-in-dict\.rnn\.json/);
      const text = fs.readFileSync(file, 'utf8');
      const parsed = parseJsonc(text) as Obj;
      assert.strictEqual(parsed.weights, 'module-in-dict.pt');
      assert.strictEqual(typeof parsed.module, 'string');
      assert.deepStrictEqual(parsed.data, { generate: { sequences: 8, length: 64 } });
      assert.match(text, /\/\/ .*"inputs": "batch\.npz#inputs"/);
      assert.match(text, /hidden_size \d+/);
      const a = runCli(['analyze', 'module-in-dict.rnn.json', '--json'], ws);
      assert.strictEqual(a.status, 0, a.stderr);
    });

    it('lists every candidate in a comment and selects the first analyzable one; --module picks another', () => {
      const r = runCli(['init', 'whole-module.pt', '-o', 'w.rnn.json'], ws);
      assert.strictEqual(r.status, 0, r.stderr);
      const text = fs.readFileSync(path.join(ws, 'w.rnn.json'), 'utf8');
      assert.match(text, /2 candidate modules in this file/);
      assert.match(text, /\/\/ {3}"rnn": lstm, input_size 3, hidden_size 4, proj_size 2, 2 layers, bidirectional/);
      assert.match(text, /\/\/ {3}"aux": rnn, nonlinearity relu, input_size 4, hidden_size 2, 1 layer/);
      assert.strictEqual((parseJsonc(text) as Obj).module, 'rnn');
      const d = runCli(['init', 'whole-module.pt', '-o', 'd.rnn.json', '--module', 'aux'], ws);
      assert.strictEqual(d.status, 0, d.stderr);
      assert.strictEqual((parseJsonc(fs.readFileSync(path.join(ws, 'd.rnn.json'), 'utf8')) as Obj).module, 'aux');
      assert.strictEqual(runCli(['analyze', 'd.rnn.json'], ws).status, 0);
    });

    it('ONNX: the module is the first recurrent node; the file analyzes', () => {
      const r = runCli(['init', 'export-two-lstms.onnx', '-o', 'o.rnn.json'], ws);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.strictEqual(runCli(['analyze', 'o.rnn.json'], ws).status, 0);
    });

    it('does not overwrite a file without --force; refuses what is not a checkpoint', () => {
      const again = runCli(['init', 'module-in-dict.pt'], ws);
      assert.strictEqual(again.status, 2);
      assert.match(again.stderr, /exists; use --force/);
      assert.strictEqual(runCli(['init', 'module-in-dict.pt', '--force'], ws).status, 0);
      const notCkpt = runCli(['init', 'm.rnn.json'], ws);
      assert.strictEqual(notCkpt.status, 2);
      assert.match(notCkpt.stderr, /not a checkpoint/);
      const legacy = runCli(['init', 'legacy.pt'], ws);
      assert.strictEqual(legacy.status, 2);
      assert.match(legacy.stderr, /^legacy\.pt:1:1: /);
    });
  });
});
