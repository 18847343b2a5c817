// numpy files: every .npy and .npz fixture read as numpy reads it, or refused with a typed error.
import * as assert from 'assert';
import { parsePythonLiteral, readNpy } from '../../../../../src/engine/model/checkpoint/npy';
import { readNpz, readNpzArray } from '../../../../../src/engine/model/checkpoint/npz';
import { runExpectations } from './runner';

describe('checkpoint/npy and npz: fixtures against numpy', () => {
  runExpectations({
    contents: { npz: (bytes, fileName) => readNpz(bytes, { fileName }) },
    arrays: {
      npy: (bytes, _name, fileName) => readNpy(bytes, { fileName }),
      'npz-array': (bytes, name, fileName) => readNpzArray(bytes, name, { fileName }),
    },
  });
});

describe('checkpoint/npy: header literal', () => {
  const fail = (d: string): never => {
    throw new Error(d);
  };
  it('parses the dict numpy writes', () => {
    assert.deepStrictEqual(parsePythonLiteral("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", fail), {
      descr: '<f8',
      fortran_order: false,
      shape: [2, 3],
    });
    assert.deepStrictEqual(parsePythonLiteral("{'shape': (5,), 'x': None, 'y': True}", fail), {
      shape: [5],
      x: null,
      y: true,
    });
  });
  it('refuses anything else', () => {
    for (const bad of [
      "{'a': __import__('os')}",
      "{'a': 1",
      "{'a': 1} x",
      "{'a': 99999999999999999999}",
      "{'a': [".repeat(40),
    ]) {
      assert.throws(() => parsePythonLiteral(bad, fail), Error, bad);
    }
  });
});
