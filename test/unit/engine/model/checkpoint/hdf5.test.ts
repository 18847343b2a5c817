// HDF5: files written by h5py (default settings, libver='latest', every layout and filter Keras
// or a user might produce) read as h5py reads them; what is not read is refused by name.
import * as assert from 'assert';
import { openHdf5, type Hdf5Dataset, type Hdf5Group } from '../../../../../src/engine/model/checkpoint/hdf5';
import { assertCheckpointError, assertTensor, expectationsFor, fixtureBytes, type TensorExpectation } from './expected';
import { bounded } from './runner';

describe('checkpoint/hdf5: fixtures against h5py', () => {
  for (const [file, want] of expectationsFor('hdf5')) {
    if (want.expect === 'error') {
      it(`${file}: refused (${want.kind}: ${want.contains})`, () => {
        bounded(
          () =>
            assertCheckpointError(
              () => {
                const h5 = openHdf5(fixtureBytes(file), { fileName: file });
                const d = h5.get(typeof want.dataset === 'string' ? want.dataset : '/');
                if (d?.kind === 'dataset') d.read();
              },
              want,
              file,
              file,
            ),
          file,
        );
      });
      continue;
    }
    it(`${file}: every dataset, attribute and group as h5py reads them`, () => {
      const h5 = bounded(() => openHdf5(fixtureBytes(file), { fileName: file }), file);
      const datasets = want.datasets as Record<string, TensorExpectation | { strings: string[]; shape: number[] }>;
      for (const [path, d] of Object.entries(datasets)) {
        const got = h5.get(path) as Hdf5Dataset | undefined;
        assert.strictEqual(got?.kind, 'dataset', `${path} is a dataset`);
        if ('strings' in d) {
          assert.deepStrictEqual(got.shape, d.shape, `${path} shape`);
          assert.deepStrictEqual(got.readStrings(), d.strings, `${path} strings`);
        } else assertTensor(got.read(), d, `${file} ${path}`);
      }
      const attributes = want.attributes as Record<string, Record<string, string | (string | number)[]>>;
      for (const [path, attrs] of Object.entries(attributes)) {
        const node = h5.get(path)!;
        assert.deepStrictEqual(node.attributeNames().sort(), Object.keys(attrs).sort(), `${path} attribute names`);
        for (const [name, value] of Object.entries(attrs)) {
          const got = node.attribute(name)!;
          const values = typeof value === 'string' ? [value] : value;
          assert.deepStrictEqual(got.values, values, `${path} attribute ${name}`);
        }
      }
      const groups = want.groups as Record<string, string[]>;
      for (const [path, names] of Object.entries(groups)) {
        const g = h5.get(path) as Hdf5Group;
        assert.strictEqual(g.kind, 'group', path);
        assert.deepStrictEqual(g.names().sort(), names, `${path} members`);
      }
    });
  }
});
