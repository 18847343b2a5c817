// Whether an analysis worker runs, seen from outside the extension's objects, by the extension host's runtime and
// operating system:
// - starts: Node's diagnostics channel "worker_threads", published in the Worker constructor itself (Node 24), and the
//   process 'worker' event (Node 16.14 and later; emitted on the next tick, after the promise callbacks already
//   queued, so a test's `await extension.activate()` resumes before it). Either records a worker that starts and ends
//   between two looks, which a look at the thread list can miss; and a thread just created still carries its
//   creator's name ("MainThread") until it names itself;
// - ends: that Worker's 'exit' event, emitted once its thread has stopped;
// - where the runtime names its threads (Node 24, code-server's extension host, calls an unnamed Worker's thread
//   "WorkerThread"; Node 20 calls every thread after the process), the threads in /proc/self/task confirm the end: the
//   analysis worker's thread and the helper threads it started are gone.
// The extension's analysis worker is such a Worker (src/worker/client.ts); no other runs in these tests' extension
// host.
import * as assert from 'assert';
import * as diagnosticsChannel from 'diagnostics_channel';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { Worker } from 'worker_threads';
import type { RnnGradientsApi } from '../../../src/extension/api';
import { closeAll, extensionId } from '../helpers';

/** The names of this process's threads ([] where /proc is not there). */
function threadNames(): string[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const task of tasks) {
    try {
      names.push(fs.readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim());
    } catch {
      // The thread ended while the list was read.
    }
  }
  return names;
}

function countOf(names: string[], name: string): number {
  return names.filter((n) => n === name).length;
}

/**
 * The name the runtime gives the thread of an unnamed Worker, found by starting one (an idle script) and ending it:
 * the name of which one more thread runs while it is online. Undefined when no name tells it from the other threads.
 */
async function unnamedWorkerThreadName(): Promise<string | undefined> {
  const before = threadNames();
  const worker = new Worker('setInterval(() => undefined, 1000);', { eval: true });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });
  const during = threadNames();
  await worker.terminate();
  await exited;
  const grown = [...new Set(during)].filter((name) => countOf(during, name) === countOf(before, name) + 1);
  // A name every thread has (the process's) tells nothing.
  return grown.length === 1 && countOf(during, grown[0]) < during.length ? grown[0] : undefined;
}

/** One Worker the runtime started: when (performance.now()), and when its thread stopped. */
interface StartedWorker {
  startedAt: number;
  exitedAt?: number;
}

/** Records the Workers this extension host's main thread starts from now on, and their ends. */
export class WorkerRecorder implements vscode.Disposable {
  private readonly workers: StartedWorker[] = [];
  /** Each Worker is reported twice where the runtime publishes on the channel too. */
  private readonly seen = new WeakSet<Worker>();
  private readonly listener = (worker: Worker): void => {
    if (this.seen.has(worker)) return;
    this.seen.add(worker);
    const entry: StartedWorker = { startedAt: performance.now() };
    this.workers.push(entry);
    worker.once('exit', () => {
      entry.exitedAt = performance.now();
    });
  };
  private readonly channelListener = (message: unknown): void => {
    const worker = (message as { worker?: unknown } | undefined)?.worker;
    if (worker instanceof Worker) this.listener(worker);
  };

  private constructor(
    /** The thread name of an unnamed Worker in /proc (undefined: the runtime does not name threads). */
    private readonly threadName: string | undefined,
    /** Threads of that name before recording started. */
    private readonly threadsBefore: number,
  ) {
    diagnosticsChannel.subscribe('worker_threads', this.channelListener);
    process.on('worker', this.listener);
  }

  /** Starts recording (the calibration Worker it may start first is not recorded). */
  static async start(): Promise<WorkerRecorder> {
    const name = await unnamedWorkerThreadName();
    return new WorkerRecorder(name, name === undefined ? 0 : countOf(threadNames(), name));
  }

  /** Workers started since `since` (performance.now()). */
  startedSince(since: number): number {
    return this.workers.filter((w) => w.startedAt >= since).length;
  }

  /** Workers started and not ended. */
  get running(): number {
    return this.workers.filter((w) => w.exitedAt === undefined).length;
  }

  /** What the recorder saw, for a failure message: start and end times in ms after `origin`. */
  describe(origin: number): string {
    const ms = (t: number | undefined): string => (t === undefined ? 'running' : `${Math.round(t - origin)} ms`);
    const list = this.workers.map((w) => `started ${ms(w.startedAt)}, ended ${ms(w.exitedAt)}`).join('; ');
    return `${this.workers.length} worker(s)${list ? `: ${list}` : ''}`;
  }

  /**
   * Fails when the threads of unnamed Workers in /proc/self/task are more than before recording started (a check
   * only where the runtime names its threads).
   */
  assertNoMoreThreads(what: string): void {
    if (this.threadName === undefined) return;
    const now = countOf(threadNames(), this.threadName);
    assert.strictEqual(
      now,
      this.threadsBefore,
      `${what}: ${now} "${this.threadName}" thread(s), ${this.threadsBefore} before`,
    );
  }

  /** Where the end is confirmed, for the test's output. */
  get threadCheck(): string {
    return this.threadName === undefined
      ? 'this runtime does not name its threads: no /proc check'
      : `threads named "${this.threadName}" in /proc/self/task`;
  }

  dispose(): void {
    diagnosticsChannel.unsubscribe('worker_threads', this.channelListener);
    process.off('worker', this.listener);
  }
}

/** The extension, not activated yet (the run's workspace holds nothing that activates it). */
export function inactiveExtension(): vscode.Extension<RnnGradientsApi> {
  const extension = vscode.extensions.getExtension<RnnGradientsApi>(extensionId);
  assert.ok(extension, `${extensionId} is not loaded in the extension host`);
  assert.strictEqual(extension.isActive, false, 'the extension was active before the test activated it');
  return extension;
}

/**
 * The run's state before a test of a workspace without model files: the extension not yet active, one workspace
 * folder, and no model file in it.
 */
export async function noModelWorkspace(): Promise<{
  extension: vscode.Extension<RnnGradientsApi>;
  folder: vscode.WorkspaceFolder;
}> {
  const extension = inactiveExtension();
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the run has no workspace folder');
  assert.deepStrictEqual(await vscode.workspace.findFiles('**/*.rnn.json'), [], 'the workspace holds a model file');
  return { extension, folder };
}

/**
 * Registers the suite's cleanup (the recorder stopped, every editor closed) and returns what starts the recorder.
 * Call it in a describe block.
 */
export function workerRecorderOfSuite(): () => Promise<WorkerRecorder> {
  let recorder: WorkerRecorder | undefined;
  after(async () => {
    recorder?.dispose();
    await closeAll();
  });
  return async () => (recorder = await WorkerRecorder.start());
}
