// Keras files (layouts written with h5py following Keras' own saving code): modules converted to
// PyTorch names as the spec's table says (each conversion checked against torch.nn in the
// generator), unsupported activations refused by name.
import * as assert from 'assert';
import { kerasSnakeCase, readKeras } from '../../../../../src/engine/model/checkpoint/keras';
import { fixtureBytes } from './expected';
import { runExpectations } from './runner';

describe('checkpoint/keras: fixtures', () => {
  runExpectations({ contents: { keras: (bytes, fileName) => readKeras(bytes, { fileName }) } });
});

describe('checkpoint/keras: details', () => {
  it("names layers as Keras 3's saving code does", () => {
    assert.strictEqual(kerasSnakeCase('SimpleRNN'), 'simple_rnn');
    assert.strictEqual(kerasSnakeCase('LSTM'), 'lstm');
    assert.strictEqual(kerasSnakeCase('Bidirectional'), 'bidirectional');
    assert.strictEqual(kerasSnakeCase('MyGRULayer'), 'my_gru_layer');
  });

  it('GRU reset_after=False has no bias_hh', () => {
    const c = readKeras(fixtureBytes('keras3-gru-before.keras'));
    assert.deepStrictEqual([...c.modules[0].tensors.keys()], ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0']);
  });
});
