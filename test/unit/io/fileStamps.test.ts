// Unit tests of io/fileStamps.ts and the stamps loadModelFile records: a result is reused only while the weight
// files it read are unchanged.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stampOf, stampsHold, type FileStamp } from '../../../src/io/fileStamps';
import { loadModelFile } from '../../../src/io/loadModel';
import { writeSafetensors } from '../../../src/engine/model/safetensors';

describe('file stamps', () => {
  let tmp: string;
  const weights = (scale: number): Uint8Array =>
    writeSafetensors([
      { name: 'weight_ih_l0', dtype: 'F32', shape: [2, 1], data: [1, 0] },
      { name: 'weight_hh_l0', dtype: 'F32', shape: [2, 2], data: [scale, 0, 0, scale] },
    ]);
  const model = (p: string): string => JSON.stringify({ weights: p, data: { inputs: [[[1], [2]]] } });

  beforeEach(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-stamps-')));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('loadModelFile records the weights file it read; the stamps hold until the file changes', () => {
    const file = path.join(tmp, 'w.safetensors');
    fs.writeFileSync(file, weights(0.5));
    const stamps: FileStamp[] = [];
    const r = loadModelFile(model('w.safetensors'), path.join(tmp, 'm.rnn.json'), tmp, stamps);
    assert.deepStrictEqual(r.problems, []);
    assert.strictEqual(stamps.length, 1);
    assert.strictEqual(stamps[0].path, file);
    assert.ok(stampsHold(stamps));
    fs.writeFileSync(file, weights(0.75));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.ok(!stampsHold(stamps), 'a rewritten weights file must not reuse the old result');
  });

  it('a missing weights file is recorded too: creating it invalidates the result', () => {
    const stamps: FileStamp[] = [];
    const r = loadModelFile(model('later.safetensors'), path.join(tmp, 'm.rnn.json'), tmp, stamps);
    assert.match(r.problems[0].message, /does not exist/);
    assert.deepStrictEqual(stamps, [{ path: path.join(tmp, 'later.safetensors'), size: -1, mtimeMs: -1 }]);
    assert.ok(stampsHold(stamps));
    fs.writeFileSync(path.join(tmp, 'later.safetensors'), weights(0.5));
    assert.ok(!stampsHold(stamps));
  });

  it('a model without weight files records nothing, and no stamps always hold', () => {
    const stamps: FileStamp[] = [];
    loadModelFile(
      JSON.stringify({ weights: { weight_hh_l0: [[0.5]], weight_ih_l0: [[1]] }, data: { inputs: [[[1]]] } }),
      path.join(tmp, 'm.rnn.json'),
      tmp,
      stamps,
    );
    assert.deepStrictEqual(stamps, []);
    assert.ok(stampsHold([]));
    assert.deepStrictEqual(stampOf(path.join(tmp, 'nothing')), {
      path: path.join(tmp, 'nothing'),
      size: -1,
      mtimeMs: -1,
    });
  });
});
