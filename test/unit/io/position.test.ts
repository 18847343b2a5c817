// Unit tests of io/position.ts: offsets as line and column, and file:line:col: messages.
import * as assert from 'assert';
import { formatProblem, offsetToLineCol } from '../../../src/io/position';

describe('positions', () => {
  it('converts offsets to 1-based line and column (\\n, \\r\\n, \\r)', () => {
    const text = 'ab\ncd\r\nef\rgh';
    assert.deepStrictEqual(offsetToLineCol(text, 0), { line: 1, column: 1 });
    assert.deepStrictEqual(offsetToLineCol(text, 1), { line: 1, column: 2 });
    assert.deepStrictEqual(offsetToLineCol(text, 3), { line: 2, column: 1 });
    assert.deepStrictEqual(offsetToLineCol(text, 7), { line: 3, column: 1 });
    assert.deepStrictEqual(offsetToLineCol(text, 10), { line: 4, column: 1 });
    assert.deepStrictEqual(offsetToLineCol(text, 99), { line: 4, column: 3 });
  });

  it('formats file:line:col: message', () => {
    const text = '{\n  "cell": "lstn"\n}';
    const line = formatProblem('m.rnn.json', text, {
      severity: 'error',
      message: 'cell: unknown value',
      path: ['cell'],
      range: { offset: text.indexOf('"lstn"'), length: 6 },
    });
    assert.strictEqual(line, 'm.rnn.json:2:11: cell: unknown value');
  });
});
