// Fuzzing every reader with fast-check: random byte flips, overwritten ranges, insertions and
// truncations of real fixtures must end in a result or a CheckpointError, never another exception
// and never a hang. Set FUZZ_RUNS to run more cases (default 150 per fixture) and FUZZ_SEED to
// replay a failure (fast-check prints the seed and the shrunk case).
import * as assert from 'assert';
import fc from 'fast-check';
import { openHdf5, type Hdf5Group } from '../../../../../src/engine/model/checkpoint/hdf5';
import { readArray, readCheckpoint } from '../../../../../src/engine/model/checkpoint/index';
import { parseOnnx } from '../../../../../src/engine/model/checkpoint/onnx';
import { interpretPickle, PyStorage } from '../../../../../src/engine/model/checkpoint/pickle';
import { findStateDict } from '../../../../../src/engine/model/checkpoint/pytorch';
import { openZip } from '../../../../../src/engine/model/checkpoint/zip';
import { CheckpointError, type CheckpointContents } from '../../../../../src/engine/model/checkpoint/types';
import { fixtureBytes } from './expected';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** A small allocation limit keeps every case cheap; the limits themselves are tested elsewhere. */
const MAX_BYTES = 16 << 20;

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'fill'; at: number; length: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('fill' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
    value: fc.constantFrom(0, 0xff, 0x7f, 0x80),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(src: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = src.slice();
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] ^= m.xor;
    else if (m.kind === 'fill') b.fill(m.value, at, Math.min(b.length, at + m.length));
    else if (m.kind === 'insert') {
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(at), at + m.bytes.length);
      b = out;
    } else b = b.subarray(0, at);
  }
  return b;
}

/** Reads every tensor (lazy ones too), as the model parser would. */
function touch(c: CheckpointContents): void {
  for (const t of c.tensors.values()) void t.data;
  for (const m of c.modules) for (const t of m.tensors.values()) void t.data;
}

/** Walks an HDF5 file: every group, dataset and attribute, to depth 8. */
function walkHdf5(bytes: Uint8Array): void {
  const h5 = openHdf5(bytes, { fileName: 'fuzz.h5', maxBytes: MAX_BYTES });
  const stack: { g: Hdf5Group; depth: number }[] = [{ g: h5.root, depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited++ < 2000) {
    const { g, depth } = stack.pop()!;
    for (const a of g.attributeNames()) g.attribute(a);
    if (depth > 8) continue;
    for (const name of g.names()) {
      const child = g.get(name);
      if (!child) continue;
      if (child.kind === 'group') stack.push({ g: child, depth: depth + 1 });
      else {
        for (const a of child.attributeNames()) child.attribute(a);
        if (child.type.class === 'int' || child.type.class === 'float') child.read();
        else if (child.type.class === 'string' || child.type.class === 'vlen-string') child.readStrings();
      }
    }
  }
}

/** Runs `read` on mutated copies of `fixture`: a result or a CheckpointError, each within 2 s. */
function fuzz(fixture: string, read: (bytes: Uint8Array) => void): void {
  it(`${fixture}: mutated copies end in a result or a CheckpointError`, function () {
    this.timeout(120_000);
    const src = fixtureBytes(fixture);
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const bytes = mutate(src, mutations);
        const start = Date.now();
        try {
          read(bytes);
        } catch (err) {
          if (!(err instanceof CheckpointError)) throw err;
          assert.ok(err.message.length > 0 && !err.message.includes('undefined'), err.message);
        }
        assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
}

describe('checkpoint readers: fuzzing', () => {
  // CRC checks off: otherwise nearly every mutation of a zip member stops at the checksum.
  const contents = (fileName: string) => (bytes: Uint8Array) =>
    touch(readCheckpoint(bytes, { fileName, maxBytes: MAX_BYTES, verifyCrc: false }));
  for (const f of [
    'lstm-f32.pt',
    'shared-views.pt',
    'whole-module.pt',
    'training-checkpoint.pt',
    'gru-protocol4.pt',
    'hostile-os-system.pt',
  ]) {
    fuzz(f, contents(f));
  }
  for (const f of ['state-dict.npz', 'batch-compressed.npz']) fuzz(f, contents(f));
  for (const f of ['fortran-f32.npy', 'v3-header.npy'])
    fuzz(f, (b) => void readArray(b, f, undefined, { maxBytes: MAX_BYTES }).data);
  fuzz('batch.pt', (b) => void readArray(b, 'batch.pt', 'x', { maxBytes: MAX_BYTES, verifyCrc: false }).data);
  for (const f of ['whole-module.pt', 'gru-protocol5.pt', 'training-checkpoint.pt']) {
    const zip = openZip(fixtureBytes(f));
    const pkl = zip.entries.find((e) => e.name.endsWith('/data.pkl'))!.name;
    const bytes = zip.read(pkl);
    it(`${f} data.pkl: mutated pickles end in values or a CheckpointError`, function () {
      this.timeout(120_000);
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
          try {
            const { value } = interpretPickle(mutate(bytes, mutations), {
              file: f,
              part: 'data.pkl',
              persistentLoad: () => new PyStorage('float32', '0', 'cpu', 1),
            });
            findStateDict(value, f);
          } catch (err) {
            if (!(err instanceof CheckpointError)) throw err;
          }
        }),
        { numRuns: RUNS * 4, seed: SEED },
      );
    });
  }
  for (const f of ['export-lstm-2layer-bidir.onnx', 'gru-before.onnx', 'lstm-initial-zero.onnx']) {
    fuzz(f, (b) => {
      parseOnnx(b, { fileName: f });
      touch(readCheckpoint(b, { fileName: f, maxBytes: MAX_BYTES }));
    });
  }
  for (const f of ['h5-layouts.h5', 'h5-latest.h5']) fuzz(f, walkHdf5);
  for (const f of ['keras3-bidirectional.keras', 'legacy-lstm.h5', 'legacy-bidirectional-gru.h5']) fuzz(f, contents(f));

  it("random bytes with each format's magic end in a CheckpointError", () => {
    const magics: [string, number[]][] = [
      ['x.pt', [0x50, 0x4b, 3, 4]],
      ['x.npz', [0x50, 0x4b, 5, 6]],
      ['x.npy', [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]],
      ['x.onnx', []],
      ['x.h5', [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]],
      ['x.keras', [0x50, 0x4b, 3, 4]],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 600 }), ([name, magic], tail) => {
        const bytes = Uint8Array.from([...magic, ...tail]);
        try {
          touch(readCheckpoint(bytes, { fileName: name, maxBytes: MAX_BYTES }));
        } catch (err) {
          if (!(err instanceof CheckpointError)) throw err;
        }
      }),
      { numRuns: RUNS * 4, seed: SEED },
    );
  });
});
