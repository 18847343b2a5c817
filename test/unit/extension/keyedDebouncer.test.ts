// Unit tests (plain Node) of keyedDebouncer.ts: the last call for a key within the delay wins.
import * as assert from 'assert';
import { KeyedDebouncer } from '../../../src/extension/keyedDebouncer';

describe('extension settings and debounce', () => {
  it('runs once per key after the last of quick calls', async () => {
    const runs: string[] = [];
    const debouncer = new KeyedDebouncer<string>(30, (key) => runs.push(key));
    for (let i = 0; i < 10; i++) {
      debouncer.schedule('a');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    debouncer.schedule('b');
    debouncer.schedule('c');
    debouncer.cancel('c');
    assert.ok(debouncer.isPending('a'));
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepStrictEqual(runs.sort(), ['a', 'b']);
    debouncer.dispose();
  });

  it('runNow runs the key in the same call and drops its pending run', async () => {
    const runs: string[] = [];
    const debouncer = new KeyedDebouncer<string>(20, (key) => runs.push(key));
    debouncer.schedule('a');
    debouncer.runNow('a');
    assert.deepStrictEqual(runs, ['a']);
    assert.ok(!debouncer.isPending('a'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepStrictEqual(runs, ['a'], 'the pending run was dropped');
    debouncer.dispose();
  });
});
