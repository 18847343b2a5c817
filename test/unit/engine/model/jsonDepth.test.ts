// The nesting scanner that protects the recursive JSON readers: brackets in strings and comments do not count.
import * as assert from 'assert';
import { findDeepNesting } from '../../../../src/engine/model/jsonDepth';

describe('findDeepNesting', () => {
  it('finds the first bracket past the limit and the keys that lead there', () => {
    const text = '{"data": {"inputs": [[[[1]]]]}}';
    assert.strictEqual(findDeepNesting(text, 6), undefined);
    const deep = findDeepNesting(text, 4);
    assert.deepStrictEqual(deep?.path, ['data', 'inputs']);
    assert.strictEqual(text.substr(deep.range.offset, deep.range.length), '"inputs"');
    assert.deepStrictEqual(findDeepNesting('[[[[', 3), { path: [], range: { offset: 3, length: 1 } });
  });

  it('ignores brackets inside strings (with escaped quotes) and comments', () => {
    const text = '{"a\\"[[[": "[[[[[[", // [[[[[[\n /* {{{{{{ */ "b": [1]}';
    assert.strictEqual(findDeepNesting(text, 2), undefined);
    assert.deepStrictEqual(findDeepNesting('{"k\\u0041": [[1]]}', 2)?.path, ['kA']);
  });

  it('reads 200000 levels without recursion', () => {
    const text = '['.repeat(200_000) + ']'.repeat(200_000);
    assert.strictEqual(findDeepNesting(text)?.range.offset, 64);
  });
});
