// A per-key debounce queue (vscode-free, unit-tested): the last call for a key within `delayMs` wins.

/** Runs `run(key)` once per key, `delayMs` after the last `schedule(key)`; `cancel` drops a pending run. */
export class KeyedDebouncer<K> {
  private readonly timers = new Map<K, NodeJS.Timeout>();

  constructor(
    private readonly delayMs: number,
    private readonly run: (key: K) => void,
  ) {}

  /** (Re)starts the key's timer. */
  schedule(key: K, delayMs = this.delayMs): void {
    this.cancel(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.run(key);
      }, delayMs),
    );
  }

  /**
   * Runs the key now, in this call, dropping its pending run (a file just opened: a timer, even of 0 ms, waits for
   * whatever else the event loop does next, such as other extensions activating for the same file).
   */
  runNow(key: K): void {
    this.cancel(key);
    this.run(key);
  }

  /** Whether a run is pending for the key. */
  isPending(key: K): boolean {
    return this.timers.has(key);
  }

  /** Drops the key's pending run, if any. */
  cancel(key: K): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Drops every pending run. */
  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
