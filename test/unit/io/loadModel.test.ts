// Unit tests of io/loadModel.ts: model files and their weight files, confined to the workspace folder.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadModelFile, makeWeightsLoader } from '../../../src/io/loadModel';
import { writeSafetensors } from '../../../src/engine/model/safetensors';

describe('loadModelFile', () => {
  let tmp: string;
  let workspace: string;
  const weights = writeSafetensors([
    { name: 'weight_ih_l0', dtype: 'F32', shape: [2, 2], data: [1, 0, 0, 1] },
    { name: 'weight_hh_l0', dtype: 'F32', shape: [2, 2], data: [0.5, 0, 0, 0.5] },
  ]);
  const model = (p: string) =>
    JSON.stringify({
      weights: p,
      data: {
        inputs: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      },
    });

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-io-'));
    workspace = path.join(tmp, 'ws');
    fs.mkdirSync(path.join(workspace, 'models'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'models', 'w.safetensors'), weights);
    fs.writeFileSync(path.join(tmp, 'outside.safetensors'), weights);
    fs.symlinkSync(path.join(tmp, 'outside.safetensors'), path.join(workspace, 'models', 'link.safetensors'));
    fs.mkdirSync(path.join(workspace, 'models', 'dir.safetensors'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const load = (p: string) => loadModelFile(model(p), path.join(workspace, 'models', 'm.rnn.json'), workspace);

  it('loads a weights file relative to the model file', () => {
    const r = load('w.safetensors');
    assert.deepStrictEqual(r.problems, []);
    assert.deepStrictEqual(Array.from(r.model!.layers[0].weightHh.data), [0.5, 0, 0, 0.5]);
  });

  it('accepts ./ and nested relative paths that stay inside', () => {
    assert.deepStrictEqual(load('./../models/w.safetensors').problems, []);
  });

  it('refuses ../ paths outside the workspace folder', () => {
    const text = model('../../outside.safetensors');
    const r = loadModelFile(text, path.join(workspace, 'models', 'm.rnn.json'), workspace);
    assert.strictEqual(r.problems.length, 1);
    const p = r.problems[0];
    assert.deepStrictEqual(p.path, ['weights']);
    assert.ok(
      p.message.startsWith('weights: path "../../outside.safetensors" is outside the workspace folder'),
      p.message,
    );
    assert.strictEqual(text.slice(p.range.offset, p.range.offset + p.range.length), '"../../outside.safetensors"');
  });

  it('refuses symlinks whose real path is outside the workspace folder', () => {
    const r = load('link.safetensors');
    assert.strictEqual(r.problems.length, 1);
    assert.ok(r.problems[0].message.includes('is outside the workspace folder'), r.problems[0].message);
  });

  it('refuses absolute paths outside the workspace folder', () => {
    const r = load(path.join(tmp, 'outside.safetensors'));
    assert.ok(r.problems[0].message.includes('is outside the workspace folder'));
  });

  it('reports a missing file and a directory', () => {
    assert.ok(load('nope.safetensors').problems[0].message.includes('"nope.safetensors" does not exist'));
    assert.ok(load('dir.safetensors').problems[0].message.includes('is not a regular file'));
  });

  it('refuses files above the size cap before reading them', () => {
    const loader = makeWeightsLoader(path.join(workspace, 'models', 'm.rnn.json'), workspace, 16);
    const r = loader('w.safetensors');
    assert.ok('error' in r && r.error.includes('larger than the limit'));
  });
});
