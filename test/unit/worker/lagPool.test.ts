// The analysis worker's lag threads (src/worker/lagPool.ts, lagWorker.ts): the built worker's split runs
// agree with the in-process path, cancel and priority, and threads that fail or die.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { analyzeModel } from '../../../src/engine/analyze';
import { computeLagShare, lagFlopsPerRow, type LagJob } from '../../../src/engine/lagShare';
import { ChunkClaims, chunkLayoutOf, newChunkShared } from '../../../src/engine/lagChunks';
import type { Model } from '../../../src/engine/model/types';
import { KernelMatMul, plainMatMul } from '../../../src/engine/matmul';
import { createGemmKernel } from '../../../src/engine/kernels';
import { AnalysisClient, AnalysisError } from '../../../src/worker/client';
import type { AnalyzeParams } from '../../../src/worker/protocol';
import { LagPool } from '../../../src/worker/lagPool';
import * as os from 'os';
import { REPO_ROOT, WORKER_JS } from '../helpers/cli';
import { generatedModelText as modelText, parsedModel as parse } from '../helpers/models';
import { assertSameLags } from '../helpers/report';

describe('lag threads of the built worker (dist/worker.js, dist/lag-worker.js)', function () {
  this.timeout(120_000);
  let client: AnalysisClient;
  before(function () {
    this.timeout(180_000);
    if (!fs.existsSync(WORKER_JS) || !fs.existsSync(path.join(REPO_ROOT, 'dist', 'lag-worker.js'))) {
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
    }
  });
  beforeEach(() => {
    client = new AnalysisClient(WORKER_JS);
  });
  afterEach(() => client.dispose());

  function params(text: string): AnalyzeParams {
    return {
      text,
      filePath: path.join(REPO_ROOT, 'split.rnn.json'),
      rootDir: REPO_ROOT,
      displayPath: 'split.rnn.json',
      heatmap: { sequence: 0, maxSize: 50 },
      // The exact lag table: under the default lag budget these models' tables are sampled in one short run,
      // with no split passes to compare, cancel or report partially.
      exact: true,
    };
  }

  // lstm: large enough to split (2e9 flops); rnn: also to take two passes (4e9), against the unsplit
  // kernel path (which lagKernelPath.test.ts checks against the plain path) to keep the test short.
  for (const [cell, layers, partial] of [
    ['lstm', 2, false],
    ['rnn', 1, true],
  ] as const) {
    it(`${cell}, ${layers} layer(s)${partial ? ', with a partial report' : ''}: the same report as the in-process unsplit path`, async () => {
      const text = cell === 'rnn' ? modelText(cell, 128, layers, 500, 2) : modelText(cell, 48, layers, 300, 2);
      const kernel = cell === 'rnn' ? new KernelMatMul(createGemmKernel({ kind: 'wasm' })) : undefined;
      const plain = analyzeModel(parse(text), {
        file: 'split.rnn.json',
        heatmap: { sequence: 0, maxSize: 50 },
        matmul: kernel,
      });
      kernel?.dispose();
      const fractions: number[] = [];
      let partials = 0;
      const r = await client.analyze(
        { ...params(text), partial },
        {
          onProgress: (m) => {
            fractions.push(m.fraction);
            if (m.partial) partials++;
          },
        },
      );
      assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
      // f64 kernel with fused multiply-adds: rounding only.
      assertSameLags(plain, r.report, 1e-9);
      // The forward passes run on the worker's kernel too (fused multiply-adds): the loss to rounding.
      assert.ok(
        r.report.loss !== null &&
          plain.loss !== null &&
          Math.abs(r.report.loss - plain.loss) <= 1e-12 * Math.abs(plain.loss),
        `loss ${r.report.loss} vs ${plain.loss}`,
      );
      assert.deepStrictEqual(
        r.report.findings.map((f) => f.code),
        plain.findings.map((f) => f.code),
      );
      assert.ok(r.report.heatmaps && plain.heatmaps);
      r.report.heatmaps.forEach((h, k) =>
        h.log10_norm.forEach((v, i) => {
          const w = plain.heatmaps![k].log10_norm[i];
          assert.ok(
            v === w || (v !== null && w !== null && Math.abs(v - w) <= 1e-9),
            `map ${k} cell ${i}: ${v} vs ${w}`,
          );
        }),
      );
      for (let i = 1; i < fractions.length; i++)
        assert.ok(fractions[i] >= fractions[i - 1], `fractions not increasing: ${fractions.join(', ')}`);
      for (const f of fractions) assert.ok(f >= 0 && f <= 1);
      if (partial) assert.ok(partials >= 1, 'no partial report');
      assert.ok(
        fractions.length === 0 || fractions[fractions.length - 1] > 0.5,
        `last fraction ${fractions[fractions.length - 1]}`,
      );
    });
  }

  it('cancel during a split run rejects within 200 ms and the worker stops within 200 ms', async () => {
    const text = modelText('rnn', 128, 1, 1500, 1);
    for (const wait of [100, 600]) {
      const abort = new AbortController();
      let seen!: () => void;
      const progressed = new Promise<void>((r) => (seen = r));
      const pending = client.analyze(params(text), { signal: abort.signal, onProgress: () => seen() });
      await progressed;
      await new Promise((r) => setTimeout(r, wait));
      const abortedAt = Date.now();
      abort.abort();
      try {
        await pending;
        assert.fail('resolved');
      } catch (e) {
        assert.ok(e instanceof AnalysisError && e.reason === 'cancelled', String(e));
        assert.ok(Date.now() - abortedAt <= 200, `rejected ${Date.now() - abortedAt} ms after the abort`);
      }
      // The next split run waits for the lag threads: it starts only after they stopped.
      const next = await client.analyze({ ...params(modelText('rnn', 96, 1, 300, 1)), heatmap: null });
      assert.ok(next.ok);
      const stoppedWithin = Date.now() - abortedAt - (next.report.elapsed_ms ?? 0);
      assert.ok(stoppedWithin <= 200 + 300, `the worker kept running ${stoppedWithin} ms after the abort`);
    }
  });

  it("lag threads run at the analysis worker's lower priority (Linux)", async function () {
    if (process.platform !== 'linux') this.skip();
    const niceOf = (tid: string): number => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const niced = (): number => fs.readdirSync('/proc/self/task').filter((tid) => niceOf(tid) === 10).length;
    // The main thread keeps whatever priority the test run started with (a CI job may itself run niced).
    const mainNice = niceOf(String(process.pid));
    const low = new AnalysisClient(WORKER_JS, undefined, { niceness: 10 });
    try {
      // An unsplit run starts the analysis worker (and its GEMM helpers); a split run adds the lag thread(s).
      const small = await low.analyze({ ...params(modelText('rnn', 8, 1, 30, 1)), heatmap: null });
      assert.ok(small.ok);
      const before = niced();
      const r = await low.analyze({ ...params(modelText('rnn', 128, 1, 600, 1)), heatmap: null });
      assert.ok(r.ok);
      assert.ok(
        niced() >= before + os.availableParallelism() - 1 || os.availableParallelism() === 1,
        `${niced() - before} more threads at nice 10`,
      );
      assert.strictEqual(niceOf(String(process.pid)), mainNice, 'the main thread lost its priority');
    } finally {
      low.dispose();
    }
  });
});

describe('lag threads that fail or die (LagPool)', function () {
  this.timeout(30_000);
  const model = parse(modelText('rnn', 8, 1, 30));
  /** A job of the whole table of `m` (every chunk to claim), with its own shared state. */
  const jobOf = (m: Model, maxLag: number): LagJob => ({
    maxLag,
    heatmap: null,
    chunks: newChunkShared(chunkLayoutOf(m, maxLag, lagFlopsPerRow(m), 0), m.layers.length, 0),
    spectra: null,
  });
  const job = jobOf(model, 29);
  function request(text: string) {
    return {
      requestId: 1,
      text,
      filePath: path.join(REPO_ROOT, 'x.rnn.json'),
      rootDir: REPO_ROOT,
      precision: 'f64' as const,
      model,
      matmul: () => plainMatMul,
    };
  }

  it('a thread that dies rejects the run after the stall timeout, not a hang', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lag-pool-'));
    const script = path.join(dir, 'dies.js');
    fs.writeFileSync(script, "require('worker_threads').parentPort.on('message', () => process.exit(1));\n");
    const pool = new LagPool({ helpers: 1, script, stallMs: 500 });
    try {
      const s = pool.splitter(request(modelText('rnn', 8, 1, 30)));
      s.start([job]);
      const t0 = Date.now();
      assert.throws(() => s.finish(() => undefined), /stopped responding/);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      pool.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an error in a lag thread rejects the run with its message; the cancel check is polled while waiting', () => {
    const pool = new LagPool({ helpers: 1, script: path.join(REPO_ROOT, 'dist', 'lag-worker.js') });
    try {
      const bad = pool.splitter(request('{"cell": "rnn"'));
      bad.start([job]);
      assert.throws(() => bad.finish(() => undefined), /A lag thread failed: /);
      // The same thread then serves a good job, whose result matches the in-process share.
      const good = pool.splitter(request(modelText('rnn', 8, 1, 30)));
      const goodJob = jobOf(model, 29);
      good.start([goodJob]);
      const [p] = good.finish(() => undefined);
      assert.strictEqual(p.nonFinite, false);
      const refJob = jobOf(model, 29);
      computeLagShare(model, refJob, {
        isCancelled: () => false,
        cancelled: () => new Error(),
        onRows: () => undefined,
      });
      // Every chunk came back through the ring, each the same as the in-process thread's.
      const layout = chunkLayoutOf(model, 29, lagFlopsPerRow(model), 0);
      const got = new ChunkClaims(layout, 1, goodJob.chunks);
      const want = new ChunkClaims(layout, 1, refJob.chunks);
      assert.ok(layout.total > 1);
      for (let g = 0; g < layout.total; g++) {
        const a = got.take(g);
        const b = want.take(g);
        assert.ok(a && b, `chunk ${g} missing`);
        assert.deepStrictEqual(a[0].pack(), b[0].pack());
      }
      // A cancel seen while waiting stops the wait at once.
      const big = parse(modelText('rnn', 64, 1, 2000, 1));
      const slow = pool.splitter({ ...request(modelText('rnn', 64, 1, 2000, 1)), model: big });
      slow.start([jobOf(big, 1999)]);
      const t0 = Date.now();
      let polls = 0;
      assert.throws(
        () =>
          slow.finish(() => {
            if (++polls > 3) throw new Error('cancelled here');
          }),
        /cancelled here/,
      );
      assert.ok(Date.now() - t0 < 1000);
      slow.abort();
    } finally {
      pool.dispose();
    }
  });
});
