// The pickle interpreter on its own: one object pickled by Python in protocols 0-5 reads back the
// same; allow-listed globals get their inert meaning; anything else stays a record.
import * as assert from 'assert';
import {
  interpretPickle,
  PyDict,
  PyGlobal,
  PyList,
  PyRecord,
  PySet,
  PyTuple,
  describe as describeValue,
  type PyValue,
} from '../../../../../src/engine/model/checkpoint/pickle';
import { CheckpointError } from '../../../../../src/engine/model/checkpoint/types';
import { expectations } from './expected';

/** The JSON form tools/make_checkpoints.py writes (pickle_json). */
function toJson(v: PyValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (v instanceof PyTuple) return { tuple: v.items.map(toJson) };
  if (v instanceof PyList) return v.items.map(toJson);
  if (v instanceof PySet) return { set: v.items.map(toJson).sort() };
  if (v instanceof PyDict) return { dict: v.keys.map((k, i) => [toJson(k), toJson(v.values[i])]) };
  return { other: describeValue(v) };
}

const bytesOf = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('checkpoint/pickle: interpreter', () => {
  const want = expectations()['pickle-protocols'] as unknown as { pickles: Record<string, string>; value: unknown };
  for (const [protocol, hex] of Object.entries(want.pickles)) {
    it(`protocol ${protocol}: reads what Python pickled`, () => {
      const { value } = interpretPickle(Uint8Array.from(Buffer.from(hex, 'hex')), { file: 'p.pkl', part: '' });
      assert.deepStrictEqual(toJson(value), want.value);
    });
  }

  it('keeps memo sharing (the same list twice is one object)', () => {
    const { value } = interpretPickle(Uint8Array.from(Buffer.from(want.pickles['2'], 'hex')), {
      file: 'p.pkl',
      part: '',
    });
    const shared = (value as PyDict).get('shared') as PyList;
    assert.strictEqual(shared.items[0], shared.items[1]);
  });

  it('never calls a global: os.system(...) is a record with its arguments', () => {
    const pkl = bytesOf([0x80, 2], 'cos\nsystem\n', '(', 'X', [5, 0, 0, 0], 'touch', 't', 'R', '.');
    const { value, inertGlobals } = interpretPickle(pkl, { file: 'p.pkl', part: '' });
    assert.ok(value instanceof PyRecord);
    assert.strictEqual(value.qualified, 'os.system');
    assert.deepStrictEqual(toJson(value.args), { tuple: ['touch'] });
    assert.deepStrictEqual(inertGlobals, ['os.system']);
  });

  it('a global that is never called stays a reference', () => {
    const { value } = interpretPickle(bytesOf([0x80, 2], 'cbuiltins\neval\n', '.'), { file: 'p', part: '' });
    assert.ok(value instanceof PyGlobal && value.qualified === 'builtins.eval');
  });

  it('refuses malformed pickles with a CheckpointError naming the offset', () => {
    const bad: [Uint8Array, string][] = [
      [bytesOf([0x80, 2], 'h', [3], '.'), 'memo reference 3'],
      [bytesOf([0x80, 2], 't.'), 'no MARK'],
      [bytesOf([0x80, 2], '.'), 'stack underflow'],
      [bytesOf([0x80, 2], 'X', [0xff, 0, 0, 0], 'ab'), 'BINUNICODE'],
      [bytesOf([0x80, 2], ']', [0x97]), 'out-of-band'],
      [bytesOf([0x80, 2], 'NQ'), 'persistent id'],
      [bytesOf([0x80, 2], [0xff]), 'unknown opcode 0xff'],
      [bytesOf([0x80, 2], ')', 'K', [1], 'K', [2], 's.'), 'SETITEM on a tuple'],
    ];
    for (const [pkl, contains] of bad) {
      assert.throws(
        () => interpretPickle(pkl, { file: 'p.pkl', part: 'data.pkl' }),
        (e: unknown) =>
          e instanceof CheckpointError && e.message.startsWith('p.pkl: data.pkl: ') && e.message.includes(contains),
        contains,
      );
    }
  });
});
