// `rnn-gradients track`: the timeline of a series of checkpoints (shared/spec/gates-and-timeline.md
// section 2), once or, with --watch, as training writes them.
import { setMaxListeners } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { buildTimeline } from '../engine/timeline/timeline';
import type { TimelineEntry, TimelineFinding } from '../engine/timeline/types';
import { defaultCacheDir, TimelineCache } from '../io/timeline/cache';
import { expandInputs } from '../io/timeline/inputs';
import { MAX_MODEL_TEXT_BYTES, type BaseModel } from '../io/timeline/modelText';
import { CheckpointWatcher } from '../io/timeline/watch';
import { AnalysisError } from '../worker/client';
import { AnalysisPool, defaultPoolSize } from '../worker/pool';
import { TrackRunner } from '../worker/trackRunner';
import type { TrackArgs } from './args';
import { formatTimeline, formatWatchRow } from './timelineTable';

const EXIT_OK = 0;
const EXIT_INPUT = 2;
const EXIT_INTERRUPTED = 130;

function readBase(file: string): BaseModel | { error: string } {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_MODEL_TEXT_BYTES) throw new Error(`larger than ${MAX_MODEL_TEXT_BYTES} bytes`);
    return { file: path.resolve(file), text: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    return {
      error: `${file}:1:1: cannot read the model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    };
  }
}

/** A one-line progress bar on stderr (only on a terminal), redrawn at most every 100 ms. */
class ProgressBar {
  private last = 0;
  private shown = false;
  constructor(private readonly enabled: boolean) {}

  draw(done: number, total: number, running: number, cached: number, force = false): void {
    if (!this.enabled || total === 0) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 24;
    const filled = Math.min(width, Math.round((width * (done + running)) / total));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    process.stderr.write(
      `\r\x1b[K${bar} ${done}/${total} checkpoints analyzed${cached ? ` (${cached} from the cache)` : ''}`,
    );
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

function findingKey(f: TimelineFinding): string {
  return `${f.code}|${f.step}|${f.layer ?? ''}|${f.direction ?? ''}|${String(f.data?.file ?? '')}`;
}

/** Runs `track`; resolves to the exit code. */
export async function track(args: TrackArgs, workerPath: string): Promise<number> {
  const cwd = process.cwd();
  let base: BaseModel | undefined;
  if (args.model !== null) {
    const b = readBase(args.model);
    if ('error' in b) {
      process.stderr.write(b.error + '\n');
      return EXIT_INPUT;
    }
    base = b;
  }
  const expanded = expandInputs(args.inputs, cwd, base !== undefined, base?.file);
  if (!args.watch) {
    for (const p of expanded.problems) process.stderr.write(`rnn-gradients: ${p}\n`);
    if (expanded.files.length === 0) {
      process.stderr.write('rnn-gradients: track: no checkpoints to analyze\n');
      return EXIT_INPUT;
    }
  }
  const jobs = args.jobs ?? Math.min(defaultPoolSize(), Math.max(1, args.watch ? 8 : expanded.files.length));
  const pool = new AnalysisPool(workerPath, jobs);
  const abort = new AbortController();
  // Every queued and running analysis listens to it.
  setMaxListeners(0, abort.signal);
  const tty = process.stderr.isTTY === true;
  const bar = new ProgressBar(tty && !args.watch);
  const running = new Map<string, number>();
  let done = 0;
  let cached = 0;
  const total = expanded.files.length;
  const runner = new TrackRunner({
    pool,
    workerPath,
    rootDir: cwd,
    displayDir: cwd,
    base,
    settings: { maxLag: args.maxLag, precision: args.precision },
    cache: args.cache ? new TimelineCache(defaultCacheDir()) : undefined,
    signal: abort.signal,
    onProgress: (file, fraction) => {
      running.set(file, fraction);
      bar.draw(
        done,
        total,
        [...running.values()].reduce((a, b) => a + b, 0),
        cached,
      );
    },
  });
  try {
    if (args.watch) return await watch(args, base, runner, abort);
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      bar.draw(0, total, 0, 0, true);
      const results = await Promise.all(
        expanded.files.map(async (f) => {
          const r = await runner.analyze(f, expanded.files);
          running.delete(f);
          done++;
          if (r.cached) cached++;
          bar.draw(
            done,
            total,
            [...running.values()].reduce((a, b) => a + b, 0),
            cached,
            true,
          );
          return r;
        }),
      );
      bar.clear();
      const timeline = buildTimeline(results.map((r) => r.entry));
      const title = `Timeline of ${args.inputs.join(' ')}${base ? ` with ${args.model}` : ''}`;
      process.stdout.write(args.json ? JSON.stringify(timeline, null, 2) + '\n' : formatTimeline(timeline, title));
      const failed = timeline.entries.some((e) => e.error !== undefined) || expanded.problems.length > 0;
      return failed ? EXIT_INPUT : EXIT_OK;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (err) {
    bar.clear();
    if (err instanceof AnalysisError && err.reason === 'cancelled') {
      process.stderr.write('rnn-gradients: cancelled\n');
      return EXIT_INTERRUPTED;
    }
    throw err;
  } finally {
    pool.dispose();
  }
}

/** --watch: analyze each checkpoint once it is completely written, print a line per entry, until Ctrl+C. */
function watch(
  args: TrackArgs,
  base: BaseModel | undefined,
  runner: TrackRunner,
  abort: AbortController,
): Promise<number> {
  const entries = new Map<string, TimelineEntry>();
  const printed = new Set<string>();
  const known: string[] = [];
  let chain = Promise.resolve();
  return new Promise<number>((resolve) => {
    const watcher = new CheckpointWatcher(args.inputs, process.cwd(), base !== undefined, base?.file, (file) => {
      if (!known.includes(file)) known.push(file);
      const analysis = runner.analyze(file, known);
      // Print in the order the files became ready, each as soon as it and those before it are done.
      chain = chain.then(async () => {
        let r;
        try {
          r = await analysis;
        } catch {
          return; // cancelled on Ctrl+C
        }
        entries.set(file, r.entry);
        const timeline = buildTimeline([...entries.values()]);
        const fresh = timeline.findings.filter((f) => !printed.has(findingKey(f)));
        for (const f of fresh) printed.add(findingKey(f));
        process.stdout.write(
          args.json ? JSON.stringify({ ...r.entry, findings: fresh }) + '\n' : formatWatchRow(r.entry, fresh),
        );
      });
    });
    const onSigint = (): void => {
      watcher.stop();
      abort.abort();
      void chain.then(() => {
        if (!args.json && entries.size > 0) {
          process.stdout.write('\n' + formatTimeline(buildTimeline([...entries.values()]), 'Timeline so far'));
        }
        process.stderr.write('rnn-gradients: stopped watching\n');
        resolve(EXIT_INTERRUPTED);
      });
    };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    if (!args.json) process.stderr.write(`rnn-gradients: watching ${args.inputs.join(' ')} (Ctrl+C stops)\n`);
    watcher.start();
  });
}
