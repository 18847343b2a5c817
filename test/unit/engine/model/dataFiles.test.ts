// Unit tests of dataFiles.ts: arrays read from files split into sequences like inline lists (batch_first,
// time_first, one sequence), token ids and lengths from files, targets per loss, and each wrong array named with
// its reference and the offending element.
import * as assert from 'assert';
import {
  checkFileTokens,
  type FileArray,
  readFileInputs,
  readFileLengths,
  readFileTargets,
  readFileTokens,
} from '../../../../src/engine/model/dataFiles';
import { ProblemList } from '../../../../src/engine/model/problems';

function array(shape: number[], values: number[], label = 'b.npz#x'): FileArray {
  return {
    tensor: { shape, data: Float64Array.from(values), dtype: 'float32' },
    path: ['data', 'inputs'],
    range: { offset: 10, length: 9 },
    label,
  };
}

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('data arrays from files (dataFiles.ts)', () => {
  it('inputs: [B][T][I] batch_first, [T][B][I] time_first and one sequence [T][I] give the same sequences', () => {
    const problems = new ProblemList();
    const bf = readFileInputs(array([2, 3, 2], iota(12)), 'batch_first', 2, 'from x', problems);
    assert.ok(bf);
    assert.deepStrictEqual([...bf.sequences[1].inputs], [6, 7, 8, 9, 10, 11]);
    // time_first: element [t][b][i] = the batch_first element [b][t][i]
    const tf: number[] = [];
    for (let t = 0; t < 3; t++) for (let b = 0; b < 2; b++) for (let i = 0; i < 2; i++) tf.push(b * 6 + t * 2 + i);
    const read = readFileInputs(array([3, 2, 2], tf), 'time_first', undefined, '', problems);
    assert.ok(read);
    assert.deepStrictEqual(
      read.sequences.map((s) => [...s.inputs]),
      bf.sequences.map((s) => [...s.inputs]),
    );
    const one = readFileInputs(array([3, 2], iota(6)), 'batch_first', 2, '', problems);
    assert.strictEqual(one?.sequences.length, 1);
    assert.strictEqual(one?.nesting.depth, 2);
    assert.strictEqual(one?.sequences[0].rows, 3);
    assert.deepStrictEqual(problems.finish(), []);
  });

  it('inputs: a wrong width, rank or a non-finite element is an error naming the array and the element', () => {
    const problems = new ProblemList();
    assert.strictEqual(
      readFileInputs(array([2, 3, 2], iota(12)), 'batch_first', 4, 'from input_size', problems),
      undefined,
    );
    assert.strictEqual(readFileInputs(array([12], iota(12)), 'batch_first', undefined, '', problems), undefined);
    const values = iota(12);
    values[7] = NaN;
    assert.strictEqual(readFileInputs(array([2, 3, 2], values), 'batch_first', 2, '', problems), undefined);
    const messages = problems.finish().map((p) => p.message);
    assert.match(
      messages[0],
      /expected 4 inputs per step \(I = 4, from input_size\), got \[2, 3, 2\] \(float32\) in b\.npz#x/,
    );
    assert.match(messages[1], /expected \[B\]\[T\]\[I\] \(or one sequence \[T\]\[I\]\), got \[12\]/);
    assert.match(messages[2], /non-finite number NaN at \[1, 0, 1\] in b\.npz#x/);
  });

  it('tokens and lengths: integers split by layout, cut by lengths, checked against V on the real steps only', () => {
    const problems = new ProblemList();
    const tokens = readFileTokens(array([2, 4], [0, 1, 2, 3, 4, 5, 9, 9]), 'batch_first', problems);
    assert.ok(tokens);
    assert.deepStrictEqual([...(tokens.sequences[1].tokens ?? [])], [4, 5, 9, 9]);
    assert.ok(readFileLengths(array([2], [4, 2], 'b.npz#lengths'), tokens.sequences, tokens.nesting, problems));
    assert.deepStrictEqual(
      tokens.sequences.map((s) => s.length),
      [4, 2],
    );
    // 9 is padding (past length 2): not checked against V = 6.
    assert.ok(checkFileTokens(array([2, 4], []), tokens.sequences, tokens.nesting, 6, problems));
    assert.ok(!checkFileTokens(array([2, 4], []), tokens.sequences, tokens.nesting, 5, problems));
    assert.strictEqual(readFileTokens(array([3], [0, 1.5, 2]), 'batch_first', problems), undefined);
    const long = readFileTokens(array([1, 2], [0, 1]), 'batch_first', problems);
    assert.ok(long);
    assert.ok(!readFileLengths(array([1], [3], 'l.npy'), long.sequences, long.nesting, problems));
    assert.ok(!readFileLengths(array([2], [1, 1], 'l.npy'), long.sequences, long.nesting, problems));
    const messages = problems.finish().map((p) => p.message);
    assert.match(messages[0], /token id 5 at \[1\]\[1\] in b\.npz#x is outside the vocabulary \[0, 5\)/);
    assert.match(messages[1], /expected token ids \(integers\), got 1\.5 at \[1\]/);
    assert.match(messages[2], /3 at \[0\] in l\.npy, but sequence 0 has only 2 steps/);
    assert.match(messages[3], /expected 1 length \(\[1\]\), got \[2\]/);
  });

  it('targets: mse [B][T][D] (or [B][T] when D = 1), cross_entropy class ids with padding ignored', () => {
    const problems = new ProblemList();
    const inputs = readFileInputs(array([2, 3, 1], iota(6)), 'batch_first', 1, '', problems);
    assert.ok(inputs);
    const mse = readFileTargets(
      array([2, 3, 2], iota(12)),
      inputs.sequences,
      inputs.nesting,
      'data.inputs',
      'mse',
      2,
      'D',
      problems,
    );
    assert.deepStrictEqual([...(mse?.[1] ?? [])], [6, 7, 8, 9, 10, 11]);
    const d1 = readFileTargets(
      array([2, 3], iota(6)),
      inputs.sequences,
      inputs.nesting,
      'data.inputs',
      'mse',
      1,
      'D',
      problems,
    );
    assert.deepStrictEqual([...(d1?.[0] ?? [])], [0, 1, 2]);
    inputs.sequences[1].length = 2;
    const ce = readFileTargets(
      array([2, 3], [0, 1, 2, 2, 1, -100]),
      inputs.sequences,
      inputs.nesting,
      'data.inputs',
      'cross_entropy',
      3,
      'D',
      problems,
    );
    assert.deepStrictEqual([...(ce?.[1] ?? [])], [2, 1, -100]);
    assert.deepStrictEqual(problems.finish(), []);
    const bad = new ProblemList();
    assert.strictEqual(
      readFileTargets(array([2, 2], iota(4)), inputs.sequences, inputs.nesting, 'data.inputs', 'mse', 1, 'D', bad),
      undefined,
    );
    assert.strictEqual(
      readFileTargets(
        array([2, 3], [0, 1, 3, 0, 0, 0]),
        inputs.sequences,
        inputs.nesting,
        'data.inputs',
        'cross_entropy',
        3,
        'the rows of readout.weight',
        bad,
      ),
      undefined,
    );
    const messages = bad.finish().map((p) => p.message);
    assert.match(messages[0], /expected \[2\]\[3\]\[1\] \(D = 1, D\) to match data\.inputs, got \[2, 2\]/);
    assert.match(messages[1], /class index 3 at \[0\]\[2\] in b\.npz#x is not an integer in \[0, 3\)/);
  });
});
