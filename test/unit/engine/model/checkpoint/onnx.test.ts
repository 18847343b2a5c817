// ONNX models: torch.onnx.export'ed RNN/LSTM/GRU read back to the torch module's own state_dict,
// hand-built models (onnx.helper) converted by the spec's table, unsupported attributes refused by
// name, external data resolved from bytes the caller supplies.
import * as assert from 'assert';
import { readOnnx, parseOnnx, externalLocations } from '../../../../../src/engine/model/checkpoint/onnx';
import { fields, ProtoContext, readVarint } from '../../../../../src/engine/model/checkpoint/protobuf';
import { CheckpointError } from '../../../../../src/engine/model/checkpoint/types';
import { expectations, fixtureBytes } from './expected';
import { runExpectations } from './runner';

/** The external files an expectation names, read as the I/O layer would (relative to the fixtures). */
function externalFor(file: string): Map<string, Uint8Array> | undefined {
  const want = expectations()[file];
  const ext = want?.external as Record<string, string | null> | undefined;
  if (!ext) return undefined;
  const out = new Map<string, Uint8Array>();
  for (const [location, fixture] of Object.entries(ext)) if (fixture) out.set(location, fixtureBytes(fixture));
  return out;
}

describe('checkpoint/onnx: fixtures against torch and onnx', () => {
  runExpectations({
    contents: {
      onnx: (bytes, fileName, key) => readOnnx(bytes, { fileName, externalData: externalFor(key) }),
    },
  });
});

describe('checkpoint/onnx: details', () => {
  it('lists external locations for the I/O layer to resolve', () => {
    assert.deepStrictEqual(externalLocations(parseOnnx(fixtureBytes('external/outside.onnx'))), ['../outside.bin']);
  });

  it('reads the stacked nodes of torch.onnx.export as one module', () => {
    const c = readOnnx(fixtureBytes('export-lstm-2layer-bidir.onnx'));
    assert.strictEqual(c.modules.length, 1);
    assert.strictEqual(c.modules[0].members?.length, 2);
    assert.strictEqual(c.modules[0].attributes.num_layers, 2);
    assert.ok(c.modules[0].tensors.has('weight_hh_l1_reverse'));
  });

  it('decodes varints: small, large, negative int64', () => {
    const ctx = new ProtoContext('x');
    assert.deepStrictEqual(readVarint(Uint8Array.of(0x96, 0x01), 0, 2, ctx, ''), [150, 2]);
    const minus1 = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    assert.deepStrictEqual(readVarint(minus1, 0, 10, ctx, ''), [-1, 10]);
    const big = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10); // 2^60
    assert.strictEqual(readVarint(big, 0, 9, ctx, '')[0], Infinity);
    const twoTo40 = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    assert.strictEqual(readVarint(twoTo40, 0, 6, ctx, '')[0], 2 ** 40);
  });

  it('refuses lengths past the end of a message and groups', () => {
    const ctx = new ProtoContext('m.onnx');
    assert.throws(() => [...fields(Uint8Array.of(0x0a, 0x05, 1, 2), ctx, 'graph')], CheckpointError);
    assert.throws(() => [...fields(Uint8Array.of(0x0b), ctx, 'graph')], CheckpointError);
    assert.throws(() => [...fields(Uint8Array.of(0x08, 0x80), ctx, 'graph')], CheckpointError);
  });
});
