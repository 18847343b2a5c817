// Unit tests (plain Node) of checkpointLogic.ts and moduleEdits: which files are checkpoints, the parameters of a
// checkpoint analyzed directly (they analyze through the real worker code path's parser), the module choice of a
// result, and the edit that writes `module` into a model file.
import * as assert from 'assert';
import * as path from 'path';
import { checkpointParams, isCheckpointPath, moduleChoice } from '../../../src/extension/checkpointLogic';
import { applyTextEdits, moduleEdits } from '../../../src/extension/editLogic';
import { loadModelFile } from '../../../src/io/loadModel';
import { REPO_ROOT } from '../helpers/cli';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'checkpoints');

describe('extension checkpoint logic', () => {
  it('knows the checkpoint extensions (any case) and nothing else', () => {
    for (const f of ['a.pt', 'a.pth', 'a.bin', 'a.ckpt', 'a.onnx', 'a.keras', 'a.h5', 'a.hdf5', 'a.npz', 'B.PT'])
      assert.ok(isCheckpointPath(`/w/${f}`), f);
    assert.ok(isCheckpointPath('/w/x.safetensors'));
    for (const f of ['m.rnn.json', 'x.npy', 'a.json', 'pt', 'a.pt.txt']) assert.ok(!isCheckpointPath(`/w/${f}`), f);
  });

  it('analyzes a checkpoint as {"weights": NAME}, inside its workspace folder, displayed relative to it', () => {
    const file = path.join(DIR, 'whole-module.pt');
    const params = checkpointParams(file, REPO_ROOT, { maxLag: 7, thresholds: {} });
    assert.deepStrictEqual(JSON.parse(params.text), { weights: 'whole-module.pt' });
    assert.strictEqual(params.rootDir, REPO_ROOT);
    assert.strictEqual(params.displayPath, 'test/fixtures/checkpoints/whole-module.pt');
    assert.strictEqual(params.maxLag, 7);
    const alone = checkpointParams(file, undefined, { maxLag: null, thresholds: {} }, 'aux');
    assert.strictEqual(alone.rootDir, DIR);
    assert.strictEqual(alone.displayPath, 'whole-module.pt');
    assert.deepStrictEqual(JSON.parse(alone.text), { weights: 'whole-module.pt', module: 'aux' });
  });

  it('finds the module choice of a result with several candidates, and none once a module is given', () => {
    const file = path.join(DIR, 'whole-module.pt');
    const ask = checkpointParams(file, DIR, { maxLag: null, thresholds: {} });
    const parsed = loadModelFile(ask.text, ask.filePath, ask.rootDir);
    const choice = moduleChoice({ ok: false, problems: parsed.problems });
    assert.ok(choice, JSON.stringify(parsed.problems));
    assert.deepStrictEqual(choice.candidates, ['rnn', 'aux']);
    assert.deepStrictEqual(choice.path, ['weights']);
    const chosen = checkpointParams(file, DIR, { maxLag: null, thresholds: {} }, 'aux');
    const again = loadModelFile(chosen.text, chosen.filePath, chosen.rootDir);
    assert.ok(again.model, JSON.stringify(again.problems));
    assert.strictEqual(again.model.source.module, 'aux');
    assert.strictEqual(moduleChoice({ ok: false, problems: [] }), undefined);
  });

  it('writes module into a model file: added when absent, replaced when present, comments kept', () => {
    const text = '{\n  // my model\n  "weights": "whole-module.pt"\n}\n';
    const added = applyTextEdits(text, moduleEdits(text, 'aux'));
    assert.deepStrictEqual(JSON.parse(added.replace(/\/\/.*\n/, '\n')), { weights: 'whole-module.pt', module: 'aux' });
    assert.match(added, /\/\/ my model/);
    const replaced = applyTextEdits(added, moduleEdits(added, 'rnn'));
    assert.match(replaced, /"module": "rnn"/);
    assert.doesNotMatch(replaced, /"aux"/);
  });
});
