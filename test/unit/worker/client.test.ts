// AnalysisClient (src/worker/client.ts) with the built worker (dist/worker.js): results, wrong input,
// progress, cancel, timeout, a terminated worker and dispose — and that the client recovers each time.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { AnalysisClient, AnalysisError } from '../../../src/worker/client';
import type { AnalyzeParams, AnalyzeResult, ProgressMessage } from '../../../src/worker/protocol';
import { REPO_ROOT, WORKER_JS, ensureBuilt } from '../helpers/cli';
import { nonFinitePaths } from '../helpers/report';

const SMALL = fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/golden/rnn-tanh.rnn.json'), 'utf8');

/**
 * An rnn whose lag table costs O(T²·H²): H = 128 and one sequence of T = 600 steps takes about 1 s on
 * two shared cores; T = 1500 about 5 s (long enough to be cancelled, timed out or terminated mid-run).
 */
function longModel(hidden = 128, length = 1500): string {
  return JSON.stringify({
    cell: 'rnn',
    input_size: 4,
    hidden_size: hidden,
    num_layers: 1,
    init: { scheme: 'pytorch', seed: 1 },
    data: { generate: { sequences: 1, length, distribution: 'normal', scale: 1, seed: 1 } },
    loss: 'sum',
  });
}

function params(text: string): AnalyzeParams {
  // The exact lag table: the long models must run long (cancel, timeout, queueing), not as a short sample.
  return {
    text,
    filePath: path.join(REPO_ROOT, 'test.rnn.json'),
    rootDir: REPO_ROOT,
    displayPath: 'test.rnn.json',
    exact: true,
  };
}

/** Awaits a rejection and returns its AnalysisError and when (Date.now()) it arrived. */
async function rejection(p: Promise<AnalyzeResult>): Promise<{ error: AnalysisError; at: number }> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof AnalysisError, `not an AnalysisError: ${String(error)}`);
    return { error, at: Date.now() };
  }
  assert.fail('the request resolved, but a rejection was expected');
}

/** An onProgress hook and a promise of the time its first progress message arrived. */
function firstProgress(): { onProgress: (m: ProgressMessage) => void; seen: Promise<number> } {
  let resolve!: (t: number) => void;
  const seen = new Promise<number>((r) => (resolve = r));
  return { onProgress: () => resolve(Date.now()), seen };
}

/** A small request resolves with a finite loss, within `withinMs` when given. */
async function assertAnswers(client: AnalysisClient, withinMs?: number): Promise<void> {
  const started = Date.now();
  const r = await client.analyze(params(SMALL));
  if (withinMs !== undefined) assert.ok(Date.now() - started <= withinMs, `answered after ${Date.now() - started} ms`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.ok(typeof r.report.loss === 'number' && Number.isFinite(r.report.loss));
}

describe('AnalysisClient with dist/worker.js', function () {
  this.timeout(60_000);
  let client: AnalysisClient;
  before(function () {
    this.timeout(180_000);
    ensureBuilt();
  });
  beforeEach(() => {
    client = new AnalysisClient(WORKER_JS);
  });
  afterEach(() => client.dispose());

  it('a request resolves with ok:true, a finite loss and the reference loss', async () => {
    const r = await client.analyze(params(SMALL));
    assert.ok(r.ok);
    const ref = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/golden/rnn-tanh.ref.json'), 'utf8')) as {
      loss: number;
    };
    assert.ok(r.report.loss !== null && Math.abs(r.report.loss - ref.loss) <= 1e-9 * Math.abs(ref.loss));
    assert.strictEqual(r.report.file, 'test.rnn.json');
    assert.deepStrictEqual(nonFinitePaths(r.report), []);
    assert.strictEqual(client.inFlight, 0);
  });

  it('wrong input resolves with ok:false and problems naming the key', async () => {
    const r = await client.analyze(params('{"cell": "lstn", "weights": {}, "data": {"inputs": [[[1]]]}}'));
    assert.strictEqual(r.ok, false);
    assert.ok(!r.ok && r.problems.length > 0);
    if (!r.ok) {
      const p = r.problems.find((x) => x.path[0] === 'cell');
      assert.ok(p, JSON.stringify(r.problems));
      assert.match(p.message, /unknown value "lstn"/);
      assert.strictEqual(p.range.offset, '{"cell": '.length);
    }
    const syntax = await client.analyze(params('{"cell": '));
    assert.strictEqual(syntax.ok, false);
  });

  it('requests on one client run one after another and each gets its own answer', async () => {
    const [a, b] = await Promise.all([client.analyze(params(SMALL)), client.analyze({ ...params(SMALL), maxLag: 2 })]);
    assert.ok(a.ok && b.ok);
    if (a.ok && b.ok) {
      assert.strictEqual(a.report.layers[0].lags.length, 12);
      assert.strictEqual(b.report.layers[0].lags.length, 3);
    }
  });

  it('a long run reports progress with increasing fractions in [0, 1]', async () => {
    const fractions: number[] = [];
    const phases = new Set<string>();
    const r = await client.analyze(params(longModel(128, 600)), {
      onProgress: (m) => {
        fractions.push(m.fraction);
        phases.add(m.phase);
      },
    });
    assert.ok(r.ok);
    assert.ok(fractions.length >= 3, `only ${fractions.length} progress messages`);
    for (const f of fractions) assert.ok(f >= 0 && f <= 1, `fraction ${f}`);
    for (let i = 1; i < fractions.length; i++)
      assert.ok(fractions[i] >= fractions[i - 1], `fractions not increasing: ${fractions.join(', ')}`);
    assert.ok(fractions[fractions.length - 1] > fractions[0]);
    assert.ok(phases.has('lags'), [...phases].join());
  });

  it('cancel rejects with "cancelled" within 200 ms, the worker stops, and the client answers again', async () => {
    for (const wait of [0, 400]) {
      const abort = new AbortController();
      const progress = firstProgress();
      const pending = client.analyze(params(longModel()), { signal: abort.signal, onProgress: progress.onProgress });
      await progress.seen;
      await new Promise((r) => setTimeout(r, wait));
      const abortedAt = Date.now();
      abort.abort();
      const { error, at } = await rejection(pending);
      assert.strictEqual(error.reason, 'cancelled');
      assert.ok(at - abortedAt <= 200, `rejected ${at - abortedAt} ms after the abort`);
      // The worker runs one analysis at a time, so the next request is answered only after the cancelled
      // run has stopped: (answer time − its own elapsed_ms) bounds how long the worker kept running.
      const next = await client.analyze(params(SMALL));
      assert.ok(next.ok && next.report.loss !== null && Number.isFinite(next.report.loss));
      const stoppedWithin = Date.now() - abortedAt - (next.report.elapsed_ms ?? 0);
      assert.ok(stoppedWithin <= 200, `the worker kept running ${stoppedWithin} ms after the abort (wait ${wait} ms)`);
    }
    assert.strictEqual(client.inFlight, 0);
  });

  it('an already aborted signal rejects at once with "cancelled"', async () => {
    const abort = new AbortController();
    abort.abort();
    const { error } = await rejection(client.analyze(params(SMALL), { signal: abort.signal }));
    assert.strictEqual(error.reason, 'cancelled');
  });

  it('a timeout rejects with "timeout" and the client recovers', async () => {
    const started = Date.now();
    const { error, at } = await rejection(client.analyze(params(longModel()), { timeoutMs: 300 }));
    assert.strictEqual(error.reason, 'timeout');
    assert.ok(at - started >= 290 && at - started < 2000, `timed out after ${at - started} ms`);
    // a fresh worker answers at once (the timed-out run, about 5 s long, would hold up the old one)
    await assertAnswers(client, 3000);
    // a generous timeout does not fire
    const r = await client.analyze(params(SMALL), { timeoutMs: 30_000 });
    assert.ok(r.ok);
  });

  it('terminateWorker() mid-run rejects the pending request with "worker-exit"; the next request works', async () => {
    const progress = firstProgress();
    const pending = client.analyze(params(longModel()), { onProgress: progress.onProgress });
    const rejected = rejection(pending);
    await progress.seen;
    await client.terminateWorker();
    const { error } = await rejected;
    assert.strictEqual(error.reason, 'worker-exit');
    assert.strictEqual(client.inFlight, 0);
    await assertAnswers(client, 3000);
  });

  it('onWorkerEnded is told when the worker ends (terminateWorker), with whether it had answered; not on dispose()', async () => {
    const ended: boolean[] = [];
    const watched = new AnalysisClient(WORKER_JS, undefined, { onWorkerEnded: (answered) => ended.push(answered) });
    try {
      await watched.terminateWorker();
      assert.deepStrictEqual(ended, [], 'no worker had started');
      await assertAnswers(watched);
      await watched.terminateWorker();
      assert.deepStrictEqual(ended, [true], 'after terminateWorker()');
      const stopped = rejection(watched.analyze(params(longModel())));
      await watched.terminateWorker();
      assert.strictEqual((await stopped).error.reason, 'worker-exit');
      assert.deepStrictEqual(ended, [true, false], 'a worker stopped before it answered');
      const pending = rejection(watched.analyze(params(longModel())));
      await new Promise((r) => setTimeout(r, 100));
      watched.dispose();
      assert.strictEqual((await pending).error.reason, 'disposed');
      assert.deepStrictEqual(ended, [true, false], 'after dispose()');
    } finally {
      watched.dispose();
    }
  });

  it('a model that exhausts the worker\'s heap rejects with "worker-error" saying it ran out of memory; the next request works', async () => {
    // Inline weights of a 600-unit rnn: 2.3 MB of JSON, whose parse tree alone exceeds a 32 MB heap.
    const hidden = 600;
    const row = Array.from({ length: hidden }, (_, j) => (((j % 7) - 3) * 0.001).toFixed(3)).join(',');
    const big = `{"cell": "rnn", "weights": {"weight_ih_l0": [${Array.from({ length: hidden }, () => '[0.1]').join(',')}], "weight_hh_l0": [${Array.from({ length: hidden }, () => `[${row}]`).join(',')}]}, "data": {"inputs": [[[1], [0.5]]]}, "loss": "sum"}`;
    const small = new AnalysisClient(WORKER_JS, { maxOldGenerationSizeMb: 32 });
    try {
      const { error } = await rejection(small.analyze(params(big)));
      assert.strictEqual(error.reason, 'worker-error');
      assert.match(error.message, /ran out of memory \(the worker's heap is bounded at 32 MB\)/);
      assert.strictEqual(small.inFlight, 0);
      await assertAnswers(small);
    } finally {
      small.dispose();
    }
  });

  it('dispose() rejects pending requests with "disposed", and later requests too', async () => {
    const progress = firstProgress();
    const a = client.analyze(params(longModel()), { onProgress: progress.onProgress });
    const b = client.analyze(params(SMALL));
    await progress.seen;
    client.dispose();
    const [ea, eb] = await Promise.all([rejection(a), rejection(b)]);
    assert.strictEqual(ea.error.reason, 'disposed');
    assert.strictEqual(eb.error.reason, 'disposed');
    const { error } = await rejection(client.analyze(params(SMALL)));
    assert.strictEqual(error.reason, 'disposed');
  });

  it('niceness lowers the priority of the worker thread only (Linux: nice values are per thread)', async function () {
    if (process.platform !== 'linux') this.skip();
    /** Nice value (field 19 of /proc/<pid>/task/<tid>/stat) of a thread of this process. */
    const niceOf = (tid: string): number | undefined => {
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      } catch {
        return undefined; // the thread ended between listing and reading (an earlier test's worker exiting)
      }
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    /** Nice values of every thread, the main thread (whose thread id is the process id) first. */
    const niceValues = (): number[] => {
      const main = String(process.pid);
      const others = fs.readdirSync('/proc/self/task').filter((tid) => tid !== main);
      return [main, ...others].map(niceOf).filter((n): n is number => n !== undefined);
    };
    // The main thread keeps whatever priority the test run started with (a CI job may itself run niced).
    const mainNice = niceValues()[0];
    const before = niceValues().filter((nice) => nice === 10).length;
    const low = new AnalysisClient(WORKER_JS, undefined, { niceness: 10 });
    try {
      const r = await low.analyze(params(SMALL));
      assert.ok(r.ok);
      assert.ok(niceValues().filter((nice) => nice === 10).length > before, 'no thread runs at nice 10');
      assert.strictEqual(niceValues()[0], mainNice, 'the main thread lost its priority');
    } finally {
      low.dispose();
    }
  });

  it('lowerPriorityAfterMs: the worker thread keeps the normal priority through a short analysis, and takes the lower one in a long run', async function () {
    if (process.platform !== 'linux') this.skip();
    this.timeout(120000);
    const niceTen = (): number =>
      fs.readdirSync('/proc/self/task').filter((tid) => {
        try {
          const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) === 10;
        } catch {
          return false;
        }
      }).length;
    /** Threads at nice 10 that a client adds while its worker lives after `run`. */
    /** Waits until the count of threads at nice 10 holds still for a second (earlier workers finish exiting). */
    const settled = async (): Promise<number> => {
      let last = niceTen();
      for (let still = 0, i = 0; still < 4 && i < 60; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const now = niceTen();
        still = now === last ? still + 1 : 0;
        last = now;
      }
      return last;
    };
    const addedBy = async (options: { niceness: number; lowerPriorityAfterMs?: number }, text: string) => {
      const before = await settled();
      const client = new AnalysisClient(WORKER_JS, undefined, options);
      try {
        assert.ok((await client.analyze(params(text))).ok);
        // The GEMM helpers start in the background (they may join after the first products).
        await new Promise((r) => setTimeout(r, 1000));
        return niceTen() - before;
      } finally {
        await client.terminateWorker();
        client.dispose();
        await settled();
      }
    };
    const immediate = await addedBy({ niceness: 10 }, SMALL);
    const deferredShort = await addedBy({ niceness: 10, lowerPriorityAfterMs: 600000 }, SMALL);
    const deferredLong = await addedBy({ niceness: 10, lowerPriorityAfterMs: 1 }, longModel(32, 400));
    assert.ok(immediate >= 1, `no thread at nice 10 (${immediate})`);
    assert.strictEqual(deferredShort, immediate - 1, 'the worker thread took nice 10 during a short analysis');
    assert.strictEqual(deferredLong, immediate, 'the worker thread kept the normal priority in a long run');
  });
});
