// The analysis refuses, with a message on `data`, a model that would not fit in memory even streamed: weights
// that alone exceed the limit, or, for a bidirectional stack, a sequence so long that what the streamed passes
// keep for every step does. A sequence whose forward trace and lag buffers exceed the limit is streamed
// (checkpoints, column passes) instead; a unidirectional stack keeps only checkpoints, whatever its length.
import * as assert from 'assert';
import { runAnalysis } from '../../../src/worker/runAnalysis';
import {
  analysisBytesParts,
  DEFAULT_TRACE_BYTES,
  estimateAnalysisBytes,
  MAX_ANALYSIS_BYTES,
  streamedBytes,
  tooLargeMessage,
} from '../../../src/engine/memory';
import { parseModel } from '../../../src/engine/model/parse';
import type { Model } from '../../../src/engine/model/types';

/** The model with sequences of these lengths (lengths only: nothing is run or allocated for them). */
function withLengths(m: Model, lengths: number[]): Model {
  return { ...m, sequences: lengths.map((length) => ({ length }) as Model['sequences'][number]) };
}

const hooks = { isCancelled: () => false, progress: () => undefined };

function modelText(length: number, hidden: number): string {
  return `{
  "cell": "lstm", "input_size": 1, "hidden_size": ${hidden}, "num_layers": 2,
  "init": { "scheme": "pytorch", "seed": 1 },
  "data": { "generate": { "sequences": 1, "length": ${length}, "seed": 2 } }
}`;
}

describe('memory bound', () => {
  it('refuses, naming data, a bidirectional sequence whose streamed passes exceed the limit, before allocating it', async () => {
    const text = modelText(2_000_000, 512).replace('"num_layers": 2,', '"num_layers": 2, "bidirectional": true,');
    const result = await runAnalysis(
      { text, filePath: '/tmp/x.rnn.json', rootDir: '/tmp', displayPath: 'x.rnn.json' },
      hooks,
    );
    assert.strictEqual(result.ok, false);
    if (result.ok) return;
    assert.strictEqual(result.problems.length, 1);
    const p = result.problems[0];
    assert.deepStrictEqual(p.path, ['data']);
    assert.match(
      p.message,
      /^data: the longest sequence \(2000000 steps, hidden size 512, 2 bidirectional layers\) needs about [\d.]+ GB even streamed from checkpoints: a reverse direction's backward pass runs the other way, so its layers' outputs and their gradients are kept for every step \([\d.]+ GB\), more than the 3\.0 GB limit; shorter sequences \(or fewer layers, a smaller hidden_size, or a unidirectional stack, which streams in checkpoints\) lower it$/,
    );
    assert.strictEqual(text.slice(p.range.offset, p.range.offset + p.range.length), '"data"');
  });

  it('does not refuse a unidirectional sequence of any length: it keeps only checkpoints every ≈√T steps', () => {
    for (const [cell, hidden, input, layers, extra] of [
      ['lstm', 512, 16, 1, ''],
      ['rnn', 128, 16, 1, ''],
      ['gru', 256, 16, 3, ''],
      ['lstm', 256, 16, 2, '"proj_size": 64,'],
    ] as const) {
      const text = `{ "cell": "${cell}", "input_size": ${input}, "hidden_size": ${hidden}, "num_layers": ${layers}, ${extra}
        "init": { "scheme": "pytorch", "seed": 1 }, "data": { "generate": { "sequences": 1, "length": 10, "seed": 2 } } }`;
      const base = parseModel(text).model;
      assert.ok(base, text);
      for (const T of [150_000, 2_000_000, 20_000_000]) {
        const m = withLengths(base, [T]);
        const s = streamedBytes(m, 100);
        assert.ok(s.checkpointed, `${cell} ${T}: checkpointed`);
        assert.strictEqual(s.kept, 0, `${cell} ${T}: nothing kept per step`);
        assert.strictEqual(tooLargeMessage(m, 100), null, `${cell} ${T}`);
        // Its bidirectional twin keeps each layer's outputs and gradients for every step: refused when long.
        const bi = withLengths({ ...base, bidirectional: true, layers: [...base.layers, ...base.layers] }, [T]);
        assert.ok(streamedBytes(bi, 100).kept > 0);
        if (T === 20_000_000) assert.match(tooLargeMessage(bi, 100) ?? '', /a reverse direction's backward pass runs/);
      }
    }
  });

  it('analyzes a model that the whole-trace estimate refused: its trace and lag rows stream within the budget', () => {
    // One lstm sequence of 100,000 steps, H = 512: its forward trace and lag buffers are several GB at once.
    const base = parseModel(modelText(10, 512).replace('"num_layers": 2', '"num_layers": 1')).model;
    assert.ok(base);
    const m = withLengths(base, [100_000]);
    const whole = analysisBytesParts(m, null);
    assert.ok(whole.trace + whole.lags > MAX_ANALYSIS_BYTES, `whole: ${whole.trace} + ${whole.lags}`);
    const s = streamedBytes(m, null);
    assert.ok(s.checkpointed, 'the trace is recomputed from checkpoints');
    // A window of √T steps and the checkpoints, not the whole trace; the pending rows within the budget.
    assert.ok(s.trace < whole.trace / 50, `${s.trace} vs ${whole.trace}`);
    assert.ok(s.lags <= DEFAULT_TRACE_BYTES, `${s.lags}`);
    assert.ok(s.passes > 1, `${s.passes} passes`);
    assert.ok(s.kept + s.trace + s.lags < MAX_ANALYSIS_BYTES, JSON.stringify(s));
    assert.strictEqual(tooLargeMessage(m, null), null);
    // With a smaller trace budget the recursion holds less.
    const small = streamedBytes(m, null, 16 * 2 ** 20);
    assert.ok(small.lags < s.lags && small.passes > s.passes, JSON.stringify(small));
  });

  it('a lag cap lowers the pending rows (one pass when they fit)', () => {
    const base = parseModel(modelText(10, 64)).model;
    assert.ok(base);
    const m = withLengths(base, [50_000]);
    const capped = streamedBytes(m, 100);
    assert.strictEqual(capped.passes, 1);
    assert.ok(capped.lags < streamedBytes(m, null).lags);
  });

  it('refuses weights that alone exceed the limit, with their size', () => {
    const m = parseModel(modelText(10, 8)).model;
    assert.ok(m);
    // As if weight_hh were 4·9000 × 9000 (the figures only: no such array is allocated here).
    const huge = {
      ...m,
      layers: m.layers.map((w) => ({ ...w, weightHh: { ...w.weightHh, data: { length: 4 * 9000 * 9000 } } })),
    };
    assert.match(
      tooLargeMessage(huge as unknown as typeof m, null) ?? '',
      /^the weights take 4\.8 GB \(14\.5 GB with their gradients\), more than the 3\.0 GB limit/,
    );
  });

  it('the B=512, T=1000, H=256 LSTM is not refused (its gradients stream block by block)', () => {
    const m = parseModel(
      '{ "cell": "lstm", "input_size": 16, "hidden_size": 256, "init": { "scheme": "pytorch", "seed": 1 }, "data": { "generate": { "sequences": 512, "length": 1000, "seed": 2 } } }',
    ).model;
    assert.ok(m);
    assert.strictEqual(tooLargeMessage(m, null), null);
  });

  it('estimates grow with the sequence length and stay under the limit for ordinary models', () => {
    const small = parseModel(modelText(1000, 64)).model;
    const large = parseModel(modelText(100000, 64)).model;
    assert.ok(small && large);
    const a = estimateAnalysisBytes(small, null);
    const b = estimateAnalysisBytes(large, null);
    assert.ok(a < MAX_ANALYSIS_BYTES && a > 1000 * 64 * 8, String(a));
    assert.ok(b > 50 * a, `${a} ${b}`);
    assert.ok(estimateAnalysisBytes(large, 10) < b, 'a lag cap lowers the estimate');
  });

  it('counts both directions of a bidirectional stack, the chunk buffers, and the narrower projected state', () => {
    const text = (extra: string): string =>
      modelText(1000, 64).replace('"num_layers": 2,', `"num_layers": 2, ${extra}`);
    const uni = parseModel(text('')).model;
    const bi = parseModel(text('"bidirectional": true,')).model;
    const proj = parseModel(text('"proj_size": 8,')).model;
    assert.ok(uni && bi && proj);
    const [a, b, p] = [uni, bi, proj].map((m) => estimateAnalysisBytes(m, null));
    // Two directions per layer: the trace and lag buffers more than double, plus the chunked recursion's bound.
    assert.ok(b > 2 * a, `${a} ${b}`);
    assert.ok(p < a, `projections narrow the state: ${p} vs ${a}`);
  });
});
