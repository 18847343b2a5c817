// Splitting the lag table's columns (src/engine/lagShare.ts): column subsets merged equal the whole
// table, and the engine's split path equals the plain path.
import * as assert from 'assert';
import { analyzeModel } from '../../../src/engine/analyze';
import { buildCells } from '../../../src/engine/cells';
import { accumulateLags, inSubset, lagWork, lagWorkOf } from '../../../src/engine/lags';
import { HeatmapCollector } from '../../../src/engine/heatmap';
import {
  computeLagShare,
  type LagJob,
  type LagPartial,
  type LagSplitter,
  packLagPartial,
  unpackLagPartial,
  lagPartialLength,
  lagFlopsPerRow,
} from '../../../src/engine/lagShare';
import { LagStats } from '../../../src/engine/logscale';
import {
  ChunkLayout,
  chunkLayoutOf,
  chunkShares,
  newChunkShared,
  type ChunkShared,
} from '../../../src/engine/lagChunks';
import { LossFunction } from '../../../src/engine/loss';
import { plainMatMul } from '../../../src/engine/matmul';
import type { Model } from '../../../src/engine/model/types';
import { forwardSequence } from '../../../src/engine/network';
import { generatedModelText as modelText, parsedModel as parse } from '../helpers/models';
import { assertSameLags } from '../helpers/report';
import { threadCpuMs, type LagTiming } from '../../../src/engine/analysis/recursionClock';
import { layerSpectra } from '../../../src/engine/analysis/reportBuilder';
import { newSpectraShared, SpectraClaims, spectraTasks } from '../../../src/engine/spectraTasks';

/**
 * Runs the other threads' jobs in this thread: the engine's split path without threads. With `limits`, job i
 * runs at start(), before the caller, claiming at most limits[i] chunks (the caller takes the rest); without, the
 * jobs run at finish(), after the caller (they find what it left).
 */
class InProcessSplitter implements LagSplitter {
  readonly matmul = plainMatMul;
  private jobs: LagJob[] = [];
  private early: LagPartial[] | null = null;
  started = 0;
  aborted = 0;
  readonly minFlops = 1e6;
  constructor(
    readonly threads: number,
    private readonly model: Model,
    private readonly limits?: number[],
  ) {}
  private run(job: LagJob, check: () => void, claimLimit?: number): LagPartial {
    const p = computeLagShare(this.model, job, {
      isCancelled: () => false,
      cancelled: () => new Error('cancelled'),
      onRows: () => check(),
      claimLimit,
    });
    // Through the packed form, as the worker threads hand it over.
    const data = new Float64Array(new SharedArrayBuffer(8 * lagPartialLength(this.model, job)));
    packLagPartial(p, data);
    return unpackLagPartial(this.model, job, data);
  }
  start(jobs: LagJob[]): void {
    this.jobs = jobs;
    this.started++;
    const limits = this.limits;
    this.early = limits ? jobs.map((job, i) => this.run(job, () => undefined, limits[i])) : null;
  }
  progress(): number {
    return 0;
  }
  finish(check: () => void): LagPartial[] {
    check();
    return this.early ?? this.jobs.map((job) => this.run(job, check));
  }
  abort(): void {
    this.aborted++;
  }
}

/** Fresh shared chunk state of a model's full table (every sequence cut into chunks). */
function sharedChunks(model: Model, maxLag: number): ChunkShared {
  const layout = chunkLayoutOf(model, maxLag, lagFlopsPerRow(model), 0);
  return newChunkShared(layout, model.layers.length, 0);
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
            traces: fwd.traces,
            seeds: fwd.seeds,
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
              traces: fwd.traces,
              seeds: fwd.seeds,
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
    accumulateLags({
      cells,
      traces: fwd.traces,
      seeds: fwd.seeds,
      maxLag: 29,
      stats: a,
      hooks: { step: () => undefined },
      heatmap: null,
    });
    accumulateLags({
      cells,
      traces: fwd.traces,
      seeds: fwd.seeds,
      maxLag: 29,
      stats: b,
      hooks: { step: () => undefined },
      heatmap: null,
      safeExponent: 200,
      subset: { stride: 1, offset: 0 },
    });
    a.forEach((s, k) => assert.deepStrictEqual(b[k].pack(), s.pack()));
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
      const splitter = new InProcessSplitter(threads, model, [3, 2, 1].slice(0, threads - 1));
      const split = analyzeModel(model, { file: 'x', heatmap, lagSplit: splitter, lagChunkMinFlops: 0 });
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

  it("times the full table's recursion on every thread (LagTiming), not a sampled table, and not in the report", () => {
    const text = modelText('rnn', 16, 1, 300, 2);
    const model = parse(text);
    const timings: LagTiming[] = [];
    const splitter = new InProcessSplitter(3, model, [2, 2]);
    const report = analyzeModel(model, {
      file: 'x',
      lagSplit: splitter,
      lagChunkMinFlops: 0,
      onLagTiming: (t) => timings.push(t),
    });
    assert.strictEqual(splitter.started, 1, 'the table was split');
    assert.strictEqual(timings.length, 1);
    const t = timings[0];
    assert.strictEqual(t.threads, 3);
    assert.strictEqual(t.busySeconds.length, 3);
    for (const b of t.busySeconds) assert.ok(b > 0 && b <= t.seconds + 1e-9, `busy ${b} of ${t.seconds}`);
    assert.doesNotMatch(JSON.stringify(report), /busySeconds/);
    // One thread: its own walks.
    const alone: LagTiming[] = [];
    analyzeModel(parse(text), { file: 'x', onLagTiming: (x) => alone.push(x) });
    assert.strictEqual(alone.length, 1);
    assert.strictEqual(alone[0].threads, 1);
    // A sampled table is not the full recursion: no timing.
    const sampled: LagTiming[] = [];
    const r = analyzeModel(parse(text), { file: 'x', lagBudgetRows: 1000, onLagTiming: (x) => sampled.push(x) });
    assert.notStrictEqual(r.lag_sampling, null);
    assert.strictEqual(sampled.length, 0);
  });

  it("threadCpuMs counts this thread's CPU time: a busy wait adds to it, a sleep hardly does", async () => {
    const spin = (ms: number): void => {
      const end = Date.now() + ms;
      while (Date.now() < end);
    };
    const c0 = threadCpuMs();
    const t0 = Date.now();
    spin(60);
    const busy = threadCpuMs() - c0;
    const wall = Date.now() - t0;
    // Within a tick (up to 10 ms) of the wall time: the count is brought up to date at ticks.
    assert.ok(busy > wall / 2 && busy <= wall + 10, `cpu ${busy} ms in ${wall} ms of busy wait`);
    const c1 = threadCpuMs();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.ok(threadCpuMs() - c1 < 20, `cpu ${threadCpuMs() - c1} ms while asleep 60 ms`);
  });

  it("a packed partial keeps its statistics and the thread's span", () => {
    const model = parse(modelText('gru', 8, 2, 40, 1));
    const job: LagJob = {
      maxLag: 39,
      heatmap: { sequence: 0, maxSize: 16 },
      chunks: sharedChunks(model, 39),
      spectra: null,
    };
    const p = computeLagShare(model, job, {
      isCancelled: () => false,
      cancelled: () => new Error('cancelled'),
      onRows: () => undefined,
    });
    assert.ok(p.span.end >= p.span.start && p.span.busy > 0 && p.span.busy <= p.span.end - p.span.start + 1e-9);
    // The scheduler's count is brought up to date at ticks (threadCpuMs): a walk of a few ms may read 0, or a tick more.
    assert.ok(p.span.cpu >= 0 && p.span.cpu <= p.span.busy + 10, `cpu ${p.span.cpu} ms, busy ${p.span.busy} ms`);
    const data = new Float64Array(lagPartialLength(model, job));
    packLagPartial(p, data);
    const q = unpackLagPartial(model, job, data);
    assert.deepStrictEqual(q.span, p.span);
    assert.deepStrictEqual(q.heatmap, p.heatmap);
    assert.strictEqual(q.nonFinite, p.nonFinite);
  });

  it('chunks: every column of a sequence in exactly one chunk, guided sizes, work spread evenly over t', () => {
    const shares = chunkShares();
    assert.ok(Math.abs(shares.reduce((a, x) => a + x, 0) - 1) < 1e-12);
    for (let i = 1; i < shares.length; i++) assert.ok(shares[i] <= shares[i - 1] + 1e-12, `shares ${shares.join()}`);
    // About 30% of what is left, at least 1/16, the last one what remains.
    assert.ok(shares[0] <= 0.35 && Math.min(...shares.slice(0, -1)) >= 1 / 16 - 1e-12, `shares ${shares.join()}`);
    assert.ok(
      shares.length >= 4 && shares.length <= 16 && shares[shares.length - 1] <= 1 / 16,
      `shares ${shares.join()}`,
    );
    const layout = new ChunkLayout([1000, 37, 5], { layers: 1, directions: 1 }, 999, 1e3, 1e9);
    assert.deepStrictEqual(Array.from(layout.counts), [shares.length, 1, 1], 'small sequences are one chunk');
    assert.deepStrictEqual(Array.from(layout.first), [0, shares.length, shares.length + 1]);
    const owner = new Int32Array(1000).fill(-1);
    const total = lagWorkOf(1000, 999);
    for (let c = 0; c < shares.length; c++) {
      const subset = layout.subset(0, c);
      for (let t = 0; t < 1000; t++) {
        if (!inSubset(t, subset)) continue;
        assert.strictEqual(owner[t], -1, `column ${t} in chunks ${owner[t]} and ${c}`);
        owner[t] = c;
      }
      // Each chunk's work is about its share of the sequence's (short and long columns alike).
      const work = lagWorkOf(1000, 999, subset) / total;
      assert.ok(Math.abs(work - shares[c]) <= 0.25 * shares[c] + 0.002, `chunk ${c}: work ${work}, share ${shares[c]}`);
    }
    assert.ok(
      owner.every((c) => c >= 0),
      'every column has a chunk',
    );
  });

  for (const [cell, layers, bidirectional] of [
    ['rnn', 1, false],
    ['lstm', 2, false],
    ['gru', 1, true],
    ['lstm', 2, true],
  ] as const) {
    it(`${cell}, ${layers} layer(s)${bidirectional ? ', bidirectional' : ''}: the same report to the bit for 1, 2 and 3 threads and any claim order`, () => {
      const text = JSON.stringify({
        ...(JSON.parse(modelText(cell, 12, layers, 90, 3)) as object),
        bidirectional,
      });
      const heatmap = { sequence: 1, maxSize: 32 };
      const run = (splitter?: InProcessSplitter): string => {
        const r = analyzeModel(parse(text), { file: 'x', heatmap, lagSplit: splitter, lagChunkMinFlops: 0 });
        assert.strictEqual(splitter?.started ?? 1, 1, 'the table was split');
        return JSON.stringify({ ...r, elapsed_ms: 0 });
      };
      const alone = run();
      const model = parse(text);
      // Helpers first with some chunks (the caller takes the rest), all of them, or after the caller (none).
      for (const limits of [[1], [4], [7, 3], [Infinity], [2, Infinity], undefined]) {
        const threads = (limits?.length ?? 1) + 1;
        const split = run(new InProcessSplitter(threads, model, limits));
        assert.ok(split === alone, `helpers' claims ${limits}: the reports differ`);
      }
    });
  }

  it('a table whose traces stream from checkpoints (small trace budget) is neither chunked nor split', () => {
    const text = modelText('lstm', 10, 2, 120, 3);
    const options = { file: 'x', lagChunkMinFlops: 0, traceBytes: 40_000 };
    const model = parse(text);
    const splitter = new InProcessSplitter(2, model, [2]);
    const split = analyzeModel(model, { ...options, lagSplit: splitter });
    assert.strictEqual(splitter.started, 0);
    const whole = analyzeModel(parse(text), { ...options, traceBytes: undefined });
    assertSameLags(whole, split, 1e-12);
  });

  it('spectra as shared tasks: the same values as layerSpectra, whichever thread takes each', () => {
    for (const [cell, layers] of [
      ['rnn', 2],
      ['gru', 1],
    ] as const) {
      const model = parse(modelText(cell, 24, layers, 10, 1));
      const ref = layerSpectra(model, () => undefined);
      const tasks = spectraTasks(model);
      assert.strictEqual(tasks.length, cell === 'rnn' ? 2 * layers : layers);
      // Another thread computes every task; this one only reads them. And the other way round.
      const shared = newSpectraShared(model);
      const a = new SpectraClaims(model, shared);
      new SpectraClaims(model, shared).runAll(() => undefined);
      assert.deepStrictEqual(
        a.results(() => assert.fail('nothing left to wait for')),
        ref,
      );
      const other = newSpectraShared(model);
      assert.deepStrictEqual(
        new SpectraClaims(model, other).results(() => undefined),
        ref,
      );
    }
  });

  it('a small table is not split; a cancelled split run aborts the other threads', () => {
    const small = parse(modelText('rnn', 8, 1, 20));
    const s1 = new InProcessSplitter(2, small);
    analyzeModel(small, { file: 'x', lagSplit: s1 });
    assert.strictEqual(s1.started, 0);
    const big = parse(modelText('rnn', 16, 1, 300));
    const s2 = new InProcessSplitter(2, big);
    let calls = 0;
    assert.throws(
      () => analyzeModel(big, { file: 'x', lagSplit: s2, lagChunkMinFlops: 0, isCancelled: () => ++calls > 50 }),
      /cancelled/,
    );
    assert.strictEqual(s2.started, 1);
    assert.strictEqual(s2.aborted, 1);
  });
});
