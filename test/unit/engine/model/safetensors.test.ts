// safetensors: round trips in every dtype, corrupt files, and weights files in models.
import * as assert from 'assert';
import {
  decodeBF16,
  decodeF16,
  encodeBF16,
  encodeF16,
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
} from '../../../../src/engine/model/safetensors';
import { parseModel } from '../../../../src/engine/model/parse';

/** Values exactly representable in F16 and BF16 (and so in F32/F64). */
const EXACT = [0, 1, -2, 0.5, 0.25, -0.125, 3, 1.5, -0.75, 8];

function header(bytes: Uint8Array): Record<string, any> {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

/** A file with a hand-made header and data region. */
function rawFile(head: unknown, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(head));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  return out;
}

describe('safetensors', () => {
  for (const dtype of ['F64', 'F32', 'F16', 'BF16'] as SafetensorsDtype[]) {
    it(`round-trips ${dtype}`, () => {
      const bytes = writeSafetensors(
        [
          { name: 'weight_hh_l0', dtype, shape: [2, 5], data: EXACT },
          { name: 'bias_hh_l0', dtype, shape: [2], data: [1, -1] },
        ],
        { format: 'pt' },
      );
      const result = readSafetensors(bytes);
      assert.ok(!('error' in result), JSON.stringify(result));
      const t = result.tensors.get('weight_hh_l0')!;
      assert.strictEqual(t.dtype, dtype);
      assert.deepStrictEqual(t.shape, [2, 5]);
      assert.deepStrictEqual(Array.from(t.data), EXACT);
      assert.deepStrictEqual(Array.from(result.tensors.get('bias_hh_l0')!.data), [1, -1]);
      assert.deepStrictEqual(result.metadata, { format: 'pt' });
      assert.strictEqual((8 + new DataView(bytes.buffer).getUint32(0, true)) % 8, 0);
    });
  }

  it('decodes F16 subnormals, infinities and NaN', () => {
    assert.strictEqual(decodeF16(0x0001), 2 ** -24);
    assert.strictEqual(decodeF16(0x03ff), 1023 * 2 ** -24);
    assert.strictEqual(decodeF16(0x7bff), 65504);
    assert.strictEqual(decodeF16(0x7c00), Infinity);
    assert.strictEqual(decodeF16(0xfc00), -Infinity);
    assert.ok(Number.isNaN(decodeF16(0x7e00)));
    assert.strictEqual(decodeF16(0x3c00), 1);
    assert.ok(Object.is(decodeF16(0x8000), -0));
  });

  it('encodes F16 with round-to-nearest-even and overflow to infinity', () => {
    assert.strictEqual(encodeF16(1), 0x3c00);
    assert.strictEqual(encodeF16(2 ** -24), 0x0001);
    assert.strictEqual(encodeF16(65504), 0x7bff);
    assert.strictEqual(encodeF16(70000), 0x7c00);
    assert.strictEqual(encodeF16(1 + 2 ** -11), 0x3c00); // tie → even
    assert.strictEqual(encodeF16(1 + 3 * 2 ** -11), 0x3c02);
    for (let bits = 0; bits < 0x7c00; bits += 7) assert.strictEqual(encodeF16(decodeF16(bits)), bits);
  });

  it('decodes and encodes BF16', () => {
    assert.strictEqual(decodeBF16(0x3f80), 1);
    assert.strictEqual(decodeBF16(0x0001), 2 ** -133);
    assert.strictEqual(decodeBF16(0x7f80), Infinity);
    assert.ok(Number.isNaN(decodeBF16(0x7fc0)));
    assert.strictEqual(encodeBF16(-2), 0xc000);
  });

  it('rejects a file shorter than the length prefix', () => {
    const r = readSafetensors(new Uint8Array(5));
    assert.ok('error' in r && r.error.includes('too short'));
  });

  it('rejects a header length larger than the file', () => {
    const bytes = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data: [1, 2] }]);
    new DataView(bytes.buffer).setUint32(0, 1_000_000, true);
    const r = readSafetensors(bytes);
    assert.ok('error' in r && r.error.includes('exceeds the file size'), JSON.stringify(r));
    new DataView(bytes.buffer).setUint32(4, 1, true); // 2^32 + …
    assert.ok('error' in readSafetensors(bytes));
  });

  it('rejects a truncated data region', () => {
    const bytes = writeSafetensors([{ name: 'weight_ih_l0', dtype: 'F64', shape: [2, 2], data: [1, 2, 3, 4] }]);
    const r = readSafetensors(bytes.subarray(0, bytes.length - 8));
    assert.ok(
      'error' in r && r.error.includes('weight_ih_l0') && r.error.includes('outside the data region'),
      JSON.stringify(r),
    );
  });

  it('rejects offsets whose byte length disagrees with the shape', () => {
    const r = readSafetensors(rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8));
    assert.ok('error' in r && r.error.startsWith('tensor w:') && r.error.includes('needs 12'), JSON.stringify(r));
  });

  it('rejects unordered and overlapping offsets', () => {
    const unordered = readSafetensors(rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, 8));
    assert.ok('error' in unordered && unordered.error.includes('not in order'));
    const overlap = readSafetensors(
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        12,
      ),
    );
    assert.ok('error' in overlap && overlap.error.includes('overlap'));
  });

  it('rejects unknown dtypes, bad shapes and non-JSON headers', () => {
    const dtype = readSafetensors(rawFile({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8));
    assert.ok('error' in dtype && dtype.error.includes('unsupported dtype "I64"'));
    const shape = readSafetensors(rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4));
    assert.ok('error' in shape && shape.error.includes('shape'));
    const bytes = rawFile({}, 0);
    bytes[8] = 0x7b + 1; // corrupt the opening brace
    assert.ok('error' in readSafetensors(bytes));
  });

  it('accepts __metadata__ and rejects non-string metadata', () => {
    const r = readSafetensors(rawFile({ __metadata__: { a: 1 } }, 0));
    assert.ok('error' in r && r.error.includes('__metadata__'));
  });

  it('writes the header as documented', () => {
    const bytes = writeSafetensors([{ name: 'x', dtype: 'F32', shape: [1, 2], data: [1, 2] }]);
    assert.deepStrictEqual(header(bytes).x, { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] });
  });
});

describe('weights from a safetensors file', () => {
  const data = {
    inputs: [
      [
        [1, 2],
        [3, 4],
      ],
    ],
  };
  const file = (tensors: Parameters<typeof writeSafetensors>[0]) => () => writeSafetensors(tensors);

  it('loads weights and readout by name through the loader', () => {
    const text = JSON.stringify({ weights: 'w.safetensors', data });
    let asked = '';
    const result = parseModel(text, {
      loadWeightsFile: (p) => {
        asked = p;
        return file([
          { name: 'weight_ih_l0', dtype: 'F16', shape: [2, 2], data: [1, 0.5, 0.25, 2] },
          { name: 'weight_hh_l0', dtype: 'BF16', shape: [2, 2], data: [0.5, 0, 0, 0.5] },
          { name: 'bias_ih_l0', dtype: 'F32', shape: [2], data: [1, 2] },
          { name: 'readout.weight', dtype: 'F64', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
        ])();
      },
    });
    assert.strictEqual(asked, 'w.safetensors');
    assert.deepStrictEqual(result.problems, []);
    const m = result.model!;
    assert.deepStrictEqual(Array.from(m.layers[0].weightIh.data), [1, 0.5, 0.25, 2]);
    assert.deepStrictEqual(Array.from(m.layers[0].biasIh), [1, 2]);
    assert.strictEqual(m.outputSize, 3);
  });

  it('reuses the inline shape checks, on the weights value range', () => {
    const text = JSON.stringify({ weights: 'w.safetensors', data });
    const result = parseModel(text, {
      loadWeightsFile: file([
        { name: 'weight_ih_l0', dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] },
        { name: 'weight_hh_l0', dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] },
        { name: 'bias_hh_l0', dtype: 'F32', shape: [3], data: [1, 2, 3] },
      ]),
    });
    assert.strictEqual(result.problems.length, 1);
    const p = result.problems[0];
    assert.deepStrictEqual(p.path, ['weights', 'bias_hh_l0']);
    assert.ok(p.message.startsWith('weights.bias_hh_l0: expected shape [2]'), p.message);
    assert.ok(p.message.includes('(in w.safetensors)'));
    assert.strictEqual(text.slice(p.range.offset, p.range.offset + p.range.length), '"w.safetensors"');
  });

  it('reports unknown tensor names and non-finite values (from F16 infinities)', () => {
    const text = JSON.stringify({ weights: 'w.safetensors', data });
    const result = parseModel(text, {
      loadWeightsFile: file([
        { name: 'weight_ih_l0', dtype: 'F16', shape: [2, 2], data: [1, 2, 3, 1e6] },
        { name: 'weight_hh_l0', dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] },
        { name: 'weight_ih_l0_backward', dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] },
      ]),
    });
    const paths = result.problems.map((p) => p.path.join('.')).sort();
    assert.deepStrictEqual(paths, ['weights.weight_ih_l0', 'weights.weight_ih_l0_backward']);
    assert.ok(result.problems.some((p) => p.message.includes('non-finite value (Infinity) at [1][1]')));
  });

  it('reports a corrupt file on the weights value', () => {
    const text = JSON.stringify({ weights: 'w.safetensors', data });
    const result = parseModel(text, { loadWeightsFile: () => new Uint8Array([1, 2, 3]) });
    assert.strictEqual(result.problems.length, 1);
    assert.ok(result.problems[0].message.startsWith('weights: w.safetensors is not a valid safetensors file'));
  });
});
