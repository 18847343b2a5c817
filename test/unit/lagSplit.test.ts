// Splitting the lag table's columns (src/engine/lagShare.ts): column subsets merged equal the whole
// table, the engine's split path equals the plain path, and the built worker's lag threads agree.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { analyzeModel } from '../../src/engine/analyze';
import { buildCells } from '../../src/engine/cells';
import { accumulateLags, lagWork, lagWorkOf } from '../../src/engine/lags';
import { HeatmapCollector } from '../../src/engine/heatmap';
import {
  computeLagShare,
  type LagJob,
  type LagPartial,
  type LagSplitter,
  packLagPartial,
  unpackLagPartial,
  lagPartialLength,
  columnShares,
} from '../../src/engine/lagShare';
import { LagStats } from '../../src/engine/logscale';
import { LossFunction } from '../../src/engine/loss';
import { KernelMatMul, plainMatMul } from '../../src/engine/matmul';
import { createGemmKernel } from '../../src/engine/kernels';
import { parseModel } from '../../src/engine/model/parse';
import type { Model } from '../../src/engine/model/types';
import { forwardSequence } from '../../src/engine/network';
import type { Report } from '../../src/engine/report/types';
import { AnalysisClient, AnalysisError } from '../../src/worker/client';
import type { AnalyzeParams } from '../../src/worker/protocol';
import { LagPool } from '../../src/worker/lagPool';
import * as os from 'os';
import { REPO_ROOT, WORKER_JS } from './helpers/cli';
import { generatedModelText as modelText } from './helpers/models';

function parse(text: string): Model {
  const parsed = parseModel(text);
  assert.ok(parsed.model, JSON.stringify(parsed.problems));
  return parsed.model;
}

/** log10 fields of two lag tables agree to `tol` (absolute, in log10), counts exactly. */
function assertSameLags(a: Report, b: Report, tol: number): void {
  assert.strictEqual(b.layers.length, a.layers.length);
  a.layers.forEach((layer, k) => {
    assert.strictEqual(b.layers[k].lags.length, layer.lags.length, `layer ${k}: number of lags`);
    layer.lags.forEach((e, lag) => {
      const o = b.layers[k].lags[lag];
      assert.strictEqual(o.count, e.count, `layer ${k} lag ${lag}: count`);
      for (const key of ['log10_mean', 'log10_min', 'log10_max', 'log10_contribution_mean'] as const) {
        const x = e[key] ?? null;
        const y = o[key] ?? null;
        if (x === null || y === null) assert.strictEqual(y, x, `layer ${k} lag ${lag} ${key}`);
        else assert.ok(Math.abs(x - y) <= tol, `layer ${k} lag ${lag} ${key}: ${x} vs ${y}`);
      }
    });
  });
}

/** Runs every other thread's share in this thread, at finish(): the engine's split path without threads. */
class InProcessSplitter implements LagSplitter {
  readonly matmul = plainMatMul;
  private jobs: LagJob[] = [];
  started = 0;
  aborted = 0;
  readonly minFlops = 1e6;
  constructor(
    readonly threads: number,
    private readonly model: Model,
  ) {}
  start(jobs: LagJob[]): void {
    this.jobs = jobs;
    this.started++;
  }
  progress(): number {
    return 0;
  }
  finish(check: () => void): LagPartial[] {
    return this.jobs.map((job) => {
      const p = computeLagShare(this.model, job, {
        isCancelled: () => false,
        cancelled: () => new Error('cancelled'),
        onRows: () => check(),
      });
      // Through the packed form, as the worker threads hand it over.
      const data = new Float64Array(new SharedArrayBuffer(8 * lagPartialLength(this.model, job)));
      packLagPartial(p, data);
      return unpackLagPartial(this.model, job, data);
    });
  }
  abort(): void {
    this.aborted++;
  }
}

describe('lag table split by columns', () => {
  for (const [cell, layers] of [
    ['rnn', 1],
    ['lstm', 2],
    ['gru', 1],
    ['gru', 2],
  ] as const) {
    it(`${cell}, ${layers} layer(s): columns {stride 3, offset 0..2} merged equal the whole table`, () => {
      const model = parse(modelText(cell, 12, layers, 40));
      const cells = buildCells(model);
      const loss = new LossFunction(model);
      for (const maxLag of [39, 7]) {
        const whole = model.layers.map(() => new LagStats(maxLag + 1));
        const merged = model.layers.map(() => new LagStats(maxLag + 1));
        const heatWhole = new HeatmapCollector(40, layers, 16);
        const heatMerged = new HeatmapCollector(40, layers, 16);
        for (const seq of model.sequences) {
          const fwd = forwardSequence(model, cells, loss, seq);
          let rowsWhole = 0;
          accumulateLags({
            cells,
            fwd,
            maxLag,
            stats: whole,
            hooks: { step: (r) => (rowsWhole = r) },
            heatmap: heatWhole,
          });
          assert.strictEqual(rowsWhole, lagWork(seq.length, maxLag));
          let rowsParts = 0;
          for (let offset = 0; offset < 3; offset++) {
            const part = model.layers.map(() => new LagStats(maxLag + 1));
            const heat = new HeatmapCollector(40, layers, 16);
            let rows = 0;
            accumulateLags({
              cells,
              fwd,
              maxLag,
              stats: part,
              hooks: { step: (r) => (rows = r) },
              heatmap: heat,
              safeExponent: 200,
              subset: { stride: 3, offset },
            });
            assert.strictEqual(rows, lagWorkOf(seq.length, maxLag, { stride: 3, offset }));
            rowsParts += rows;
            part.forEach((s, k) => merged[k].merge(LagStats.unpack(maxLag + 1, s.pack())));
            heatMerged.merge(heat.cells);
          }
          assert.strictEqual(rowsParts, rowsWhole);
        }
        whole.forEach((s, k) => {
          assert.strictEqual(merged[k].measuredLags, s.measuredLags);
          for (let lag = 0; lag <= maxLag; lag++) {
            const a = s.entry(lag);
            const b = merged[k].entry(lag);
            assert.strictEqual(b.count, a.count);
            for (const key of ['log10Mean', 'log10Min', 'log10Max', 'log10Contribution'] as const) {
              const x = a[key];
              const y = b[key];
              if (x === null || y === null) assert.strictEqual(y, x, `${key} lag ${lag}`);
              else assert.ok(Math.abs(x - y) <= 1e-12, `layer ${k} lag ${lag} ${key}: ${x} vs ${y}`);
            }
          }
        });
        heatWhole.cells.forEach((c, k) => assert.deepStrictEqual(heatMerged.cells[k], c));
      }
    });
  }

  it('stride 1 (and no subset) is the plain recursion, bit for bit', () => {
    const model = parse(modelText('lstm', 10, 2, 30));
    const cells = buildCells(model);
    const fwd = forwardSequence(model, cells, new LossFunction(model), model.sequences[0]);
    const a = model.layers.map(() => new LagStats(30));
    const b = model.layers.map(() => new LagStats(30));
    accumulateLags({ cells, fwd, maxLag: 29, stats: a, hooks: { step: () => undefined }, heatmap: null });
    accumulateLags({
      cells,
      fwd,
      maxLag: 29,
      stats: b,
      hooks: { step: () => undefined },
      heatmap: null,
      safeExponent: 200,
      subset: { stride: 1, offset: 0 },
    });
    a.forEach((s, k) => assert.deepStrictEqual(b[k].pack(), s.pack()));
  });

  it('column shares cover every column once and give the caller less when it has extra work', () => {
    for (const threads of [2, 3, 4, 8]) {
      for (const extra of [0, 1e4, 1e9]) {
        const shares = columnShares(threads, [1000, 300], 999, extra);
        assert.strictEqual(shares.length, threads);
        for (let t = 0; t < 2000; t++) {
          const owners = shares.filter((s) => (t - s.offset + 1000 * s.stride) % s.stride < (s.width ?? 1));
          assert.strictEqual(owners.length, 1, `column ${t}, ${threads} threads`);
        }
        for (const s of shares) assert.ok((s.width ?? 1) >= 1);
        // Without extra work every share has about the same row-steps.
        if (extra === 0) {
          const work = shares.map((s) => lagWorkOf(1000, 999, s) + lagWorkOf(300, 999, s));
          assert.ok(Math.max(...work) <= 1.05 * Math.min(...work), `${threads} threads: ${work.join(', ')}`);
        }
      }
      assert.ok(
        (columnShares(threads, [1000], 999, 1e5)[0].width ?? 1) < (columnShares(threads, [1000], 999, 0)[0].width ?? 1),
      );
    }
  });

  for (const [cell, layers, threads] of [
    ['rnn', 1, 3],
    ['lstm', 2, 2],
    ['gru', 2, 4],
  ] as const) {
    it(`${cell}, ${layers} layer(s), ${threads} threads: the engine's split path equals the plain path`, () => {
      const text = modelText(cell, 16, layers, 150, 3);
      const model = parse(text);
      const heatmap = { sequence: 1, maxSize: 64 };
      const plain = analyzeModel(parse(text), { file: 'x', heatmap });
      const splitter = new InProcessSplitter(threads, model);
      const split = analyzeModel(model, { file: 'x', heatmap, lagSplit: splitter });
      assert.strictEqual(splitter.started, 1, 'the table was split');
      assertSameLags(plain, split, 1e-12);
      assert.strictEqual(split.loss, plain.loss);
      assert.deepStrictEqual(split.heatmaps, plain.heatmaps);
      // Findings carry the fitted slopes: equal to rounding.
      assert.deepStrictEqual(
        split.findings.map((f) => [f.code, f.message]),
        plain.findings.map((f) => [f.code, f.message]),
      );
      assert.deepStrictEqual(split.clipping, plain.clipping);
    });
  }

  it('a small table is not split; a cancelled split run aborts the other threads', () => {
    const small = parse(modelText('rnn', 8, 1, 20));
    const s1 = new InProcessSplitter(2, small);
    analyzeModel(small, { file: 'x', lagSplit: s1 });
    assert.strictEqual(s1.started, 0);
    const big = parse(modelText('rnn', 16, 1, 300));
    const s2 = new InProcessSplitter(2, big);
    let calls = 0;
    assert.throws(() => analyzeModel(big, { file: 'x', lagSplit: s2, isCancelled: () => ++calls > 50 }), /cancelled/);
    assert.strictEqual(s2.started, 1);
    assert.strictEqual(s2.aborted, 1);
  });
});

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
      assert.strictEqual(r.report.loss, plain.loss);
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
      assert.strictEqual(niceOf(String(process.pid)), 0, 'the main thread lost its priority');
    } finally {
      low.dispose();
    }
  });
});

describe('lag threads that fail or die (LagPool)', function () {
  this.timeout(30_000);
  const model = parse(modelText('rnn', 8, 1, 30));
  const job = { maxLag: 29, heatmap: null, share: { stride: 2, offset: 1 } };
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
      good.start([job]);
      const [p] = good.finish(() => undefined);
      const ref = computeLagShare(model, job, {
        isCancelled: () => false,
        cancelled: () => new Error(),
        onRows: () => undefined,
      });
      p.stats.forEach((st, k) => assert.deepStrictEqual(st.pack(), ref.stats[k].pack()));
      // A cancel seen while waiting stops the wait at once.
      const big = parse(modelText('rnn', 64, 1, 2000, 1));
      const slow = pool.splitter({ ...request(modelText('rnn', 64, 1, 2000, 1)), model: big });
      slow.start([{ maxLag: 1999, heatmap: null, share: { stride: 2, offset: 1 } }]);
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
