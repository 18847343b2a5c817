// The conversion table of shared/spec/checkpoints.md section 3, one test per source layout: each
// source gate block is filled with values that name it, and every PyTorch element is checked to
// come from the block and position the table says.
import * as assert from 'assert';
import {
  CONVERSIONS,
  convertKerasCell,
  convertOnnxDirection,
  reorderBlocks,
  transpose,
  type ConversionRow,
} from '../../../../../src/engine/model/checkpoint/convert';

/** A value that names its source position: gate block, row within the block, column, direction. */
const code = (block: number, row: number, col: number, dir = 0): number => 1000 * dir + 100 * block + 10 * row + col;

/** The spec's table as PyTorch gate names ← source gate names. */
const PYTORCH_GATES: Record<number, string[]> = { 4: ['i', 'f', 'c', 'o'], 3: ['r', 'z', 'h'], 1: ['h'] };

describe('checkpoint/convert: the conversion table', () => {
  it('names each PyTorch gate after the source gate it takes (i f g o / r z n)', () => {
    for (const row of Object.values(CONVERSIONS) as ConversionRow[]) {
      const taken = row.order.map((k) => row.sourceGates[k]);
      const want = PYTORCH_GATES[row.gates].map((g) => (row.gates === 4 && g === 'c' ? 'c' : g));
      assert.deepStrictEqual(taken, want, row.source);
    }
  });

  const H = 2;
  const I = 3;
  for (const [op, row] of [
    ['LSTM', CONVERSIONS.onnxLstm],
    ['GRU', CONVERSIONS.onnxGru],
    ['RNN', CONVERSIONS.onnxRnn],
  ] as const) {
    it(`${row.source}: W/R rows and B halves reordered per direction`, () => {
      const G = row.gates * H;
      const dirs = 2;
      const W = new Float64Array(dirs * G * I);
      const R = new Float64Array(dirs * G * H);
      const B = new Float64Array(dirs * 2 * G);
      for (let d = 0; d < dirs; d++)
        for (let b = 0; b < row.gates; b++)
          for (let h = 0; h < H; h++) {
            for (let i = 0; i < I; i++) W[d * G * I + (b * H + h) * I + i] = code(b, h, i, d);
            for (let k = 0; k < H; k++) R[d * G * H + (b * H + h) * H + k] = code(b, h, k, d) + 0.5;
            B[d * 2 * G + b * H + h] = code(b, h, 0, d) + 0.25;
            B[d * 2 * G + G + b * H + h] = code(b, h, 0, d) + 0.75;
          }
      for (let d = 0; d < dirs; d++) {
        const out = convertOnnxDirection(op, H, I, d, W, R, B);
        for (let k = 0; k < row.gates; k++)
          for (let h = 0; h < H; h++) {
            const src = row.order[k];
            for (let i = 0; i < I; i++) assert.strictEqual(out.weightIh[(k * H + h) * I + i], code(src, h, i, d));
            for (let j = 0; j < H; j++) assert.strictEqual(out.weightHh[(k * H + h) * H + j], code(src, h, j, d) + 0.5);
            assert.strictEqual(out.biasIh![k * H + h], code(src, h, 0, d) + 0.25);
            assert.strictEqual(out.biasHh![k * H + h], code(src, h, 0, d) + 0.75);
          }
      }
      assert.strictEqual(convertOnnxDirection(op, H, I, 0, W, R, undefined).biasIh, undefined);
    });
  }

  for (const [cls, resetAfter, row] of [
    ['LSTM', false, CONVERSIONS.kerasLstm],
    ['GRU', true, CONVERSIONS.kerasGruResetAfter],
    ['GRU', false, CONVERSIONS.kerasGruResetBefore],
    ['SimpleRNN', false, CONVERSIONS.kerasSimpleRnn],
  ] as const) {
    it(`${row.source}: kernels transposed, blocks reordered, bias ${row.bias === 'keras-gru-reset-after' ? 'split in bias_ih / bias_hh' : 'to bias_ih only'}`, () => {
      const G = row.gates * H;
      const kernel = new Float64Array(I * G); // [I][G]
      const rec = new Float64Array(H * G); // [H][G]
      const bias = new Float64Array((resetAfter ? 2 : 1) * G);
      for (let b = 0; b < row.gates; b++)
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < I; i++) kernel[i * G + b * H + h] = code(b, h, i);
          for (let k = 0; k < H; k++) rec[k * G + b * H + h] = code(b, h, k) + 0.5;
          bias[b * H + h] = code(b, h, 0) + 0.25;
          if (resetAfter) bias[G + b * H + h] = code(b, h, 0) + 0.75;
        }
      const out = convertKerasCell(cls, resetAfter, H, I, kernel, rec, bias);
      for (let k = 0; k < row.gates; k++)
        for (let h = 0; h < H; h++) {
          const src = row.order[k];
          for (let i = 0; i < I; i++) assert.strictEqual(out.weightIh[(k * H + h) * I + i], code(src, h, i));
          for (let j = 0; j < H; j++) assert.strictEqual(out.weightHh[(k * H + h) * H + j], code(src, h, j) + 0.5);
          assert.strictEqual(out.biasIh![k * H + h], code(src, h, 0) + 0.25);
          if (resetAfter) assert.strictEqual(out.biasHh![k * H + h], code(src, h, 0) + 0.75);
        }
      if (!resetAfter) assert.strictEqual(out.biasHh, undefined);
    });
  }

  it('reorderBlocks and transpose', () => {
    assert.deepStrictEqual(
      Array.from(reorderBlocks(Float64Array.of(1, 2, 3, 4, 5, 6), 1, 2, [2, 0, 1])),
      [5, 6, 1, 2, 3, 4],
    );
    assert.deepStrictEqual(Array.from(transpose(Float64Array.of(1, 2, 3, 4, 5, 6), 2, 3)), [1, 4, 2, 5, 3, 6]);
  });
});
