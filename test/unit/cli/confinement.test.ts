// The CLI's confinement root (src/cli/confinement.ts): the current directory when the model file is inside it,
// else the model file's folder; --workspace DIR sets it. Checked on the function and through the built CLI.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { confinementRoot } from '../../../src/cli/confinement';
import { TINY_HIDDEN, tinyWeightsFile, tinyWeightsModel } from '../helpers/models';
import { ensureBuilt, runCli } from '../helpers/cli';

describe('CLI confinement root', function () {
  this.timeout(60_000);
  let tmp: string;
  let project: string;
  const H = TINY_HIDDEN;
  const model = tinyWeightsModel;

  before(function () {
    this.timeout(180_000);
    ensureBuilt();
    // tmp/outside.safetensors, tmp/project/{model.rnn.json, weights.safetensors, escape.rnn.json}, tmp/project/other/
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-confine-')));
    project = path.join(tmp, 'project');
    fs.mkdirSync(path.join(project, 'other'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'outside.safetensors'), tinyWeightsFile());
    fs.writeFileSync(path.join(project, 'weights.safetensors'), tinyWeightsFile());
    fs.writeFileSync(path.join(project, 'model.rnn.json'), model('weights.safetensors'));
    fs.writeFileSync(path.join(project, 'escape.rnn.json'), model('../outside.safetensors'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('confinementRoot()', () => {
    it('is the current directory when the model file is inside it', () => {
      assert.strictEqual(confinementRoot('model.rnn.json', project, null), project);
      assert.strictEqual(confinementRoot('project/model.rnn.json', tmp, null), tmp);
    });
    it("is the model file's folder when the model file is outside the current directory", () => {
      assert.strictEqual(confinementRoot('../model.rnn.json', path.join(project, 'other'), null), project);
      assert.strictEqual(confinementRoot(path.join(project, 'model.rnn.json'), os.homedir(), null), project);
    });
    it('is --workspace DIR (relative to the current directory) when given', () => {
      assert.strictEqual(confinementRoot('model.rnn.json', project, '..'), tmp);
      assert.strictEqual(confinementRoot('model.rnn.json', project, tmp), tmp);
    });
  });

  describe('rnn-gradients analyze', () => {
    it('from a sibling folder, a model outside the current directory reads the weights beside it', () => {
      const run = runCli(['analyze', '../model.rnn.json', '--json'], path.join(project, 'other'));
      assert.strictEqual(run.status, 0, run.stderr);
      assert.strictEqual((JSON.parse(run.stdout) as { model: { hidden_size: number } }).model.hidden_size, H);
    });

    it("a weights path above the model file's folder is still refused when the model is outside the current directory", () => {
      const run = runCli(['analyze', '../escape.rnn.json'], path.join(project, 'other'));
      assert.strictEqual(run.status, 2, run.stdout);
      assert.match(
        run.stderr,
        /^\.\.\/escape\.rnn\.json:\d+:\d+: weights: path "\.\.\/outside\.safetensors" is outside/m,
      );
    });

    it('a weights path above the current directory is refused when the model is inside it', () => {
      const run = runCli(['analyze', 'escape.rnn.json'], project);
      assert.strictEqual(run.status, 2, run.stdout);
      assert.match(run.stderr, /weights: path .* is outside/);
    });

    it('--workspace DIR widens the root to DIR', () => {
      const run = runCli(['analyze', 'escape.rnn.json', '--workspace', '..', '--json'], project);
      assert.strictEqual(run.status, 0, run.stderr);
    });

    it('--workspace DIR narrows the root to DIR', () => {
      const run = runCli(['analyze', 'project/model.rnn.json', '--workspace=project/other'], tmp);
      assert.strictEqual(run.status, 2, run.stdout);
      assert.match(run.stderr, /weights: path "weights\.safetensors" is outside/);
    });

    it('--workspace naming no folder is a usage error (exit 2)', () => {
      const missing = runCli(['analyze', 'model.rnn.json', '--workspace', 'no-such-folder'], project);
      assert.strictEqual(missing.status, 2);
      assert.match(missing.stderr, /^rnn-gradients: --workspace no-such-folder is not a folder/);
      const empty = runCli(['analyze', 'model.rnn.json', '--workspace'], project);
      assert.strictEqual(empty.status, 2);
      assert.match(empty.stderr, /--workspace needs a folder/);
    });
  });
});
