// Unit tests of the owner-object base: what an owner registers is disposed with it, once, in order.
import * as assert from 'assert';
import { Disposable, DisposableStore, disposeAll, type IDisposable } from '../../../src/extension/dispose';
import { sameUri } from '../../../src/extension/uris';

/** A disposable that records when it was disposed. */
function recorder(log: string[], name: string): IDisposable & { count: number } {
  const item = {
    count: 0,
    dispose(): void {
      item.count++;
      log.push(name);
    },
  };
  return item;
}

class Owner extends Disposable {
  register<T extends IDisposable>(item: T): T {
    return this._register(item);
  }
  get disposed(): boolean {
    return this.isDisposed;
  }
}

describe('extension: Disposable and DisposableStore', () => {
  it('disposes what an owner registered, once, in registration order', () => {
    const log: string[] = [];
    const owner = new Owner();
    const a = owner.register(recorder(log, 'a'));
    const b = owner.register(recorder(log, 'b'));
    assert.strictEqual(owner.disposed, false);
    owner.dispose();
    owner.dispose();
    assert.deepStrictEqual(log, ['a', 'b']);
    assert.strictEqual(a.count, 1);
    assert.strictEqual(b.count, 1);
    assert.strictEqual(owner.disposed, true);
  });

  it('disposes at once what is registered after the owner was disposed', () => {
    const log: string[] = [];
    const owner = new Owner();
    owner.dispose();
    owner.register(recorder(log, 'late'));
    assert.deepStrictEqual(log, ['late']);
  });

  it('clears a store for reuse; dispose ends it', () => {
    const log: string[] = [];
    const store = new DisposableStore();
    store.add(recorder(log, 'first panel'));
    store.clear();
    store.add(recorder(log, 'second panel'));
    assert.deepStrictEqual(log, ['first panel']);
    store.dispose();
    assert.deepStrictEqual(log, ['first panel', 'second panel']);
    assert.strictEqual(store.isDisposed, true);
  });

  it('disposes every item even when one throws, then rethrows the first error', () => {
    const log: string[] = [];
    const failing = {
      dispose(): void {
        throw new Error('boom');
      },
    };
    assert.throws(() => disposeAll([recorder(log, 'a'), failing, recorder(log, 'b')]), /boom/);
    assert.deepStrictEqual(log, ['a', 'b']);
  });
});

describe('extension: sameUri', () => {
  const uri = (s: string): { toString(): string } => ({ toString: () => s });

  it('compares URIs by their string form; a missing one matches nothing', () => {
    assert.strictEqual(sameUri(uri('file:///a.rnn.json'), uri('file:///a.rnn.json')), true);
    assert.strictEqual(sameUri(uri('file:///a.rnn.json'), uri('file:///b.rnn.json')), false);
    assert.strictEqual(sameUri(undefined, uri('file:///a.rnn.json')), false);
    assert.strictEqual(sameUri(undefined, undefined), false);
  });
});
