// Owner objects and what they own: a Disposable base class whose _register() ties a subscription, emitter or
// UI item to the owner's lifetime, and a DisposableStore for a set that is cleared and refilled (a panel's
// listeners). vscode-free (anything with dispose() fits), so the behaviour is unit-tested in plain Node.

/** Anything that can be disposed (vscode.Disposable and every owner object here). */
export interface IDisposable {
  dispose(): unknown;
}

/** Disposes each item, in order; an item that throws does not keep the others alive (the first error is rethrown). */
export function disposeAll(items: Iterable<IDisposable>): void {
  let first: unknown;
  let failed = false;
  for (const item of items) {
    try {
      item.dispose();
    } catch (error) {
      if (!failed) first = error;
      failed = true;
    }
  }
  if (failed) throw first;
}

/** A set of disposables, disposed together; clear() empties it for reuse, dispose() for good. */
export class DisposableStore implements IDisposable {
  private items: IDisposable[] = [];
  private disposed = false;

  /** Whether dispose() was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Adds an item (disposed at once when the store already is). Returns it. */
  add<T extends IDisposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  /** Disposes the items added so far, in the order they were added; the store stays usable. */
  clear(): void {
    const items = this.items;
    this.items = [];
    disposeAll(items);
  }

  /** Disposes every item; later additions are disposed as they come. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clear();
  }
}

/** Base of the extension's owner objects: what they _register() is disposed with them, in registration order. */
export abstract class Disposable implements IDisposable {
  private readonly owned = new DisposableStore();

  /** Disposes everything registered (once). Subclasses that override it call super.dispose(). */
  dispose(): void {
    this.owned.dispose();
  }

  /** Whether dispose() was called. */
  protected get isDisposed(): boolean {
    return this.owned.isDisposed;
  }

  /** Ties `item` to this owner's lifetime (disposing it at once when the owner already is). Returns it. */
  protected _register<T extends IDisposable>(item: T): T {
    return this.owned.add(item);
  }
}
