// The public entry points: format detection, data arrays by reference, module selection.
import * as assert from 'assert';
import {
  CheckpointError,
  detectFormat,
  formatOfFileName,
  readArray,
  readCheckpoint,
  selectModule,
  splitArrayReference,
} from '../../../../../src/engine/model/checkpoint/index';
import { fixtureBytes } from './expected';

function throwsCheckpoint(fn: () => unknown, kind: string, contains: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CheckpointError && e.kind === kind && e.message.includes(contains));
}

describe('checkpoint/index: entry points', () => {
  it('detects formats by extension, checked against the bytes', () => {
    assert.strictEqual(formatOfFileName('dir/model.PTH'), 'pytorch');
    assert.strictEqual(formatOfFileName('w.safetensors'), undefined);
    assert.strictEqual(detectFormat(fixtureBytes('lstm-f32.pt'), 'pytorch_model.bin'), 'pytorch');
    assert.strictEqual(detectFormat(fixtureBytes('legacy-lstm.h5'), 'm.hdf5'), 'keras');
    assert.strictEqual(detectFormat(fixtureBytes('c-f64.npy'), 'x.dat'), 'npy');
    assert.strictEqual(
      detectFormat(fixtureBytes('c-f64.npy'), 'x.npz'),
      'npy',
      'the bytes win over a misleading extension',
    );
    throwsCheckpoint(() => detectFormat(Uint8Array.of(1, 2, 3), 'x.npz'), 'corrupt', 'x.npz: the extension says npz');
    throwsCheckpoint(() => detectFormat(Uint8Array.of(1, 2, 3), 'x.txt'), 'unsupported', 'not a checkpoint format');
  });

  it('reads data arrays by reference (file#name)', () => {
    assert.deepStrictEqual(splitArrayReference('data/batch.npz#inputs'), { file: 'data/batch.npz', name: 'inputs' });
    assert.deepStrictEqual(splitArrayReference('x.npy'), { file: 'x.npy' });
    assert.deepStrictEqual(
      readArray(fixtureBytes('batch-compressed.npz'), 'b.npz', 'lengths').data,
      Float64Array.of(6, 5, 3, 6),
    );
    assert.deepStrictEqual(readArray(fixtureBytes('batch.pt'), 'batch.pt', 'lengths').shape, [2]);
    assert.deepStrictEqual(readArray(fixtureBytes('bare-tensor.pt'), 'x.pt', undefined).shape, [2, 5, 3]);
    throwsCheckpoint(() => readArray(fixtureBytes('c-f64.npy'), 'x.npy', 'a'), 'missing', 'drop the #name');
    throwsCheckpoint(
      () => readArray(fixtureBytes('batch.pt'), 'batch.pt', 'nope'),
      'missing',
      'batch.pt: #nope: no entry "nope" (keys: "x", "y"',
    );
    throwsCheckpoint(() => readArray(fixtureBytes('export-lstm.onnx'), 'm.onnx', undefined), 'unsupported', 'not onnx');
  });

  it('selects the only module, or the named one; several without a name are listed', () => {
    const single = readCheckpoint(fixtureBytes('training-checkpoint.pt'), { fileName: 'c.pt' });
    assert.strictEqual(selectModule(single, undefined, 'c.pt').name, 'encoder.rnn');
    const two = readCheckpoint(fixtureBytes('whole-module.pt'), { fileName: 'w.pt' });
    throwsCheckpoint(() => selectModule(two, undefined, 'w.pt'), 'missing', 'choose one with "module": "rnn", "aux"');
    assert.strictEqual(selectModule(two, 'aux', 'w.pt').attributes.nonlinearity, 'relu');
    throwsCheckpoint(
      () => selectModule(two, 'encoder', 'w.pt'),
      'missing',
      'no recurrent module "encoder" (candidates: "rnn", "aux")',
    );
  });

  it('refuses a module whose source declares what the engine does not compute, by name', () => {
    const c = readCheckpoint(fixtureBytes('lstm-clip.onnx'), { fileName: 'm.onnx' });
    throwsCheckpoint(() => selectModule(c, undefined, 'm.onnx'), 'unsupported', 'attribute clip = 5');
    const k = readCheckpoint(fixtureBytes('legacy-hard-sigmoid.h5'), { fileName: 'k.h5' });
    throwsCheckpoint(() => selectModule(k, 'gru', 'k.h5'), 'unsupported', 'recurrent_activation "hard_sigmoid"');
  });

  it('a bare npy is no weights file', () => {
    const c = readCheckpoint(fixtureBytes('c-f64.npy'), { fileName: 'x.npy' });
    throwsCheckpoint(() => selectModule(c, undefined, 'x.npy'), 'missing', 'no recurrent module');
  });
});
