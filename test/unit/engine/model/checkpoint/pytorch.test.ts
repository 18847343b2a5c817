// PyTorch checkpoints: every fixture written by torch.save (or by hand, for the hostile ones)
// read as torch.load reads it, or refused with a typed error.
import * as assert from 'assert';
import { readPytorch, readPytorchArray } from '../../../../../src/engine/model/checkpoint/pytorch';
import { fixtureBytes } from './expected';
import { runExpectations } from './runner';

describe('checkpoint/pytorch: fixtures against torch.load', () => {
  runExpectations({
    contents: { pytorch: (bytes, fileName) => readPytorch(bytes, { fileName }) },
    arrays: { 'pytorch-array': (bytes, name, fileName) => readPytorchArray(bytes, name, { fileName }) },
  });
});

describe('checkpoint/pytorch: details', () => {
  it('reports where a nested state_dict was found and skips the optimizer', () => {
    const c = readPytorch(fixtureBytes('training-checkpoint.pt'), { fileName: 'ckpt.pt' });
    assert.ok(
      c.notes.some((n) => n.includes('"model_state_dict"')),
      c.notes.join('\n'),
    );
    assert.ok(![...c.tensors.keys()].some((k) => k.startsWith('state')));
  });

  it('keeps views of one storage apart (a transpose is read transposed)', () => {
    const c = readPytorch(fixtureBytes('shared-views.pt'));
    const w = c.tensors.get('weight_hh_l0')!;
    // base = arange(64)/8 − 3; weight_hh_l0 = base[12:28].view(4, 4).t(): row r, column k is base[12 + 4k + r].
    for (let r = 0; r < 4; r++)
      for (let k = 0; k < 4; k++) assert.strictEqual(w.data[r * 4 + k], (12 + 4 * k + r) / 8 - 3);
  });

  it('decodes lazily: tensors outside the chosen module are not decoded until read', () => {
    const c = readPytorch(fixtureBytes('whole-module.pt'));
    const head = Object.getOwnPropertyDescriptor(c.tensors.get('head.weight')!, 'data');
    assert.ok(head !== undefined && !('value' in head), 'data is an accessor, not a value');
  });

  it('names the file and the member in a message', () => {
    assert.throws(
      () => readPytorch(fixtureBytes('hostile-offset.pt'), { fileName: 'm.pt' }),
      (e: Error) => e.message.startsWith('m.pt: data/0: storage holds 48 bytes, tensor "weight_hh_l0" needs 52'),
    );
  });
});
