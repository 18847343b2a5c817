// Watches a timeline's inputs for checkpoints that training writes: a file is handed on once its size and
// modification time have stayed the same for `stableMs` (1 s), so a half-written file is never read. A
// file rewritten later (a `last.ckpt` saved every epoch) is handed on again once it is stable again.
import * as fs from 'fs';
import { expandInputs } from './inputs';

export interface WatchOptions {
  /** Milliseconds a file's size and modification time must stay unchanged. Default 1000. */
  stableMs?: number;
  /** Milliseconds between polls. Default 200. */
  intervalMs?: number;
}

interface Seen {
  signature: string;
  since: number;
  handed?: string;
}

/**
 * Polls (rather than fs.watch, whose events differ between platforms and file systems) the files that
 * `args` name, as `expandInputs` expands them on every poll.
 */
export class CheckpointWatcher {
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly stableMs: number;
  private readonly intervalMs: number;

  constructor(
    private readonly args: string[],
    private readonly cwd: string,
    private readonly withBaseModel: boolean,
    private readonly exclude: string | undefined,
    private readonly onFile: (file: string) => void,
    options: WatchOptions = {},
  ) {
    this.stableMs = options.stableMs ?? 1000;
    this.intervalMs = options.intervalMs ?? 200;
  }

  /** Starts polling (the first poll runs at once). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Marks files as already handed on in their current state (the ones a first pass analyzed). */
  async markHanded(files: string[]): Promise<void> {
    for (const f of files) {
      const sig = await signature(f);
      if (sig !== undefined) this.seen.set(f, { signature: sig, since: 0, handed: sig });
    }
  }

  /** One poll: files whose state has been stable for long enough and not yet handed on are handed on. */
  async poll(now: number = Date.now()): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { files } = expandInputs(this.args, this.cwd, this.withBaseModel, this.exclude);
      for (const f of files) {
        const sig = await signature(f);
        if (sig === undefined) continue;
        const s = this.seen.get(f);
        if (!s || s.signature !== sig) {
          this.seen.set(f, { signature: sig, since: now, handed: s?.handed });
          continue;
        }
        if (s.handed !== sig && now - s.since >= this.stableMs && !sig.startsWith('0 ')) {
          s.handed = sig;
          this.onFile(f);
        }
      }
    } finally {
      this.polling = false;
    }
  }
}

async function signature(file: string): Promise<string | undefined> {
  try {
    const st = await fs.promises.stat(file);
    return st.isFile() ? `${st.size} ${st.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}
